// ReconcileScheduler: the scheduled reconciles of `serve` ([reconcile.schedule.<target>],
// reconcile_options.h). On its own thread it runs, per target, every interval_s (the
// first right at Start) what the admin command "reconcile.run" does as a dry run: the
// `before_run` hook (serve: Engine::Checkpoint, so the store shows every acknowledgement
// processed so far), then RunReconcile over [now - lookback_s, now - settle_s) against
// the target's ErpDocumentSource. It never repairs (`ordersync reconcile --repair` does,
// on a person's decision). Each run ends as one of
//
//   clean        no missing_in_erp, unknown_to_ordersync or mismatch (pending allowed)
//   differences  at least one of those
//   failed       no comparison: the checkpoint failed, the source could not be made
//                (e.g. "api source not built into this binary") or read (a missing
//                export file), or the store scan failed; the reason is logged and kept
//
// and is published by Collector() (docs/operations.md, "Scheduled reconciles"):
//   ordersync_reconcile_differences{target,class}                 last comparison, per class
//   ordersync_reconcile_runs_total{target,result}                 clean | differences | failed
//   ordersync_reconcile_last_run_timestamp_seconds{target}        0 before the first run
//   ordersync_reconcile_last_clean_run_timestamp_seconds{target}  0 before the first clean run
//   ordersync_reconcile_last_run_duration_seconds{target}
//   ordersync_reconcile_consecutive_failures{target}
//   ordersync_reconcile_interval_seconds{target}
//   ordersync_reconcile_schedule_start_timestamp_seconds{target}
// The differences of a failed run are unknown, so the gauges keep the last comparison's.
// The admin command "reconcile.schedule" shows the same state with the last failure's
// reason (RegisterReconcileScheduleAdminCommand).
//
//   ReconcileScheduler::Schedule s{options, [path] { return MakeExportSource(path); }};
//   ReconcileScheduler scheduler(store, [engine] { return engine->Checkpoint(); }, 900, {s});
//   scheduler.Start();  ...  observability->AddCollector(scheduler.Collector());
//
// Cost: a run reads the source and scans the store's order and outbox tables for the
// target on the scheduler's thread; the engine's workers only take the checkpoint.
//
// Thread-safety: Snapshot, RunNow and the collector may be called from any thread; runs
// are serialised (one at a time). Start/Stop from one controlling thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/collectable.h>

#include "adapters/admin/admin_server.h"

#include "adapters/reconcile/reconcile_options.h"
#include "adapters/reconcile/reconcile_service.h"
#include "engine/clock.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

enum class ScheduledRunResult : uint8_t { kClean, kDifferences, kFailed };
inline constexpr ScheduledRunResult kScheduledRunResults[] = {ScheduledRunResult::kClean,
                                                              ScheduledRunResult::kDifferences,
                                                              ScheduledRunResult::kFailed};
// "clean", "differences", "failed" (the `result` label).
std::string_view ScheduledRunResultName(ScheduledRunResult r);

// A new ErpDocumentSource for one run (an export file is re-read on every run).
using ErpDocumentSourceFactory = std::function<Result<std::unique_ptr<ErpDocumentSource>>()>;

// What one target's schedule has done since Start.
struct ScheduledReconcileStatus {
  std::string target;
  uint32_t interval_s = 0;
  int64_t started_at_ns = 0;     // when the schedule started
  int64_t last_run_at_ns = 0;    // when the last run finished, any result; 0: none yet
  int64_t last_clean_at_ns = 0;  // when the last clean run finished; 0: none yet
  int64_t last_duration_ns = 0;
  bool has_run = false;
  ScheduledRunResult last_result = ScheduledRunResult::kFailed;
  std::string last_error;    // the last failed run's reason ("" when the last run did not fail)
  std::string last_source;   // "export /srv/erp.csv"
  bool has_comparison = false;  // a run compared (counts below are from the last one that did)
  uint64_t differences[4] = {0, 0, 0, 0};  // by DifferenceClass
  uint64_t acknowledged = 0;
  uint64_t matched = 0;
  uint64_t runs[3] = {0, 0, 0};  // by ScheduledRunResult
  uint32_t consecutive_failures = 0;
};

class ReconcileScheduler {
 public:
  struct Schedule {
    ReconcileScheduleOptions options;
    ErpDocumentSourceFactory source;
  };

  // `before_run` (may be empty) runs first in every run; `margin_s` is [reconcile]
  // margin_s. `clock` gives the run windows' times.
  ReconcileScheduler(StateStore* store, std::function<Status()> before_run, uint32_t margin_s,
                     std::vector<Schedule> schedules, const Clock* clock = SystemClock::Default());
  ~ReconcileScheduler() { Stop(); }
  ReconcileScheduler(const ReconcileScheduler&) = delete;
  ReconcileScheduler& operator=(const ReconcileScheduler&) = delete;

  // Starts the thread: every schedule runs now, then every interval_s. No-op without
  // schedules.
  void Start();
  // Waits for a run in progress to finish, then stops the thread. Idempotent.
  void Stop();

  // Runs `target`'s schedule now on the calling thread (after any run in progress) and
  // answers its result; NotFound for a target without a schedule. Counted like any run.
  Result<ScheduledRunResult> RunNow(const std::string& target);

  std::vector<ScheduledReconcileStatus> Snapshot() const;
  std::shared_ptr<prometheus::Collectable> Collector();

 private:
  // Runs schedules_[i] and records the outcome. REQUIRES: run_mu_ held.
  ScheduledRunResult RunLocked(size_t i);

  StateStore* const store_;
  const std::function<Status()> before_run_;
  const int64_t margin_ns_;
  const std::vector<Schedule> schedules_;
  const Clock* const clock_;

  std::mutex run_mu_;  // one run at a time
  mutable std::mutex mu_;
  std::vector<ScheduledReconcileStatus> status_;  // GUARDED_BY(mu_), one per schedule

  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stop_ = false;  // GUARDED_BY(thread_mu_)
  std::thread thread_;
};

// The schedules' state as JSON, what the read-only admin command "reconcile.schedule"
// answers: {"schedules": [{"target", "interval_s", "source", "started_at", "last_run_at",
// "last_result" (clean | differences | failed | null before the first run),
// "last_error", "last_clean_at" (RFC 3339, null when none), "last_duration_s",
// "acknowledged", "matched", "differences": {class: n} (null before a comparison),
// "runs": {"clean", "differences", "failed"}, "consecutive_failures"}]}.
nlohmann::json ScheduledReconcileStatusJson(const std::vector<ScheduledReconcileStatus>& all);
void RegisterReconcileScheduleAdminCommand(AdminServer* admin, ReconcileScheduler* scheduler);

// The source a schedule's options name: an ExportFileSource on export_path for "export";
// for "api", `api` (serve passes MakeConnectorQuerySource of the target) when given, else
// a factory whose runs fail with "api source not built into this binary" (a caller that
// has no API source to give).
ErpDocumentSourceFactory MakeScheduledSourceFactory(const ReconcileScheduleOptions& options,
                                                    ErpDocumentSourceFactory api = {});

}  // namespace ordersync
