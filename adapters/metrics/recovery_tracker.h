// RecoveryTracker: the integration recovery time of each ERP target — for every outage
// or circuit-open episode, the time from its start until the target's backlog is back
// to normal — from periodic samples of the dispatcher's TargetStats:
//
//   ordersync_erp_recovery_seconds{target}   histogram, one observation per episode
//   ordersync_erp_recovering{target}         1 while an episode is open
//   ordersync_erp_outage_episodes_total{target}
//
// An episode starts at the first sample where the circuit is not closed, or where
// attempts failed (transient errors, timeouts, refused sends) and none was answered
// Posted/AlreadyPosted since the previous sample. Its normal backlog is the larger of the
// backlog before it began and `normal_backlog`. It ends at the first later sample where
// the circuit is closed, the ERP answered again (or nothing failed) and the backlog is
// at or below that normal level; the time between the two samples is observed (so the
// resolution is the sampling interval: serve samples every second).
//
//   RecoveryTracker t(/*normal_backlog=*/100);
//   t.Start([d] { return d->Stats(); }, std::chrono::seconds(1));   // serve
//   t.Observe(stats, now_ns);                                        // tests: by hand
//   obs->AddCollector(t.Collector());
//
// Thread-safety: Observe and the collector may run on any threads (one mutex; both are
// cheap and rare). Start/Stop from one controlling thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <prometheus/collectable.h>

#include "adapters/erp/outbox_dispatcher.h"
#include "engine/stats_histogram.h"

namespace ordersync {

// Bucket bounds of ordersync_erp_recovery_seconds, in ms: 10 s .. 1 day.
inline constexpr int64_t kRecoveryBoundsMs[] = {10'000,    30'000,    60'000,     120'000,    300'000,   600'000,
                                                1'800'000, 3'600'000, 7'200'000, 21'600'000, 86'400'000};

class RecoveryTracker {
 public:
  explicit RecoveryTracker(uint64_t normal_backlog) : normal_backlog_(normal_backlog) {}
  ~RecoveryTracker() { Stop(); }
  RecoveryTracker(const RecoveryTracker&) = delete;
  RecoveryTracker& operator=(const RecoveryTracker&) = delete;

  // One sample of every target at `now_ns` (wall clock).
  void Observe(const DispatcherStats& stats, int64_t now_ns);

  // Samples `read()` every `interval` on a thread of its own until Stop().
  void Start(std::function<DispatcherStats()> read, std::chrono::milliseconds interval);
  void Stop();

  std::shared_ptr<prometheus::Collectable> Collector();

  struct TargetView {
    bool recovering = false;
    uint64_t episodes = 0;
    HistogramSnapshot recovery_ms;
  };
  std::map<std::string, TargetView> Snapshot() const;

 private:
  struct Target {
    bool sampled = false;
    uint64_t answered = 0;  // posted + already_posted at the previous sample
    uint64_t failed = 0;    // transient + timeouts + no_connection at the previous sample
    uint64_t backlog = 0;
    bool recovering = false;
    int64_t started_at_ns = 0;
    uint64_t normal = 0;
    uint64_t episodes = 0;
    std::unique_ptr<StatsHistogram> recovery_ms = std::make_unique<StatsHistogram>(kRecoveryBoundsMs);
  };

  const uint64_t normal_backlog_;
  mutable std::mutex mu_;
  std::map<std::string, Target> targets_;  // GUARDED_BY(mu_)

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;  // GUARDED_BY(run_mu_)
  std::thread sampler_;
};

}  // namespace ordersync
