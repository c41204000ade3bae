#include "adapters/cli/status_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <thread>

#include <prometheus/text_serializer.h>

#include "adapters/admin/admin_client.h"
#include "adapters/admin/admin_server.h"
#include "adapters/metrics/engine_collector.h"
#include "adapters/metrics/observability.h"
#include "adapters/metrics/store_scanner.h"
#include "adapters/storage/rocksdb_store.h"

namespace ordersync {
namespace {

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string Seconds(double s) {
  if (std::isnan(s)) return "-";
  if (s < 1) return Fmt("%.0fms", s * 1000);
  if (s < 120) return Fmt("%.1fs", s);
  if (s < 7200) return Fmt("%.0fm", s / 60);
  if (s < 172800) return Fmt("%.1fh", s / 3600);
  return Fmt("%.1fd", s / 86400);
}

double Rate(const PromSamples& now, const PromSamples* before, double dt, std::string_view name,
            std::initializer_list<std::pair<std::string_view, std::string_view>> match = {}) {
  if (before == nullptr || dt <= 0) return NAN;
  return std::max(0.0, (now.Sum(name, match) - before->Sum(name, match)) / dt);
}

// Quantile q of histogram `name` over the observations made between `before` and `now`
// (their bucket counts subtracted); NaN without `before` or without observations.
double IntervalQuantile(const PromSamples& now, const PromSamples* before, std::string_view name, double q) {
  if (before == nullptr) return NAN;
  const std::string bucket = std::string(name) + "_bucket";
  PromSamples delta;
  for (const PromSample& s : now.samples) {
    if (s.name != bucket) continue;
    PromSample d = s;
    for (const PromSample& o : before->samples) {
      if (o.name == bucket && o.labels == s.labels) d.value -= o.value;
    }
    delta.samples.push_back(std::move(d));
  }
  if (delta.samples.empty()) return NAN;
  double total = 0;
  for (const PromSample& s : delta.samples) {
    if (s.labels.count("le") && s.labels.at("le") == "+Inf") total += s.value;
  }
  return total > 0 ? delta.Quantile(name, q) : NAN;
}

struct Figures {
  double received_rate, applied_rate, parked_rate, excepted_rate, dup_exact_rate, dup_business_rate, busy_rate;
  double ingress_rejected_rate, ingress_throttled_rate;
  double queued, parked, exceptions_pending, at_risk, at_risk_parked, at_risk_exception, at_risk_outbox,
      at_risk_dead_letter;
  double shipments_pending, returns_awaiting, quarantine;
  double sti_p95, ots_p95, oldest_outbox;
  double max_partition_depth;
  std::string max_partition;
  double ack_p50, ack_p99;  // over the interval between the two samples (NaN without traffic)
  double quarantined_rate;
  struct Target {
    std::string name;
    double outbox, oldest, dlq, in_flight, circuit, sent_rate;
    double backlog, posted_rate, rejected_rate, retries_rate;
  };
  std::vector<Target> targets;
};

Figures Compute(const PromSamples& n, const PromSamples* b, double dt) {
  Figures f{};
  f.received_rate = Rate(n, b, dt, "ordersync_events_received_total");
  f.applied_rate = Rate(n, b, dt, "ordersync_events_accepted_total", {{"outcome", "applied"}});
  f.parked_rate = Rate(n, b, dt, "ordersync_events_accepted_total", {{"outcome", "parked"}});
  f.excepted_rate = Rate(n, b, dt, "ordersync_events_accepted_total", {{"outcome", "excepted"}});
  f.dup_exact_rate = Rate(n, b, dt, "ordersync_events_duplicate_total", {{"kind", "exact"}});
  f.dup_business_rate = Rate(n, b, dt, "ordersync_events_duplicate_total", {{"kind", "business"}});
  f.busy_rate = Rate(n, b, dt, "ordersync_events_busy_total");
  f.ingress_rejected_rate = Rate(n, b, dt, "ordersync_ingress_events_rejected_total");
  f.ingress_throttled_rate = Rate(n, b, dt, "ordersync_ingress_events_throttled_total");
  f.queued = n.Sum("ordersync_queued_events");
  f.parked = n.Has("ordersync_parked_events") ? n.Sum("ordersync_parked_events") : NAN;
  f.exceptions_pending = n.Sum("ordersync_exceptions_pending");
  f.at_risk = n.Sum("ordersync_orders_at_risk");
  f.at_risk_parked = n.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "parked"}});
  f.at_risk_exception = n.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "exception"}});
  f.at_risk_outbox = n.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "outbox"}});
  f.at_risk_dead_letter = n.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "dead_letter"}});
  f.shipments_pending = n.Sum("ordersync_shipments_pending_erp_posting");
  f.returns_awaiting = n.Sum("ordersync_returns_awaiting_credit");
  f.quarantine = n.Sum("ordersync_quarantine_records");
  f.sti_p95 = n.Quantile("ordersync_ship_to_invoice_seconds", 0.95);
  f.ots_p95 = n.Quantile("ordersync_order_to_ship_seconds", 0.95);
  f.oldest_outbox = 0;
  for (const PromSample& s : n.samples) {
    if (s.name == "ordersync_outbox_oldest_command_age_seconds") f.oldest_outbox = std::max(f.oldest_outbox, s.value);
    if (s.name == "ordersync_partition_queue_depth" && s.value > f.max_partition_depth) {
      f.max_partition_depth = s.value;
      f.max_partition = s.labels.count("partition") ? s.labels.at("partition") : "";
    }
  }
  std::vector<std::string> names = n.LabelValues("ordersync_outbox_depth", "target");
  for (const std::string& t : n.LabelValues("ordersync_erp_in_flight", "target")) {
    if (std::find(names.begin(), names.end(), t) == names.end()) names.push_back(t);
  }
  for (const std::string& t : names) {
    const std::pair<std::string_view, std::string_view> m{"target", t};
    f.targets.push_back({t, n.Sum("ordersync_outbox_depth", {m}), n.Sum("ordersync_outbox_oldest_command_age_seconds", {m}),
                         n.Sum("ordersync_erp_dlq_depth", {m}),
                         n.Has("ordersync_erp_in_flight") ? n.Sum("ordersync_erp_in_flight", {m}) : NAN,
                         n.Has("ordersync_erp_circuit_state") ? n.Sum("ordersync_erp_circuit_state", {m}) : NAN,
                         Rate(n, b, dt, "ordersync_erp_commands_sent_total", {m}),
                         n.Has("ordersync_erp_backlog") ? n.Sum("ordersync_erp_backlog", {m}) : NAN,
                         Rate(n, b, dt, "ordersync_erp_acks_total", {m, {"status", "posted"}}) +
                             Rate(n, b, dt, "ordersync_erp_acks_total", {m, {"status", "already_posted"}}),
                         Rate(n, b, dt, "ordersync_erp_acks_total", {m, {"status", "rejected"}}),
                         Rate(n, b, dt, "ordersync_erp_retries_total", {m})});
  }
  f.ack_p50 = IntervalQuantile(n, b, "ordersync_ingress_ack_latency_seconds", 0.5);
  f.ack_p99 = IntervalQuantile(n, b, "ordersync_ingress_ack_latency_seconds", 0.99);
  f.quarantined_rate = Rate(n, b, dt, "ordersync_ingress_quarantined_total");
  return f;
}

