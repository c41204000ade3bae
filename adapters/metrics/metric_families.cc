#include "adapters/metrics/metric_families.h"

#include <limits>

namespace ordersync {
namespace {

std::vector<prometheus::ClientMetric::Label> ToLabels(MetricLabels labels) {
  std::vector<prometheus::ClientMetric::Label> out;
  out.reserve(labels.size());
  for (const auto& [name, value] : labels) out.push_back({std::string(name), std::string(value)});
  return out;
}

}  // namespace

prometheus::MetricFamily& AddFamily(std::vector<prometheus::MetricFamily>* out, std::string name, std::string help,
                                    prometheus::MetricType type) {
  prometheus::MetricFamily& f = out->emplace_back();
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void AddSample(prometheus::MetricFamily* family, double value, MetricLabels labels) {
  prometheus::ClientMetric& m = family->metric.emplace_back();
  m.label = ToLabels(labels);
  switch (family->type) {
    case prometheus::MetricType::Counter: m.counter.value = value; break;
    case prometheus::MetricType::Gauge: m.gauge.value = value; break;
    default: m.untyped.value = value; break;
  }
}

void AddHistogram(prometheus::MetricFamily* family, const HistogramSnapshot& h, double scale, MetricLabels labels) {
  AddHistogram(family, h, scale, ToLabels(labels));
}

void AddHistogram(prometheus::MetricFamily* family, const HistogramSnapshot& h, double scale,
                  const std::vector<prometheus::ClientMetric::Label>& labels) {
  prometheus::ClientMetric& m = family->metric.emplace_back();
  m.label = labels;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    m.histogram.bucket.push_back({cumulative, static_cast<double>(h.bounds[i]) * scale});
  }
  cumulative += h.counts[h.bounds.size()];
  m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  // The count is the +Inf bucket, so the two can never disagree within one scrape.
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = static_cast<double>(h.sum) * scale;
}

}  // namespace ordersync
