// Observability: everything `ordersync serve` (and `demo`) runs to be observable, in one
// place so the commands only start and stop it:
//
//   - the Prometheus endpoint (MetricsServer) at [metrics] listen_address,
//   - EngineCollector (engine counters, queue depths, group-commit histograms),
//   - StoreScanner (outbox / DLQ / exception / quarantine depths, orders at risk) every
//     [metrics] scan_interval_s, on its own thread,
//   - SloRecorder (order-to-ship, ship-to-invoice histograms; the ERP dispatcher feeds
//     it through slo()),
//   - EventLogger (structured, rate-limited event lines; its suppressed lines are reported
//     after every scan and counted in ordersync_log_messages_suppressed_total).
//
// Other components add their own families with AddCollector (e.g. the ingress's and
// the dispatcher's stats objects, read at scrape time).
//
//   auto obs = Observability::Start(config, engine, store, "0.1.0");
//   if (!obs.ok()) ...;                               // the endpoint could not bind
//   spdlog::info("metrics: {}", (*obs)->url());
//   ...
//   (*obs)->Stop();                                   // before the engine stops
//
// Thread-safety: Start/Stop from the controlling thread; AddCollector, ScrapeText, slo()
// and event_log() from any thread. Engine and store must outlive it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "adapters/config/app_config.h"
#include "adapters/metrics/event_logger.h"
#include "adapters/metrics/metrics_server.h"
#include "adapters/metrics/slo_recorder.h"
#include "adapters/metrics/store_scanner.h"
#include "engine/engine.h"

namespace ordersync {

// A Collectable from a function, for stats objects read at scrape time.
class FunctionCollector final : public prometheus::Collectable {
 public:
  using Fn = std::function<void(std::vector<prometheus::MetricFamily>*)>;
  explicit FunctionCollector(Fn fn) : fn_(std::move(fn)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    fn_(&out);
    return out;
  }

 private:
  Fn fn_;
};

class Observability {
 public:
  // Starts the scanner and, when config.metrics.enabled, the endpoint. `clock` decides
  // ages (tests pass a ManualClock). `slo`: an SloRecorder made earlier (the dispatcher,
  // created before the engine, feeds it through DispatcherOptions::on_acknowledged); null
  // = one of its own. Fails if the endpoint cannot bind.
  static Result<std::unique_ptr<Observability>> Start(const AppConfig& config, const Engine* engine,
                                                      StateStore* store, std::string version,
                                                      const Clock* clock = SystemClock::Default(),
                                                      SloRecorder* slo = nullptr);
  ~Observability();

  void AddCollector(std::shared_ptr<prometheus::Collectable> collector);
  // Stops the scanner and the endpoint. Idempotent.
  void Stop();

  SloRecorder* slo() { return slo_; }
  EventLogger* event_log() { return event_log_.get(); }
  StoreScanner* scanner() { return &scanner_; }
  // The families a scrape returns now (tests, `status` fallbacks).
  std::string ScrapeText() const;
  // "" when the endpoint is disabled.
  std::string url() const { return server_ ? server_->url() : std::string(); }
  int port() const { return server_ ? server_->port() : 0; }

  // The ERP target names of the config: [erp.targets] and [routing].
  static std::vector<std::string> TargetNames(const AppConfig& config);

 private:
  Observability(const AppConfig& config, const Engine* engine, StateStore* store, std::string version,
                const Clock* clock, SloRecorder* slo);

  std::unique_ptr<SloRecorder> own_slo_;
  SloRecorder* slo_;
  StoreScanner scanner_;
  std::unique_ptr<EventLogger> event_log_;
  mutable std::mutex collectors_mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectors_;  // GUARDED_BY(collectors_mu_)
  std::unique_ptr<MetricsServer> server_;
};

}  // namespace ordersync