std::string Num(double v, const char* f = "%.0f") { return std::isnan(v) ? "-" : Fmt(f, v); }

std::string CircuitName(double v) {
  if (std::isnan(v)) return "-";
  return v == 0 ? "closed" : v == 1 ? "half_open" : "OPEN";
}

std::string Health(double value, double slo) {
  if (std::isnan(value)) return "no data";
  return value <= slo ? "ok" : "OVER SLO";
}

}  // namespace

void FormatStatus(const PromSamples& now, const PromSamples* before, double dt_s, const SloOptions& slo,
                  const std::string& source, std::ostream& out) {
  const Figures f = Compute(now, before, dt_s);
  std::string version = "?";
  for (const PromSample& s : now.samples) {
    if (s.name == "ordersync_build_info" && s.labels.count("version")) version = s.labels.at("version");
  }
  out << "ordersync " << version << "  —  " << source << "\n";
  if (before != nullptr) {
    out << "throughput  " << Num(f.received_rate) << " ev/s in: applied " << Num(f.applied_rate) << ", parked "
        << Num(f.parked_rate) << ", excepted " << Num(f.excepted_rate) << ", duplicate " << Num(f.dup_exact_rate)
        << " exact + " << Num(f.dup_business_rate) << " business; busy " << Num(f.busy_rate) << "/s";
    if (!std::isnan(f.ingress_rejected_rate) && now.Has("ordersync_ingress_events_rejected_total")) {
      out << "; rejected " << Num(f.ingress_rejected_rate) << "/s, throttled " << Num(f.ingress_throttled_rate) << "/s";
    }
    out << "\n";
  } else {
    out << "throughput  - (no rates: not read from a running engine)\n";
  }
  out << "queues      queued " << Num(f.queued);
  if (!f.max_partition.empty()) out << " (deepest: partition " << f.max_partition << " with " << Num(f.max_partition_depth) << ")";
  out << " | parked " << Num(f.parked) << " | exceptions pending " << Num(f.exceptions_pending);
  for (const std::string& c : now.LabelValues("ordersync_exceptions_pending", "class")) {
    const double v = now.Sum("ordersync_exceptions_pending", {{"class", c}});
    if (v > 0) out << " " << c << "=" << Num(v);
  }
  out << " | quarantined " << Num(f.quarantine) << "\n";
  out << "business    shipments pending ERP posting " << Num(f.shipments_pending) << " | returns awaiting credit "
      << Num(f.returns_awaiting) << "\n";
  out << "ERP         target            outbox   oldest      dlq  in-flight  circuit    sent/s\n";
  for (const auto& t : f.targets) {
    char line[160];
    std::snprintf(line, sizeof(line), "            %-16s %7s %8s %8s %10s  %-9s %7s\n", t.name.c_str(),
                  Num(t.outbox).c_str(), Seconds(t.oldest).c_str(), Num(t.dlq).c_str(), Num(t.in_flight).c_str(),
                  CircuitName(t.circuit).c_str(), Num(t.sent_rate).c_str());
    out << line;
  }
  if (f.targets.empty()) out << "            (no targets reported yet)\n";
  out << "SLO         orders at risk " << Num(f.at_risk) << " (parked " << Num(f.at_risk_parked) << ", exception "
      << Num(f.at_risk_exception) << ", outbox " << Num(f.at_risk_outbox) << ", dead letter "
      << Num(f.at_risk_dead_letter) << ")\n";
  out << "            ship→invoice p95 " << Seconds(f.sti_p95) << " (SLO " << Seconds(static_cast<double>(slo.ship_to_invoice_s))
      << "): " << Health(f.sti_p95, static_cast<double>(slo.ship_to_invoice_s)) << " | order→ship p95 "
      << Seconds(f.ots_p95) << " (SLO " << Seconds(static_cast<double>(slo.order_to_ship_s))
      << "): " << Health(f.ots_p95, static_cast<double>(slo.order_to_ship_s)) << "\n";
  out << "            oldest unposted command " << Seconds(f.oldest_outbox) << " (SLO "
      << Seconds(static_cast<double>(slo.outbox_age_s)) << "): "
      << Health(f.oldest_outbox, static_cast<double>(slo.outbox_age_s)) << "\n";
}

