// Partition: the in-memory state of one logical partition, owned by one worker: its
// resident orders (bounded, LRU), the effects applied since its last checkpoint that are
// not yet in the StateStore (changed orders with their journal entries, spilled event
// ids, issued commands), its sequence counters and its park deadlines. The StateStore
// holds the partition's last checkpoint under its key prefix; the event log holds
// everything after it.
//
// Checkpoint epochs. Effects accumulate in the open epoch. A checkpoint cut writes the
// open epoch's effects into a batch (epoch E) and opens E+1; once that batch is durable
// the worker calls CheckpointDurable(E). An order is evictable only when it has no
// effects in an epoch that is not durable yet, so a miss that reads the store always
// reads the order's latest state.
//
// Thread-safety: none. A partition is owned by exactly one worker thread, which is why
// per-order logic needs no locks.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "engine/command_bytes.h"
#include "engine/event_log.h"
#include "engine/order_state.h"

namespace ordersync {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

inline constexpr uint32_t kNoJournal = UINT32_MAX;

struct CachedOrder {
  OrderState state;
  // In the partition's change list for the open epoch (state and/or journal).
  bool in_change_list = false;
  // The order record changed in the open epoch (its record is written at the cut).
  bool state_changed = false;
  // Log time of the latest state change: the record's retention counts from it.
  int64_t changed_at_ns = 0;
  // Latest checkpoint epoch holding effects of this order (0: none since load).
  uint64_t epoch = 0;
  // Journal entries of the open epoch: a list through the partition's journal arena
  // (offsets; kNoJournal when none), and the first entry's time.
  uint32_t journal_head = kNoJournal;
  uint32_t journal_tail = kNoJournal;
  int64_t journal_first_at_ns = 0;
  CachedOrder* lru_prev = nullptr;
  CachedOrder* lru_next = nullptr;
};

struct ParkDeadline {
  int64_t deadline_ns;
  std::string order_id;
  std::string event_id;
  // Total order (not just by deadline), so that expiry processes ties in the same order
  // in the original run and in a replay, whatever order the heap was built in.
  bool operator>(const ParkDeadline& o) const {
    return std::tie(deadline_ns, order_id, event_id) > std::tie(o.deadline_ns, o.order_id, o.event_id);
  }
};

// A command issued since the last checkpoint cut.
struct PendingCommand {
  uint64_t outbox_seq = 0;
  CommandBytes bytes;  // null once the ERP side is done with it
};

class Partition {
 public:
  Partition(uint32_t id, size_t order_cache_capacity, size_t dedup_cache_capacity);
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  uint32_t id() const { return id_; }

  // --- resident orders (LRU) ---
  // The resident order, marked most recently used; null if not resident.
  CachedOrder* FindOrder(std::string_view order_id);
  CachedOrder* InsertOrder(OrderState state);
  // Puts the order on the open epoch's change list; `state` also marks its record changed.
  void MarkChanged(CachedOrder* order, bool state, int64_t now_ns);
  // Orders changed in the open epoch, in first-change order.
  const std::vector<CachedOrder*>& change_list() const { return changes_; }
  // Ends the open epoch `epoch`: its changed orders now wait for that epoch to be durable.
  void CloseEpoch(uint64_t epoch);
  // Epoch `epoch` is durable: its orders and spilled ids no longer need to stay resident.
  void EpochDurable(uint64_t epoch);
  // Drops least recently used orders beyond capacity that have nothing undurable.
  void EvictToCapacity();
  size_t resident_orders() const { return orders_.size(); }

  // --- event ids spilled past an order's own list (dedup table) ---
  bool FindEventId(std::string_view event_id, uint64_t* fingerprint) const;
  // Remembers a spilled id; it stays resident at least until `epoch` is durable.
  void RememberEventId(std::string_view event_id, uint64_t fingerprint, uint64_t epoch);

  // --- journal entries of the open epoch, all orders: (next:4 len:4 entry)* ---
  std::string& journal_arena() { return journal_arena_; }

  // --- commands issued since the last cut, in outbox_seq order ---
  std::deque<PendingCommand>& pending_commands() { return pending_; }
  // The pending command `outbox_seq`, or null if it was not issued since the last cut.
  PendingCommand* FindPending(uint64_t outbox_seq);

  // Forgets all in-memory state (before re-reading the checkpoint and replaying the log).
  void Reset();

  // --- durable counters (checkpointed in the meta table) ---
  uint64_t next_outbox_seq = 1;
  uint64_t next_exception_seq = 1;
  uint64_t next_journal_seq = 1;
  // Where the partition's last checkpoint ends in the event log.
  LogPosition checkpoint;

  // --- park deadlines (min-heap; entries may be stale, checked against the order) ---
  std::priority_queue<ParkDeadline, std::vector<ParkDeadline>, std::greater<ParkDeadline>> deadlines;

  // Events parked in this partition now.
  int64_t parked_count = 0;

 private:
  void LruUnlink(CachedOrder* o);
  void LruPushFront(CachedOrder* o);

  const uint32_t id_;
  const size_t order_capacity_;
  const size_t dedup_capacity_;
  std::unordered_map<std::string, CachedOrder, StringHash, std::equal_to<>> orders_;
  CachedOrder* lru_head_ = nullptr;  // most recently used
  CachedOrder* lru_tail_ = nullptr;  // least recently used
  std::vector<CachedOrder*> changes_;
  uint64_t durable_epoch_ = 0;
  struct SpilledId {
    uint64_t fingerprint;
    uint64_t epoch;  // evictable once durable
  };
  std::unordered_map<std::string, SpilledId, StringHash, std::equal_to<>> event_ids_;
  std::deque<const std::string*> event_id_fifo_;  // keys of event_ids_, oldest first
  std::deque<PendingCommand> pending_;
  std::string journal_arena_;  // cleared at each cut; keeps its capacity
};

}  // namespace ordersync
