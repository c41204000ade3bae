#include "engine/partition.h"

namespace ordersync {

Partition::Partition(uint32_t id, size_t order_cache_capacity, size_t dedup_cache_capacity)
    : id_(id), order_capacity_(order_cache_capacity < 1 ? 1 : order_cache_capacity),
      dedup_capacity_(dedup_cache_capacity < 1 ? 1 : dedup_cache_capacity) {}

void Partition::LruUnlink(CachedOrder* o) {
  if (o->lru_prev != nullptr) o->lru_prev->lru_next = o->lru_next; else lru_head_ = o->lru_next;
  if (o->lru_next != nullptr) o->lru_next->lru_prev = o->lru_prev; else lru_tail_ = o->lru_prev;
  o->lru_prev = o->lru_next = nullptr;
}

void Partition::LruPushFront(CachedOrder* o) {
  o->lru_prev = nullptr;
  o->lru_next = lru_head_;
  if (lru_head_ != nullptr) lru_head_->lru_prev = o;
  lru_head_ = o;
  if (lru_tail_ == nullptr) lru_tail_ = o;
}

CachedOrder* Partition::FindOrder(std::string_view order_id) {
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return nullptr;
  CachedOrder* o = &it->second;
  if (o != lru_head_) {
    LruUnlink(o);
    LruPushFront(o);
  }
  return o;
}

CachedOrder* Partition::InsertOrder(OrderState state) {
  std::string key = state.order_id;
  auto [it, inserted] = orders_.try_emplace(std::move(key));
  CachedOrder* o = &it->second;
  if (!inserted) LruUnlink(o);
  o->state = std::move(state);
  LruPushFront(o);
  return o;
}

void Partition::MarkDirty(CachedOrder* order) {
  if (!order->dirty) {
    order->dirty = true;
    dirty_.push_back(order);
  }
}

void Partition::ClearDirty() {
  for (CachedOrder* o : dirty_) o->dirty = false;
  dirty_.clear();
}

void Partition::EvictToCapacity() {
  while (orders_.size() > order_capacity_ && lru_tail_ != nullptr && !lru_tail_->dirty) {
    CachedOrder* victim = lru_tail_;
    LruUnlink(victim);
    orders_.erase(victim->state.order_id);
  }
}

bool Partition::FindEventId(std::string_view event_id, uint64_t* fingerprint) const {
  auto it = event_ids_.find(event_id);
  if (it == event_ids_.end()) return false;
  *fingerprint = it->second;
  return true;
}

void Partition::RememberEventId(std::string_view event_id, uint64_t fingerprint) {
  auto [it, inserted] = event_ids_.try_emplace(std::string(event_id), fingerprint);
  if (!inserted) return;
  if (event_id_ring_.size() < dedup_capacity_) {
    event_id_ring_.push_back(&it->first);
    return;
  }
  // Ring is full: the oldest entry makes room. It is already durable in the dedup table
  // or in the open batch, whose duplicates the order's facts catch.
  const std::string* oldest = event_id_ring_[event_id_next_];
  event_ids_.erase(event_ids_.find(*oldest));
  event_id_ring_[event_id_next_] = &it->first;
  event_id_next_ = (event_id_next_ + 1) % dedup_capacity_;
}

void Partition::ClearCaches() {
  orders_.clear();
  lru_head_ = lru_tail_ = nullptr;
  dirty_.clear();
  event_ids_.clear();
  event_id_ring_.clear();
  event_id_next_ = 0;
}

}  // namespace ordersync