nlohmann::json StatusJson(const PromSamples& now, const PromSamples* before, double dt_s, const SloOptions& slo,
                          const std::string& source) {
  const Figures f = Compute(now, before, dt_s);
  // Whole numbers as integers ("orders_at_risk":2), NaN (not measured) as null.
  auto num = [](double v) -> nlohmann::json {
    if (std::isnan(v)) return nullptr;
    if (v == std::floor(v) && std::fabs(v) < 9e15) return static_cast<int64_t>(v);
    return std::stod(Fmt("%.6g", v));
  };
  auto health = [&](double value, double limit) -> std::string {
    return std::isnan(value) ? "no_data" : value <= limit ? "ok" : "over_slo";
  };
  std::string version;
  for (const PromSample& s : now.samples) {
    if (s.name == "ordersync_build_info" && s.labels.count("version")) version = s.labels.at("version");
  }
  nlohmann::json j;
  j["source"] = source;
  j["version"] = version;
  j["interval_s"] = num(before != nullptr ? dt_s : NAN);
  j["received_per_s"] = num(f.received_rate);
  j["applied_per_s"] = num(f.applied_rate);
  j["parked_per_s"] = num(f.parked_rate);
  j["excepted_per_s"] = num(f.excepted_rate);
  j["duplicate_exact_per_s"] = num(f.dup_exact_rate);
  j["duplicate_business_per_s"] = num(f.dup_business_rate);
  j["busy_per_s"] = num(f.busy_rate);
  j["rejected_per_s"] = num(now.Has("ordersync_ingress_events_rejected_total") ? f.ingress_rejected_rate : NAN);
  j["throttled_per_s"] = num(now.Has("ordersync_ingress_events_throttled_total") ? f.ingress_throttled_rate : NAN);
  j["ack_latency_p50_s"] = num(f.ack_p50);
  j["ack_latency_p99_s"] = num(f.ack_p99);
  j["queued"] = num(f.queued);
  j["deepest_partition"] = f.max_partition.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.max_partition);
  j["deepest_partition_depth"] = num(f.max_partition_depth);
  j["parked"] = num(f.parked);
  j["exceptions_pending"] = num(f.exceptions_pending);
  nlohmann::json by_class = nlohmann::json::object();
  for (const std::string& c : now.LabelValues("ordersync_exceptions_pending", "class")) {
    by_class[c] = num(now.Sum("ordersync_exceptions_pending", {{"class", c}}));
  }
  j["exceptions_by_class"] = by_class;
  j["quarantined"] = num(f.quarantine);
  j["orders_at_risk"] = num(f.at_risk);
  j["orders_at_risk_by_reason"] = {{"parked", num(f.at_risk_parked)},
                                   {"exception", num(f.at_risk_exception)},
                                   {"outbox", num(f.at_risk_outbox)},
                                   {"dead_letter", num(f.at_risk_dead_letter)}};
  j["shipments_pending_erp_posting"] = num(f.shipments_pending);
  j["returns_awaiting_credit"] = num(f.returns_awaiting);
  j["ship_to_invoice_p95_s"] = num(f.sti_p95);
  j["order_to_ship_p95_s"] = num(f.ots_p95);
  j["oldest_unposted_command_s"] = num(f.oldest_outbox);
  j["slo"] = {{"ship_to_invoice_s", slo.ship_to_invoice_s},
              {"order_to_ship_s", slo.order_to_ship_s},
              {"outbox_age_s", slo.outbox_age_s},
              {"parked_s", slo.parked_s}};
  j["slo_health"] = {{"ship_to_invoice", health(f.sti_p95, static_cast<double>(slo.ship_to_invoice_s))},
                     {"order_to_ship", health(f.ots_p95, static_cast<double>(slo.order_to_ship_s))},
                     {"outbox_age", health(f.oldest_outbox, static_cast<double>(slo.outbox_age_s))}};
  nlohmann::json targets = nlohmann::json::array();
  double outbox = 0, dlq = 0;
  for (const auto& t : f.targets) {
    outbox += t.outbox;
    dlq += t.dlq;
    targets.push_back({{"target", t.name},
                       {"outbox", num(t.outbox)},
                       {"oldest_s", num(t.oldest)},
                       {"dlq", num(t.dlq)},
                       {"in_flight", num(t.in_flight)},
                       {"backlog", num(t.backlog)},
                       {"circuit", CircuitName(t.circuit) == "OPEN" ? "open" : CircuitName(t.circuit)},
                       {"sent_per_s", num(t.sent_rate)},
                       {"posted_per_s", num(t.posted_rate)},
                       {"rejected_per_s", num(t.rejected_rate)},
                       {"retries_per_s", num(t.retries_rate)}});
  }
  j["outbox"] = num(outbox);
  j["dlq"] = num(dlq);
  j["targets"] = targets;
  return j;
}

