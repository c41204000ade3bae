#include "adapters/metrics/observability.h"

#include <algorithm>
#include <map>

#include <prometheus/text_serializer.h>

#include "adapters/config/option_names.h"
#include "adapters/metrics/engine_collector.h"
#include "adapters/metrics/metric_families.h"

namespace ordersync {

std::vector<std::string> Observability::TargetNames(const AppConfig& config) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& t) {
    if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  };
  for (const ErpTargetOptions& t : config.erp.targets) add(t.name);
  for (const RouteRule& r : config.engine.routing.rules) add(r.target);
  add(config.engine.routing.default_target);
  return out;
}

Observability::Observability(const AppConfig& config, const Engine* engine, StateStore* store, std::string version,
                             const Clock* clock, SloRecorder* slo)
    : own_slo_(slo == nullptr ? std::make_unique<SloRecorder>(TargetNames(config)) : nullptr),
      slo_(slo != nullptr ? slo : own_slo_.get()),
      scanner_(store, clock, config.metrics, config.slo, TargetNames(config)) {
  spdlog::level::level_enum level = spdlog::default_logger()->level();
  event_log_ = std::make_unique<EventLogger>(
      EventLoggerOptions{config.log.format, config.log.rate_limit_per_s, config.log.rate_limit_burst},
      spdlog::default_logger()->sinks(), level);
  BuildInfo build{std::move(version), std::string(DurabilityName(config.engine.durability)),
                  std::string(BillOnName(config.engine.bill_on))};
  collectors_.push_back(std::make_shared<EngineCollector>(engine, &scanner_, slo_, std::move(build)));
  EventLogger* log = event_log_.get();
  collectors_.push_back(std::make_shared<FunctionCollector>([log](std::vector<prometheus::MetricFamily>* out) {
    auto& f = AddFamily(out, "ordersync_log_messages_suppressed_total",
                        "Event log lines suppressed by the log rate limit, by message kind.",
                        prometheus::MetricType::Counter);
    // The kinds the code logs, at 0 until they move; any other kind as it appears.
    std::map<std::string, uint64_t> totals{{"exception", 0}, {"dead_letter", 0}, {"rejected_frame", 0}};
    for (const auto& [kind, n] : log->limiter().SuppressedTotals()) totals[kind] = n;
    for (const auto& [kind, n] : totals) AddSample(&f, static_cast<double>(n), {{"kind", kind}});
  }));
}

Observability::~Observability() { Stop(); }

Result<std::unique_ptr<Observability>> Observability::Start(const AppConfig& config, const Engine* engine,
                                                            StateStore* store, std::string version,
                                                            const Clock* clock, SloRecorder* slo) {
  std::unique_ptr<Observability> o(new Observability(config, engine, store, std::move(version), clock, slo));
  if (config.metrics.enabled) {
    auto server = MetricsServer::Start(config.metrics);
    if (!server.ok()) return server.status();
    o->server_ = std::move(server).value();
    for (const auto& c : o->collectors_) o->server_->Register(c);
  }
  EventLogger* log = o->event_log_.get();
  o->scanner_.SetAfterScan([log] { log->FlushSuppressed(); });
  if (engine != nullptr) o->scanner_.SetBeforeScan([engine] { return engine->Checkpoint(); });
  o->scanner_.SetEventLog(log);
  o->scanner_.Start();
  return o;
}

void Observability::AddCollector(std::shared_ptr<prometheus::Collectable> collector) {
  {
    std::lock_guard<std::mutex> lock(collectors_mu_);
    collectors_.push_back(collector);
  }
  if (server_) server_->Register(std::move(collector));
}

void Observability::Stop() {
  scanner_.Stop();
  server_.reset();
  if (event_log_) event_log_->FlushSuppressed();
}

std::string Observability::ScrapeText() const {
  std::vector<std::shared_ptr<prometheus::Collectable>> collectors;
  {
    std::lock_guard<std::mutex> lock(collectors_mu_);
    collectors = collectors_;
  }
  std::vector<prometheus::MetricFamily> families;
  for (const auto& c : collectors) {
    auto f = c->Collect();
    families.insert(families.end(), std::make_move_iterator(f.begin()), std::make_move_iterator(f.end()));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace ordersync
