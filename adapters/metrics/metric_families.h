// Helpers that build prometheus::MetricFamily values by hand, for collectors that read
// stats objects at scrape time (engine_collector.h and friends) instead of updating
// prometheus-cpp metric objects on the hot path.
//
//   std::vector<prometheus::MetricFamily> out;
//   auto& f = AddFamily(&out, "ordersync_events_duplicate_total", "Duplicates dropped.",
//                       prometheus::MetricType::Counter);
//   AddSample(&f, 12, {{"kind", "exact"}});
//   AddHistogram(&AddFamily(&out, "..._seconds", "...", prometheus::MetricType::Histogram),
//                snapshot, 1e-9);  // ns -> seconds
//
// Thread-safety: pure functions on caller-owned values.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

#include "engine/stats_histogram.h"

namespace ordersync {

using MetricLabels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// Appends an empty family to `out` and returns it (valid until `out` grows again).
prometheus::MetricFamily& AddFamily(std::vector<prometheus::MetricFamily>* out, std::string name, std::string help,
                                    prometheus::MetricType type);

// One sample of a counter, gauge or untyped family.
void AddSample(prometheus::MetricFamily* family, double value, MetricLabels labels = {});

// One histogram sample from `h`; bucket bounds and sum are multiplied by `scale` (e.g.
// 1e-9 for a histogram recorded in nanoseconds and exported in seconds).
void AddHistogram(prometheus::MetricFamily* family, const HistogramSnapshot& h, double scale,
                  MetricLabels labels = {});

// The same, with labels held in a vector (for label sets built at run time).
void AddHistogram(prometheus::MetricFamily* family, const HistogramSnapshot& h, double scale,
                  const std::vector<prometheus::ClientMetric::Label>& labels);

}  // namespace ordersync