void FormatStatusJson(const PromSamples& now, const PromSamples* before, double dt_s, const SloOptions& slo,
                      const std::string& source, std::ostream& out) {
  out << StatusJson(now, before, dt_s, slo, source).dump() << "\n";
}

namespace {

// Scrape of the data dir: the store-scan gauges only, through the same collector code.
Result<PromSamples> ReadDataDir(const AppConfig& config, const std::string& data_dir) {
  StorageOptions storage = config.storage;
  storage.data_dir = data_dir;
  auto store = RocksDbStore::OpenReadOnly(storage);
  if (!store.ok()) return store.status();
  StoreScanner scanner(store->get(), SystemClock::Default(), config.metrics, config.slo, {});
  ORDERSYNC_RETURN_IF_ERROR(scanner.ScanOnce());
  EngineCollector collector(nullptr, &scanner, nullptr, BuildInfo{"(data dir)", "", ""});
  return ParsePromText(prometheus::TextSerializer().Serialize(collector.Collect()));
}

}  // namespace

void RegisterStatusAdminCommand(AdminServer* admin, Observability* observability) {
  admin->Register("status", {"the engine's metrics (Prometheus text) for `ordersync status`", false,
                             [observability](const nlohmann::json&) -> Result<nlohmann::json> {
                               return nlohmann::json{{"metrics", observability->ScrapeText()}};
                             }});
}

