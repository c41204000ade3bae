// `ordersync status`: the running engine at a glance — throughput, queue depths, parked
// and exception counts, per-target outbox / DLQ / circuit state and SLO health.
//
// Source, first that answers: the running engine's admin endpoint ([admin] endpoint,
// command "status", registered by `serve` with RegisterStatusAdminCommand), then its
// Prometheus endpoint ([metrics] listen_address, or --url, which skips the admin
// endpoint), each sampled twice `interval` apart for rates; if neither answers, the
// data dir (read-only; depths and at-risk counts only, no rates). The first line says
// which. `--watch` redraws every interval until interrupted.
//
// Thread-safety: call from one thread.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/config/app_config.h"
#include "adapters/metrics/prom_text.h"

namespace ordersync {

class AdminServer;
class Observability;

struct StatusOptions {
  std::string url;          // "" = http://<metrics.listen_address>/metrics
  std::string data_dir;     // fallback; "" = storage.data_dir
  double interval_s = 1.0;  // between the two scrapes (and --watch redraws)
  bool watch = false;
  bool json = false;
  int watch_rounds = 0;     // > 0: stop after that many redraws (tests)
};

// Renders one status screen from a scrape (`now`) and, for rates, an earlier one
// (`before`, `dt_s` seconds earlier; may be null). `source` names where it came from.
void FormatStatus(const PromSamples& now, const PromSamples* before, double dt_s, const SloOptions& slo,
                  const std::string& source, std::ostream& out);
// The same figures as one JSON object (StatusJson: also what the web console shows):
//   {"source", "version", "interval_s", "received_per_s", "applied_per_s", ... rates (null
//    without `before`), "ack_latency_p50_s", "ack_latency_p99_s" (over the interval),
//    "queued", "parked", "exceptions_pending", "exceptions_by_class", "quarantined",
//    "orders_at_risk", "orders_at_risk_by_reason", "outbox", "dlq", "slo", "slo_health"
//    ({"ship_to_invoice"|"order_to_ship"|"outbox_age": "ok"|"over_slo"|"no_data"}),
//    "targets": [{"target", "outbox", "oldest_s", "dlq", "in_flight", "backlog", "circuit"
//    (closed|half_open|open), "sent_per_s", "posted_per_s", "rejected_per_s", "retries_per_s"}]}
nlohmann::json StatusJson(const PromSamples& now, const PromSamples* before, double dt_s, const SloOptions& slo,
                          const std::string& source);
void FormatStatusJson(const PromSamples& now, const PromSamples* before, double dt_s, const SloOptions& slo,
                      const std::string& source, std::ostream& out);

// Registers the admin command "status" (read-only): result {"metrics": "<the Prometheus
// text exposition>"}, which RunStatus renders. `observability` must outlive `admin`'s Stop.
void RegisterStatusAdminCommand(AdminServer* admin, Observability* observability);

// Exit code: 0 ok, 1 neither the endpoint nor the data dir could be read.
int RunStatus(const AppConfig& config, const StatusOptions& options, std::ostream& out, std::ostream& err);

}  // namespace ordersync
