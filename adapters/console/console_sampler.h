// ConsoleSampler: the overview's live figures and their recent history. Every
// `interval_s` it takes one scrape of the engine (the admin "status" command: the
// Prometheus text `ordersync status` reads) and turns it, with the previous scrape, into
// the figures of `ordersync status --json` (a `FiguresFn`, StatusJson in serve), so the
// rates are over the last interval. It keeps `history_s` worth of them for the charts.
//
//   ConsoleSampler sampler(scrape, figures, 2, 600);
//   sampler.Start();  ...  nlohmann::json j = sampler.Snapshot();  ...  sampler.Stop();
//
// Snapshot(): {"sample_interval_s", "latest": <figures, with "at_ns"> or null, "history":
// [<figures>...]} (oldest first; a history point keeps the figures the charts draw).
//
// Thread-safety: Start/Stop from one thread; Snapshot from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/metrics/prom_text.h"
#include "engine/status.h"

namespace ordersync {

class ConsoleSampler {
 public:
  using ScrapeFn = std::function<Result<std::string>()>;
  using FiguresFn = std::function<nlohmann::json(const PromSamples& now, const PromSamples* before, double dt_s)>;

  ConsoleSampler(ScrapeFn scrape, FiguresFn figures, uint32_t interval_s, uint32_t history_s);
  ~ConsoleSampler() { Stop(); }

  void Start();
  void Stop();  // idempotent
  // Takes one sample now (the thread does this every interval).
  void SampleOnce();

  nlohmann::json Snapshot() const;

 private:
  void Run();

  const ScrapeFn scrape_;
  const FiguresFn figures_;
  const uint32_t interval_s_;
  const size_t max_points_;

  std::optional<PromSamples> previous_;  // sampler thread only
  int64_t previous_at_ns_ = 0;           // sampler thread only

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  nlohmann::json latest_;                // GUARDED_BY(mu_)
  std::deque<nlohmann::json> history_;   // GUARDED_BY(mu_)
  std::string last_error_;               // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace ordersync