int RunStatus(const AppConfig& config, const StatusOptions& options, std::ostream& out, std::ostream& err) {
  const std::string url = options.url.empty() ? "http://" + config.metrics.listen_address + "/metrics" : options.url;
  std::string host, path;
  int port = 0;
  if (!SplitHttpUrl(url, &host, &port, &path)) {
    err << "ordersync status: bad metrics URL '" << url << "'\n";
    return 1;
  }
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  const auto interval = std::chrono::milliseconds(static_cast<int64_t>(options.interval_s * 1000));
  // The admin endpoint first (unless --url was given), then the metrics endpoint.
  std::string source = url;
  bool use_admin = false;
  if (options.url.empty() && !config.admin.endpoint.empty()) {
    auto reply = AdminCall(config.admin.endpoint, "status", nlohmann::json::object(), "", std::chrono::milliseconds(1000));
    if (reply.ok() && reply->contains("metrics")) {
      use_admin = true;
      source = "admin endpoint " + config.admin.endpoint;
    }
  }
  auto scrape = [&]() -> Result<PromSamples> {
    if (use_admin) {
      auto reply =
          AdminCall(config.admin.endpoint, "status", nlohmann::json::object(), "", std::chrono::milliseconds(2000));
      if (!reply.ok()) return reply.status();
      return ParsePromText(reply->value("metrics", std::string()));
    }
    auto body = HttpGet(host, port, path, 2000);
    if (!body.ok()) return body.status();
    return ParsePromText(*body);
  };
  auto before = scrape();
  auto before_at = std::chrono::steady_clock::now();
  if (!before.ok()) {
    const std::string dir = options.data_dir.empty() ? config.storage.data_dir : options.data_dir;
    auto samples = ReadDataDir(config, dir);
    if (!samples.ok()) {
      err << "ordersync status: the engine's metrics at " << url << " are not reachable (" << before.status().ToString()
          << ") and the data dir " << dir << " cannot be read (" << samples.status().ToString() << ")\n";
      return 1;
    }
    const std::string source = "data dir " + dir + " (engine metrics not reachable at " + url + ")";
    if (options.json) FormatStatusJson(*samples, nullptr, 0, config.slo, source, out);
    else FormatStatus(*samples, nullptr, 0, config.slo, source, out);
    return 0;
  }
  for (int round = 1;; ++round) {
    std::this_thread::sleep_for(interval);
    auto now = scrape();
    const auto now_at = std::chrono::steady_clock::now();
    if (!now.ok()) {
      err << "ordersync status: " << source << ": " << now.status().ToString() << "\n";
      return 1;
    }
    const double dt = std::chrono::duration<double>(now_at - before_at).count();
    std::ostringstream screen;
    if (options.json) FormatStatusJson(*now, &*before, dt, config.slo, source, screen);
    else FormatStatus(*now, &*before, dt, config.slo, source, screen);
    if (options.watch && !options.json) out << "\033[H\033[2J";  // clear the terminal
    out << screen.str() << std::flush;
    if (!options.watch || (options.watch_rounds > 0 && round >= options.watch_rounds)) return 0;
    before = std::move(now);
    before_at = now_at;
  }
}

}  // namespace ordersync
