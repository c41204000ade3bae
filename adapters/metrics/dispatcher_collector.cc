#include "adapters/metrics/dispatcher_collector.h"

#include "adapters/metrics/erp_connector_families.h"
#include "adapters/metrics/metric_families.h"
#include "adapters/metrics/observability.h"

namespace ordersync {

double CircuitStateValue(const std::string& circuit) {
  if (circuit == "closed") return 0;
  if (circuit == "half_open") return 1;
  return 2;
}

std::shared_ptr<prometheus::Collectable> MakeDispatcherCollector(std::function<DispatcherStats()> read) {
  return std::make_shared<FunctionCollector>([read = std::move(read)](std::vector<prometheus::MetricFamily>* out) {
    using prometheus::MetricType;
    const DispatcherStats s = read();
    auto per_target = [&](const char* name, const char* help, MetricType type, auto value) {
      auto& f = AddFamily(out, name, help, type);
      for (const TargetStats& t : s.targets) AddSample(&f, static_cast<double>(value(t)), {{"target", t.name}});
    };
    per_target("ordersync_erp_commands_sent_total", "Attempts sent to the target (retries included).",
               MetricType::Counter, [](const TargetStats& t) { return t.sent; });
    per_target("ordersync_erp_retries_total", "Attempts after the first.", MetricType::Counter,
               [](const TargetStats& t) { return t.retries; });
    {
      auto& f = AddFamily(out, "ordersync_erp_acks_total", "Answers from the target, by status.", MetricType::Counter);
      for (const TargetStats& t : s.targets) {
        AddSample(&f, static_cast<double>(t.posted), {{"target", t.name}, {"status", "posted"}});
        AddSample(&f, static_cast<double>(t.already_posted), {{"target", t.name}, {"status", "already_posted"}});
        AddSample(&f, static_cast<double>(t.transient_errors), {{"target", t.name}, {"status", "transient"}});
        AddSample(&f, static_cast<double>(t.rejected), {{"target", t.name}, {"status", "rejected"}});
      }
    }
    {
      auto& f = AddFamily(out, "ordersync_erp_attempt_failures_total",
                          "Attempts that got no answer: timed out, or the target was not connected.",
                          MetricType::Counter);
      for (const TargetStats& t : s.targets) {
        AddSample(&f, static_cast<double>(t.timeouts), {{"target", t.name}, {"reason", "timeout"}});
        AddSample(&f, static_cast<double>(t.no_connection), {{"target", t.name}, {"reason", "no_connection"}});
      }
    }
    {
      auto& f = AddFamily(out, "ordersync_erp_post_latency_seconds",
                          "Time from sending an attempt to the target's answer (any status).", MetricType::Histogram);
      for (const TargetStats& t : s.targets) AddHistogram(&f, t.post_latency_ns, 1e-9, {{"target", t.name}});
    }
    per_target("ordersync_erp_auth_failures_total",
               "Attempts the ERP refused for our credentials or permissions (HTTP targets, failure class auth); "
               "each opens the circuit and none is dead-lettered.",
               MetricType::Counter, [](const TargetStats& t) { return t.auth_failures; });
    per_target("ordersync_erp_rate_limited_total", "Attempts the ERP answered 429 (rate limited; HTTP targets).",
               MetricType::Counter, [](const TargetStats& t) { return t.rate_limited; });
    per_target("ordersync_erp_retry_after_delays_total",
               "Retries held back to honour the ERP's Retry-After (HTTP targets).", MetricType::Counter,
               [](const TargetStats& t) { return t.retry_after_delays; });
    per_target("ordersync_erp_dead_lettered_total", "Commands moved to the dead-letter queue (any reason).",
               MetricType::Counter, [](const TargetStats& t) { return t.dead_lettered; });
    per_target("ordersync_erp_circuit_opened_total", "Times the target's circuit breaker opened.",
               MetricType::Counter, [](const TargetStats& t) { return t.circuit_opened; });
    per_target("ordersync_erp_circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
               MetricType::Gauge, [](const TargetStats& t) { return CircuitStateValue(t.circuit); });
    per_target("ordersync_erp_in_flight", "Commands sent and not yet answered.", MetricType::Gauge,
               [](const TargetStats& t) { return t.in_flight; });
    per_target("ordersync_erp_backlog", "Commands waiting for the target (window plus unread share), estimate.",
               MetricType::Gauge, [](const TargetStats& t) { return t.backlog; });
    per_target("ordersync_erp_ingress_blocked", "1 while the ingress answers Busy for events routed to the target.",
               MetricType::Gauge, [](const TargetStats& t) { return t.ingress_blocked ? 1 : 0; });
    auto one = [&](const char* name, const char* help, MetricType type, uint64_t v) {
      AddSample(&AddFamily(out, name, help, type), static_cast<double>(v));
    };
    one("ordersync_erp_window_commands", "Outbox commands the dispatcher holds in memory.", MetricType::Gauge,
        s.window);
    one("ordersync_erp_unread_commands", "Outbox commands not read by the dispatcher yet.", MetricType::Gauge,
        s.unread);
    one("ordersync_erp_acknowledged_total", "Commands removed from the outbox after Posted/AlreadyPosted.",
        MetricType::Counter, s.acknowledged);
    one("ordersync_erp_blocked_orders", "Orders blocked by a dead letter (their later commands wait).",
        MetricType::Gauge, s.blocked_orders);
    one("ordersync_erp_stale_acks_total", "Answers for commands no longer waiting for one.", MetricType::Counter,
        s.stale_acks);
    one("ordersync_erp_partitions_adopted", "Partitions whose commands this node dispatches (all on a single node).",
        MetricType::Gauge, s.partitions_adopted);
    one("ordersync_erp_dropped_not_owned_total",
        "Commands handed to the dispatcher for partitions this node does not own (cluster mode): dropped.",
        MetricType::Counter, s.dropped_not_owned);
    one("ordersync_erp_late_answers_ignored_total",
        "ERP answers to attempts of a partition released meanwhile (cluster mode): ignored.", MetricType::Counter,
        s.late_answers_ignored);
    AddErpConnectorFamilies(s, out);  // HTTP targets: the connectors' own counters
  });
}

}  // namespace ordersync
