// StoreScanner: computes the gauges that are not counted on the hot path by reading the
// state store's queue tables every MetricsOptions::scan_interval_s, on its own thread:
//
//   outbox        depth and oldest command age per ERP target; shipments pending ERP
//                 posting (PostGoodsIssue) and returns awaiting credit (CreateCreditMemo)
//   parked        events parked longer than SloOptions::parked_s  -> orders at risk
//   exceptions    pending exceptions by failure class              -> orders at risk
//   dead_letters  dead-lettered commands per target
//   quarantine    rejected frames kept (records, bytes)
//
// An order is "at risk" when it has an event parked longer than slo.parked_s, a pending
// exception, a command in the outbox longer than slo.outbox_age_s, or a dead-lettered
// command; each order counts once in the total and once per reason.
//
// The engine writes these tables at its checkpoints; serve makes each scan start with one
// (SetBeforeScan -> Engine::Checkpoint), so a scan sees everything processed before it.
//
// Cost: one pass over each of those tables per interval, at most scan_max_entries
// entries each (then `truncated` is set), plus a set of the at-risk order ids. Reads go
// through StateStore iterators (RocksDB snapshots), concurrent with the engine's writes
// and never blocking them. Nothing here touches the event path.
//
// Event log: with SetEventLog, each scan also writes one structured line (order_id,
// event_id, correlation_id, source) per exception, dead letter and quarantined frame
// that appeared since the previous scan (kinds "exception", "dead_letter",
// "rejected_frame"; rate-limited per kind). The first scan only logs how many it found.
// Lines therefore trail the event by up to scan_interval_s.
//
// Thread-safety: Start/Stop from one controlling thread; ScanOnce and Snapshot from any
// thread (scans are serialised by a mutex; a snapshot is a copy).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/metrics/event_logger.h"
#include "adapters/metrics/metrics_options.h"
#include "engine/clock.h"
#include "engine/engine_stats.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

struct TargetScan {
  uint64_t outbox_depth = 0;
  int64_t oldest_issued_at_ns = 0;  // 0 when the outbox is empty
  uint64_t dead_letters = 0;
};

struct ScanSnapshot {
  bool valid = false;  // false until the first scan finished
  int64_t scanned_at_ns = 0;
  double duration_s = 0;
  bool truncated = false;
  std::map<std::string, TargetScan> targets;  // every known target, plus any seen
  uint64_t exceptions_by_class[kExceptionClasses] = {};
  uint64_t parked_events = 0;
  uint64_t orders_at_risk = 0;
  uint64_t orders_at_risk_parked = 0;
  uint64_t orders_at_risk_exception = 0;
  uint64_t orders_at_risk_outbox = 0;
  uint64_t orders_at_risk_dead_letter = 0;
  uint64_t shipments_pending_posting = 0;
  uint64_t returns_awaiting_credit = 0;
  uint64_t quarantine_records = 0;
  uint64_t quarantine_bytes = 0;
  uint64_t scans = 0;
  uint64_t scan_errors = 0;
};

class StoreScanner {
 public:
  // `targets`: the ERP target names known from the config, reported even when empty.
  // `store` and `clock` must outlive the scanner.
  StoreScanner(StateStore* store, const Clock* clock, const MetricsOptions& metrics, const SloOptions& slo,
               std::vector<std::string> targets);
  ~StoreScanner();
  StoreScanner(const StoreScanner&) = delete;
  StoreScanner& operator=(const StoreScanner&) = delete;

  // Scans now, on the calling thread, and publishes the result.
  Status ScanOnce();
  // Scans at once and then every scan_interval_s on a background thread, until Stop().
  void Start();
  void Stop();
  // Runs `fn` on the scanner thread after every background scan (housekeeping such as
  // reporting suppressed log lines). REQUIRES: before Start().
  void SetAfterScan(std::function<void()> fn) { after_scan_ = std::move(fn); }
  // Called at the start of each scan, e.g. Engine::Checkpoint so the tables show
  // everything processed so far (the engine writes them at checkpoints). An error is
  // logged once per scan and the scan goes on with what the store has.
  void SetBeforeScan(std::function<Status()> fn) { before_scan_ = std::move(fn); }
  // Logs new exceptions, dead letters and rejected frames to `log`. REQUIRES: before Start().
  void SetEventLog(EventLogger* log) { event_log_ = log; }

  ScanSnapshot Snapshot() const;

 private:
  void Run();

  StateStore* const store_;
  const Clock* const clock_;
  const MetricsOptions metrics_;
  const SloOptions slo_;
  const std::vector<std::string> targets_;

  std::mutex scan_mu_;  // one scan at a time
  mutable std::mutex mu_;
  ScanSnapshot snapshot_;  // GUARDED_BY(mu_)
  bool stop_ = false;      // GUARDED_BY(mu_)
  std::condition_variable wake_;
  std::function<void()> after_scan_;
  std::function<Status()> before_scan_;
  EventLogger* event_log_ = nullptr;
  // High-water marks of what was logged (times of the newest entry seen), under scan_mu_.
  bool logged_once_ = false;
  int64_t exceptions_hw_ns_ = 0, dead_letters_hw_ns_ = 0, quarantine_hw_ns_ = 0;
  std::thread thread_;
};

}  // namespace ordersync
