// EngineCollector: a prometheus::Collectable that, at scrape time, reads the engine's
// counters (Engine::Stats(), Engine::QueueDepth), the latest StoreScanner snapshot and
// the SloRecorder histograms, and emits them as metric families. The event path pays
// nothing for this: workers keep their single-writer relaxed counters (engine_stats.h)
// either way; a scrape sums them (O(workers + partitions)).
//
// Metric names, labels and meaning: docs/operations.md ("Metrics"). Every labelled
// counter is emitted for all its label values from the start (0 until it moves), and no
// label carries an order, event or customer id.
//
// Thread-safety: Collect may run on any thread (the exposer's), concurrently with the
// engine. The engine, scanner and recorder must outlive the collector's registration.
#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "adapters/metrics/slo_recorder.h"
#include "adapters/metrics/store_scanner.h"
#include "engine/engine.h"

namespace ordersync {

struct BuildInfo {
  std::string version;
  std::string durability;  // engine.durability
  std::string bill_on;     // engine.bill_on
};

class EngineCollector final : public prometheus::Collectable {
 public:
  // `engine`, `scanner` and `slo` may be null (their metrics are then left out).
  EngineCollector(const Engine* engine, const StoreScanner* scanner, const SloRecorder* slo, BuildInfo build);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void CollectEngine(std::vector<prometheus::MetricFamily>* out) const;
  void CollectScan(std::vector<prometheus::MetricFamily>* out) const;
  void CollectSlo(std::vector<prometheus::MetricFamily>* out) const;

  const Engine* const engine_;
  const StoreScanner* const scanner_;
  const SloRecorder* const slo_;
  const BuildInfo build_;
};

}  // namespace ordersync
