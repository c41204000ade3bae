// MasterDataGate: where a worker's EventProcessor gets the master-data verdict of an
// OrderAccepted event, such that replaying the event log reproduces every decision.
//
// Live (Worker::CommitGroup): at the start of each group commit Refresh() picks up the
// source's snapshot if it was swapped (a reload), so every event of one group commit is
// checked against one whole snapshot (never a half-loaded file). Per event, BeginLive();
// the processor calls Decide() once for an OrderAccepted that reaches the lifecycle
// stage, which evaluates the checks (engine/master_data_check.h); the worker then logs
// decided() with the event (engine/log_record.h, event item with a verdict).
//
// Replay (Worker::Replay, recovery): BeginReplay(item) makes Decide() return the verdict
// recorded in the log item, or "none" (apply as if no check were on) when the item has
// none (older records, checks off when it was written). The data loaded at replay time
// is never consulted, so a reload between the run and the replay changes nothing.
//
// Credit holds. The gate also keeps an index of the orders parked on credit hold, per
// (partition, customer), maintained by the processor (OnHeld/OnUnheld, rebuilt from the
// parked table on recovery). After a Refresh() that swapped snapshots the worker asks
// ClearedHolds() which held customers the new snapshot clears and logs one release_hold
// item per (partition, customer) before applying it: the release is an input of the log
// like any event. Turning the credit_hold check off clears every hold.
//
// Thread-safety: one gate per worker, used on the worker's thread only. The source is
// read through MasterDataSource (its generation() is one atomic load per group commit).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine_options.h"
#include "engine/log_record.h"
#include "engine/master_data.h"
#include "engine/master_data_check.h"

namespace ordersync {

class MasterDataGate {
 public:
  // `source` may be null (no master data: every check that is on sees an empty snapshot).
  MasterDataGate(const MasterDataCheckOptions& options, const MasterDataSource* source);

  // --- live group commits ---
  // Takes the source's current snapshot if it changed since the last call. True when it
  // did (always on the first call).
  bool Refresh();
  const MasterDataSnapshot& snapshot() const { return *snapshot_; }
  // The (partition, customer) pairs with held orders that the snapshot in force clears
  // (customer known, active and not on credit hold; or the credit_hold check is off), in
  // (partition, customer) order.
  void ClearedHolds(std::vector<std::pair<uint32_t, std::string>>* out) const;

  // --- per event ---
  void BeginLive();
  // `item` is the event's log item (its verdict fields are copied).
  void BeginReplay(const LogItem& item);
  // The verdict for OrderAccepted `event`. Called at most once per event.
  const MasterDataVerdict& Decide(const EventView& event);
  // The verdict to log with the event just processed: null when none was decided or it
  // was kNone.
  const MasterDataVerdict* decided() const {
    return decided_ && verdict_.kind != MasterDataVerdict::Kind::kNone ? &verdict_ : nullptr;
  }

  // --- orders held on credit hold (kept by the processor) ---
  void OnHeld(uint32_t partition, std::string_view customer_id, std::string_view order_id);
  void OnUnheld(uint32_t partition, std::string_view customer_id, std::string_view order_id);
  // The orders held for `customer_id` in `partition`, in order_id order.
  std::vector<std::string> HeldOrders(uint32_t partition, std::string_view customer_id) const;
  // Forgets the partition's held orders (before it is rebuilt from its checkpoint).
  void ForgetPartition(uint32_t partition);
  size_t held_orders() const;

 private:
  enum class Mode : uint8_t { kLive, kReplay };

  const MasterDataCheckOptions options_;
  const MasterDataSource* const source_;
  std::shared_ptr<const MasterDataSnapshot> snapshot_;
  uint64_t generation_ = 0;
  bool refreshed_once_ = false;

  Mode mode_ = Mode::kLive;
  bool decided_ = false;
  MasterDataVerdict recorded_;  // replay: the verdict of the log item
  MasterDataVerdict verdict_;   // what Decide returned for the current event
  std::map<std::pair<uint32_t, std::string>, std::set<std::string>, std::less<>> held_;
};

}  // namespace ordersync
