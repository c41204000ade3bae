#include "adapters/metrics/ingress_collector.h"

#include "adapters/metrics/metric_families.h"
#include "adapters/metrics/observability.h"

namespace ordersync {

std::shared_ptr<prometheus::Collectable> MakeIngressCollector(std::function<IngressStats()> read) {
  return std::make_shared<FunctionCollector>([read = std::move(read)](std::vector<prometheus::MetricFamily>* out) {
    using prometheus::MetricType;
    const IngressStats s = read();
    auto counter = [out](const char* name, const char* help, uint64_t v) {
      AddSample(&AddFamily(out, name, help, MetricType::Counter), static_cast<double>(v));
    };
    counter("ordersync_ingress_frames_received_total", "Envelope frames received (both endpoints).",
            s.frames_received);
    {
      auto& f = AddFamily(out, "ordersync_ingress_batches_received_total", "Messages (batches) received, by endpoint.",
                          MetricType::Counter);
      AddSample(&f, static_cast<double>(s.batches_received), {{"endpoint", "ack"}});
      AddSample(&f, static_cast<double>(s.pull_batches_received), {{"endpoint", "pull"}});
    }
    counter("ordersync_ingress_events_accepted_total", "Events durably accepted (applied, parked or excepted).",
            s.accepted);
    counter("ordersync_ingress_events_duplicate_total", "Events answered Duplicate.", s.duplicate);
    {
      // Every reason from the start (at 0), so rate() sees a reason's first rejection.
      auto& f = AddFamily(out, "ordersync_ingress_events_rejected_total",
                          "Frames rejected (validation, batch too large) by reason; quarantined.", MetricType::Counter);
      for (size_t i = 0; i < kIngressRejectReasons; ++i) {
        AddSample(&f, static_cast<double>(s.rejected_by_reason[i]), {{"reason", IngressRejectReasonName(i)}});
      }
    }
    {
      auto& f = AddFamily(out, "ordersync_ingress_events_throttled_total",
                          "Events over a rate limit, by source (sources of the rate-limit config, else other).",
                          MetricType::Counter);
      for (const auto& [source, n] : s.throttled_by_source) AddSample(&f, static_cast<double>(n), {{"source", source}});
    }
    counter("ordersync_ingress_events_busy_total", "Events refused by back-pressure (Busy).", s.busy);
    counter("ordersync_ingress_store_errors_total", "Events whose batch the store refused (answered Busy).",
            s.store_errors);
    counter("ordersync_ingress_auth_failures_total", "CURVE handshakes refused (unknown producer key).",
            s.curve_refused);
    counter("ordersync_ingress_acks_sent_total", "IngressAck replies sent.", s.acks_sent);
    counter("ordersync_ingress_acks_undeliverable_total", "Replies ZeroMQ could not route.", s.acks_undeliverable);
    counter("ordersync_ingress_quarantined_total", "Records written to the quarantine.", s.quarantined);
    counter("ordersync_ingress_quarantine_dropped_total", "Oldest quarantine records dropped to stay within caps.",
            s.quarantine_dropped);
    counter("ordersync_ingress_quarantine_errors_total", "Quarantine writes the store refused.", s.quarantine_errors);
    AddSample(&AddFamily(out, "ordersync_ingress_pending_batches",
                         "Acknowledged batches waiting for engine results.", MetricType::Gauge),
              static_cast<double>(s.pending_batches));
    AddHistogram(&AddFamily(out, "ordersync_ingress_ack_latency_seconds",
                            "Ack endpoint: a batch's receipt to its reply being sent.", MetricType::Histogram),
                 s.ack_latency_ns, 1e-9);
  });
}

}  // namespace ordersync
