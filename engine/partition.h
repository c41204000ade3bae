// Partition: the in-memory half of one logical partition: its hot-order cache, the
// event_ids it saw recently, its sequence counters (outbox, exceptions) and its park
// deadlines. The durable half lives in the StateStore under the partition's key prefix.
//
// Thread-safety: none. A partition is owned by exactly one worker thread, which is why
// per-order logic needs no locks.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/order_state.h"

namespace ordersync {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct CachedOrder {
  OrderState state;
  bool dirty = false;      // changed in the open batch; written by FinishBatch
  CachedOrder* lru_prev = nullptr;
  CachedOrder* lru_next = nullptr;
};

struct ParkDeadline {
  int64_t deadline_ns;
  std::string order_id;
  std::string event_id;
  bool operator>(const ParkDeadline& o) const { return deadline_ns > o.deadline_ns; }
};

class Partition {
 public:
  Partition(uint32_t id, size_t order_cache_capacity, size_t dedup_cache_capacity);
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  uint32_t id() const { return id_; }

  // --- hot orders (LRU) ---
  // The cached order, marked most recently used; null if not cached.
  CachedOrder* FindOrder(std::string_view order_id);
  CachedOrder* InsertOrder(OrderState state);
  void MarkDirty(CachedOrder* order);
  // Orders changed since the last ClearDirty, in first-change order.
  const std::vector<CachedOrder*>& dirty_orders() const { return dirty_; }
  void ClearDirty();
  // Drops least recently used clean orders beyond capacity.
  void EvictToCapacity();
  size_t cached_orders() const { return orders_.size(); }

  // --- recently seen event_ids (FIFO), with their fingerprints ---
  bool FindEventId(std::string_view event_id, uint64_t* fingerprint) const;
  void RememberEventId(std::string_view event_id, uint64_t fingerprint);

  // Forgets all cached state (after a failed commit the store is the truth).
  void ClearCaches();

  // --- durable counters (persisted in the meta table by the processor) ---
  uint64_t next_outbox_seq = 1;
  uint64_t next_exception_seq = 1;
  bool counters_dirty = false;

  // --- park deadlines (min-heap; entries may be stale, checked against the order) ---
  std::priority_queue<ParkDeadline, std::vector<ParkDeadline>, std::greater<ParkDeadline>> deadlines;

  // Events parked in this partition now.
  int64_t parked_count = 0;

  // Partition was touched by the open batch: set by the worker when it first adds to the
  // batch for this partition, cleared by EventProcessor::BatchCommitted / BatchFailed.
  bool in_batch = false;

 private:
  void LruUnlink(CachedOrder* o);
  void LruPushFront(CachedOrder* o);

  const uint32_t id_;
  const size_t order_capacity_;
  const size_t dedup_capacity_;
  std::unordered_map<std::string, CachedOrder, StringHash, std::equal_to<>> orders_;
  CachedOrder* lru_head_ = nullptr;  // most recently used
  CachedOrder* lru_tail_ = nullptr;  // least recently used
  std::vector<CachedOrder*> dirty_;
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> event_ids_;
  std::vector<const std::string*> event_id_ring_;  // FIFO of keys in event_ids_
  size_t event_id_next_ = 0;
};

}  // namespace ordersync
