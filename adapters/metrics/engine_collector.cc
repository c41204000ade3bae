#include "adapters/metrics/engine_collector.h"

#include <string>

#include "adapters/metrics/metric_families.h"
#include "engine/lifecycle_rules.h"

namespace ordersync {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr double kNsToSeconds = 1e-9;
constexpr double kMsToSeconds = 1e-3;

double D(uint64_t v) { return static_cast<double>(v); }

}  // namespace

EngineCollector::EngineCollector(const Engine* engine, const StoreScanner* scanner, const SloRecorder* slo,
                                 BuildInfo build)
    : engine_(engine), scanner_(scanner), slo_(slo), build_(std::move(build)) {}

std::vector<MetricFamily> EngineCollector::Collect() const {
  std::vector<MetricFamily> out;
  out.reserve(48);
  AddSample(&AddFamily(&out, "ordersync_build_info", "Build and key settings of this ordersync process (value 1).",
                       MetricType::Gauge),
            1, {{"version", build_.version}, {"durability", build_.durability}, {"bill_on", build_.bill_on}});
  if (engine_ != nullptr) CollectEngine(&out);
  if (scanner_ != nullptr) CollectScan(&out);
  if (slo_ != nullptr) CollectSlo(&out);
  return out;
}

void EngineCollector::CollectEngine(std::vector<MetricFamily>* out) const {
  const EngineStats s = engine_->Stats();
  AddSample(&AddFamily(out, "ordersync_events_received_total",
                       "Events the engine took off its partition queues (validated and admitted).",
                       MetricType::Counter),
            D(s.events_processed));
  {
    MetricFamily& f = AddFamily(out, "ordersync_events_accepted_total",
                                "Events durably accepted, by what happened on arrival: applied, parked (waiting for "
                                "a prerequisite) or excepted (in the exception queue).",
                                MetricType::Counter);
    AddSample(&f, D(s.events_applied), {{"outcome", "applied"}});
    AddSample(&f, D(s.events_parked), {{"outcome", "parked"}});
    AddSample(&f, D(s.events_excepted_on_arrival), {{"outcome", "excepted"}});
  }
  {
    MetricFamily& f = AddFamily(out, "ordersync_events_duplicate_total",
                                "Duplicates dropped: exact (same event_id) or business (same fact, other event_id).",
                                MetricType::Counter);
    AddSample(&f, D(s.duplicates_exact), {{"kind", "exact"}});
    AddSample(&f, D(s.duplicates_business), {{"kind", "business"}});
  }
  {
    MetricFamily& f = AddFamily(out, "ordersync_events_busy_total",
                                "Events refused with Busy by the engine: the partition queue was full, or the "
                                "event's ERP target is backlogged.",
                                MetricType::Counter);
    AddSample(&f, D(s.busy_queue_full), {{"reason", "queue_full"}});
    AddSample(&f, D(s.busy_target_blocked), {{"reason", "target_blocked"}});
  }
  AddSample(&AddFamily(out, "ordersync_events_unparked_total", "Parked events applied once their prerequisite arrived.",
                       MetricType::Counter),
            D(s.events_unparked));
  AddSample(&AddFamily(out, "ordersync_park_timeouts_total",
                       "Parked events that waited past their park timeout and became exceptions.",
                       MetricType::Counter),
            D(s.park_timeouts));
  AddSample(&AddFamily(out, "ordersync_parked_events", "Events parked now, waiting for a prerequisite.",
                       MetricType::Gauge),
            static_cast<double>(s.parked_now));
  {
    MetricFamily& f = AddFamily(out, "ordersync_exceptions_total",
                                "Events recorded in the exception queue, by the stage that refused them and the "
                                "failure class.",
                                MetricType::Counter);
    for (size_t st = 0; st < kExceptionStages.size(); ++st) {
      for (size_t c = 0; c < kExceptionClasses; ++c) {
        AddSample(&f, D(s.exceptions[st][c]),
                  {{"stage", kExceptionStages[st]}, {"class", FailureClassName(static_cast<FailureClass>(c))}});
      }
    }
  }
  AddSample(&AddFamily(out, "ordersync_erp_commands_issued_total",
                       "ERP commands the engine wrote to the outbox.", MetricType::Counter),
            D(s.commands_emitted));
  AddSample(&AddFamily(out, "ordersync_queued_events", "Events admitted and not yet processed, all partitions.",
                       MetricType::Gauge),
            D(s.queued));
  {
    MetricFamily& f = AddFamily(out, "ordersync_partition_queue_depth",
                                "Events admitted and not yet processed, per partition.", MetricType::Gauge);
    const uint32_t partitions = engine_->options().partitions;
    f.metric.reserve(partitions);
    for (uint32_t p = 0; p < partitions; ++p) {
      const std::string label = std::to_string(p);
      AddSample(&f, engine_->QueueDepth(p), {{"partition", label}});
    }
  }
  AddHistogram(&AddFamily(out, "ordersync_group_commit_batch_events",
                          "Events per group commit (one RocksDB WriteBatch).", MetricType::Histogram),
               s.batch_events_hist, 1.0);
  AddHistogram(&AddFamily(out, "ordersync_group_commit_duration_seconds",
                          "Time to write one group commit to the store.", MetricType::Histogram),
               s.commit_latency_ns, kNsToSeconds);
  AddSample(&AddFamily(out, "ordersync_group_commit_failures_total",
                       "Group commits the store refused (their events were answered store_error).",
                       MetricType::Counter),
            D(s.batch_failures));
  AddSample(&AddFamily(out, "ordersync_order_cache_misses_total", "Orders read from the store (not in the cache).",
                       MetricType::Counter),
            D(s.order_cache_misses));
  AddSample(&AddFamily(out, "ordersync_dedup_store_lookups_total",
                       "Event ids looked up in the store (not answered by the dedup cache).", MetricType::Counter),
            D(s.dedup_store_lookups));
}

