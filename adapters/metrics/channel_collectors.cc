#include "adapters/metrics/channel_collectors.h"

#include "adapters/metrics/metric_families.h"
#include "adapters/metrics/observability.h"

namespace ordersync {

std::shared_ptr<prometheus::Collectable> MakeEdiCollector(std::function<EdiMetricsSnapshot()> read) {
  return std::make_shared<FunctionCollector>([read = std::move(read)](std::vector<prometheus::MetricFamily>* out) {
    using prometheus::MetricType;
    const EdiMetricsSnapshot s = read();
    auto counter = [out](const char* name, const char* help, uint64_t v) {
      AddSample(&AddFamily(out, name, help, MetricType::Counter), static_cast<double>(v));
    };
    {
      auto& f = AddFamily(out, "ordersync_edi_files_total", "X12 files taken in, by where they were moved.",
                          MetricType::Counter);
      AddSample(&f, static_cast<double>(s.files - s.files_rejected), {{"result", "processed"}});
      AddSample(&f, static_cast<double>(s.files_rejected), {{"result", "rejected"}});
    }
    counter("ordersync_edi_sets_total", "X12 transaction sets read.", s.sets);
    counter("ordersync_edi_sets_rejected_total", "X12 transaction sets rejected (own fault or their envelope's).",
            s.sets_rejected);
    {
      auto& f = AddFamily(out, "ordersync_edi_events_total", "Events mapped from X12 and made durable, by answer.",
                          MetricType::Counter);
      AddSample(&f, static_cast<double>(s.accepted), {{"status", "accepted"}});
      AddSample(&f, static_cast<double>(s.duplicate), {{"status", "duplicate"}});
    }
    {
      auto& f = AddFamily(out, "ordersync_edi_rejected_total",
                          "Rejected X12 parts (file, interchange, group, set) by reason family; quarantined.",
                          MetricType::Counter);
      for (const auto& [reason, n] : s.rejected_by_reason) AddSample(&f, static_cast<double>(n), {{"reason", reason}});
    }
    counter("ordersync_edi_acks_written_total", "997 functional acknowledgements written.", s.acks_written);
    counter("ordersync_edi_quarantined_total", "Quarantine records written for X12 input.", s.quarantined);
  });
}

std::shared_ptr<prometheus::Collectable> MakeHttpCollector(std::function<HttpMetricsSnapshot()> read) {
  return std::make_shared<FunctionCollector>([read = std::move(read)](std::vector<prometheus::MetricFamily>* out) {
    using prometheus::MetricType;
    const HttpMetricsSnapshot s = read();
    AddSample(&AddFamily(out, "ordersync_http_requests_total", "POST /v1/events requests.", MetricType::Counter),
              static_cast<double>(s.requests));
    {
      auto& f = AddFamily(out, "ordersync_http_events_total", "Events posted over HTTP, by the answer they got.",
                          MetricType::Counter);
      const std::pair<const char*, uint64_t> statuses[] = {{"Accepted", s.accepted}, {"Duplicate", s.duplicate},
                                                           {"Rejected", s.rejected}, {"Throttled", s.throttled},
                                                           {"Busy", s.busy}};
      for (const auto& [status, n] : statuses) AddSample(&f, static_cast<double>(n), {{"status", status}});
    }
    {
      auto& f = AddFamily(out, "ordersync_http_requests_refused_total", "Requests refused whole, by reason.",
                          MetricType::Counter);
      AddSample(&f, static_cast<double>(s.unauthorized), {{"reason", "unauthorized"}});
      AddSample(&f, static_cast<double>(s.bad_json), {{"reason", "invalid_json"}});
      AddSample(&f, static_cast<double>(s.too_large), {{"reason", "body_too_large"}});
    }
  });
}

}  // namespace ordersync
