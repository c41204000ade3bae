// SyncKpiScan: the synchronisation KPIs an integration lead reports that need the order
// journals (engine/journal.h), computed by one pass over Table::kJournal:
//
//   end-to-end traceability   orders (with journal activity in the window) whose every
//                             event carried a correlation_id and whose every ERP command
//                             reached an ERP document (acknowledged Posted/AlreadyPosted
//                             with a document id), as a share of those orders
//   inventory sync accuracy   InventoryAdjusted facts (their PostInventoryAdjustment
//                             commands) acknowledged by the ERP within `inventory_slo` of
//                             the adjustment's occurred_at, as a share of the adjustments
//                             issued in the window; and the adjustments not acknowledged yet
//
// Published by SyncKpiScanner as
//   ordersync_orders_traced, ordersync_orders_traceable,
//   ordersync_traceability_ratio (1 when no order is in the window),
//   ordersync_inventory_adjustments{state = in_slo | late | pending},
//   ordersync_inventory_sync_accuracy_ratio (1 when none), ordersync_kpi_scan_timestamp_seconds.
//
// Cost: one pass over the journal table (RocksDB snapshot iterator), every
// [metrics] kpi_scan_interval_s on the scanner's own thread; nothing on the event path.
//
// Thread-safety: ScanSyncKpis is reentrant; SyncKpiScanner's methods may be called from
// any thread (Start/Stop from one controlling thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <prometheus/collectable.h>

#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

struct SyncKpis {
  bool valid = false;
  int64_t scanned_at_ns = 0;
  uint64_t orders = 0;            // with journal activity in the window
  uint64_t orders_traceable = 0;  // of those, fully traceable
  uint64_t adjustments_in_slo = 0;
  uint64_t adjustments_late = 0;     // acknowledged after the SLO
  uint64_t adjustments_pending = 0;  // issued, not acknowledged yet
  double traceability_ratio() const { return orders == 0 ? 1.0 : double(orders_traceable) / double(orders); }
  double inventory_accuracy_ratio() const {
    const uint64_t all = adjustments_in_slo + adjustments_late + adjustments_pending;
    return all == 0 ? 1.0 : double(adjustments_in_slo) / double(all);
  }
};

// Orders whose latest journal entry is at or after `since_ns`; journal values expired at
// `now_ns` are skipped.
Status ScanSyncKpis(StateStore* store, int64_t now_ns, int64_t since_ns, int64_t inventory_slo_ns, SyncKpis* out);

class SyncKpiScanner {
 public:
  // `before_scan` (may be empty) runs first (serve: Engine::Checkpoint, so the journals
  // hold everything processed so far).
  SyncKpiScanner(StateStore* store, int64_t window_s, int64_t inventory_slo_s,
                 std::function<Status()> before_scan = {});
  ~SyncKpiScanner() { Stop(); }

  Status ScanOnce(int64_t now_ns);
  void Start(std::chrono::seconds interval);
  void Stop();
  SyncKpis Snapshot() const;
  std::shared_ptr<prometheus::Collectable> Collector();

 private:
  StateStore* const store_;
  const int64_t window_ns_;
  const int64_t inventory_slo_ns_;
  const std::function<Status()> before_scan_;
  mutable std::mutex mu_;
  SyncKpis last_;  // GUARDED_BY(mu_)
  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ordersync