void EngineCollector::CollectScan(std::vector<MetricFamily>* out) const {
  const ScanSnapshot s = scanner_->Snapshot();
  AddSample(&AddFamily(out, "ordersync_scan_last_success_timestamp_seconds",
                       "When the store scan behind the queue and at-risk gauges last finished (Unix time).",
                       MetricType::Gauge),
            s.valid ? static_cast<double>(s.scanned_at_ns) * kNsToSeconds : 0);
  AddSample(&AddFamily(out, "ordersync_scan_duration_seconds", "How long the last store scan took.",
                       MetricType::Gauge),
            s.duration_s);
  AddSample(&AddFamily(out, "ordersync_scan_truncated",
                       "1 if the last scan stopped at metrics.scan_max_entries in some table.", MetricType::Gauge),
            s.truncated ? 1 : 0);
  AddSample(&AddFamily(out, "ordersync_scan_errors_total", "Store scans that failed.", MetricType::Counter),
            D(s.scan_errors));
  if (!s.valid) return;  // no figures yet: leave the gauges out rather than report zeros
  {
    MetricFamily& depth = AddFamily(out, "ordersync_outbox_depth",
                                    "ERP commands in the outbox (not yet acknowledged), per target.",
                                    MetricType::Gauge);
    for (const auto& [target, t] : s.targets) AddSample(&depth, D(t.outbox_depth), {{"target", target}});
    MetricFamily& age = AddFamily(out, "ordersync_outbox_oldest_command_age_seconds",
                                  "Age of the oldest unposted command in the outbox, per target (0 when empty).",
                                  MetricType::Gauge);
    for (const auto& [target, t] : s.targets) {
      const double a = t.oldest_issued_at_ns == 0
                           ? 0
                           : std::max(0.0, static_cast<double>(s.scanned_at_ns - t.oldest_issued_at_ns) * kNsToSeconds);
      AddSample(&age, a, {{"target", target}});
    }
    MetricFamily& dlq = AddFamily(out, "ordersync_erp_dlq_depth", "Dead-lettered ERP commands, per target.",
                                  MetricType::Gauge);
    for (const auto& [target, t] : s.targets) AddSample(&dlq, D(t.dead_letters), {{"target", target}});
  }
  {
    MetricFamily& f = AddFamily(out, "ordersync_exceptions_pending",
                                "Events in the exception queue awaiting attention, by failure class.",
                                MetricType::Gauge);
    for (size_t c = 0; c < kExceptionClasses; ++c) {
      AddSample(&f, D(s.exceptions_by_class[c]), {{"class", FailureClassName(static_cast<FailureClass>(c))}});
    }
  }
  AddSample(&AddFamily(out, "ordersync_orders_at_risk",
                       "Orders with an event parked past slo.parked_s, a pending exception, a command "
                       "unposted past slo.outbox_age_s or a dead-lettered command (each order once).",
                       MetricType::Gauge),
            D(s.orders_at_risk));
  {
    MetricFamily& f = AddFamily(out, "ordersync_orders_at_risk_by_reason",
                                "Orders at risk, by reason (an order may count under several).", MetricType::Gauge);
    AddSample(&f, D(s.orders_at_risk_parked), {{"reason", "parked"}});
    AddSample(&f, D(s.orders_at_risk_exception), {{"reason", "exception"}});
    AddSample(&f, D(s.orders_at_risk_outbox), {{"reason", "outbox"}});
    AddSample(&f, D(s.orders_at_risk_dead_letter), {{"reason", "dead_letter"}});
  }
  AddSample(&AddFamily(out, "ordersync_shipments_pending_erp_posting",
                       "Goods issues (shipments) in the outbox, not yet acknowledged by the ERP.", MetricType::Gauge),
            D(s.shipments_pending_posting));
  AddSample(&AddFamily(out, "ordersync_returns_awaiting_credit",
                       "Credit memos (returns) in the outbox, not yet acknowledged by the ERP.", MetricType::Gauge),
            D(s.returns_awaiting_credit));
  AddSample(&AddFamily(out, "ordersync_quarantine_records", "Rejected inbound frames kept in the quarantine.",
                       MetricType::Gauge),
            D(s.quarantine_records));
  AddSample(&AddFamily(out, "ordersync_quarantine_bytes", "Stored size of the quarantine.", MetricType::Gauge),
            D(s.quarantine_bytes));
}

void EngineCollector::CollectSlo(std::vector<MetricFamily>* out) const {
  const auto series = slo_->Read();
  MetricFamily& ots = AddFamily(out, "ordersync_order_to_ship_seconds",
                                "Order accepted (occurred_at) to ERP acknowledgement of its goods issue, per target.",
                                MetricType::Histogram);
  for (const auto& s : series) AddHistogram(&ots, s.order_to_ship_ms, kMsToSeconds, {{"target", s.target}});
  MetricFamily& sti = AddFamily(out, "ordersync_ship_to_invoice_seconds",
                                "Shipment (occurred_at of the invoicing milestone) to ERP acknowledgement of the "
                                "invoice, per target.",
                                MetricType::Histogram);
  for (const auto& s : series) AddHistogram(&sti, s.ship_to_invoice_ms, kMsToSeconds, {{"target", s.target}});
}

}  // namespace ordersync
