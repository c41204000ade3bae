#include "engine/partition.h"

#include <cassert>

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
  // Only absent orders are inserted: a resident one is found first.
  assert(inserted);
  if (!inserted) LruUnlink(o);
  o->state = std::move(state);
  LruPushFront(o);
  return o;
}

void Partition::MarkChanged(CachedOrder* order, bool state, int64_t now_ns) {
  if (!order->in_change_list) {
    order->in_change_list = true;
    changes_.push_back(order);
  }
  if (state) {
    order->state_changed = true;
    order->changed_at_ns = now_ns;
  }
}

void Partition::CloseEpoch(uint64_t epoch) {
  for (CachedOrder* o : changes_) {
    o->in_change_list = false;
    o->state_changed = false;
    o->journal_head = o->journal_tail = kNoJournal;
    o->epoch = epoch;
  }
  changes_.clear();
  journal_arena_.clear();
}

void Partition::EpochDurable(uint64_t epoch) {
  durable_epoch_ = epoch;
  // Spilled ids past the cache's capacity can go once their epoch is durable.
  while (event_id_fifo_.size() > dedup_capacity_) {
    auto it = event_ids_.find(*event_id_fifo_.front());
    if (it->second.epoch > durable_epoch_) break;
    event_id_fifo_.pop_front();
    event_ids_.erase(it);
  }
  EvictToCapacity();
}

void Partition::EvictToCapacity() {
  while (orders_.size() > order_capacity_ && lru_tail_ != nullptr) {
    CachedOrder* victim = lru_tail_;
    if (victim->in_change_list || victim->epoch > durable_epoch_) break;  // not in the store yet
    LruUnlink(victim);
    orders_.erase(victim->state.order_id);
  }
}

bool Partition::FindEventId(std::string_view event_id, uint64_t* fingerprint) const {
  auto it = event_ids_.find(event_id);
  if (it == event_ids_.end()) return false;
  *fingerprint = it->second.fingerprint;
  return true;
}

void Partition::RememberEventId(std::string_view event_id, uint64_t fingerprint, uint64_t epoch) {
  auto [it, inserted] = event_ids_.try_emplace(std::string(event_id), SpilledId{fingerprint, epoch});
  if (!inserted) {
    it->second.epoch = std::max(it->second.epoch, epoch);
    return;
  }
  event_id_fifo_.push_back(&it->first);
  // Past capacity the oldest go, but only ids whose epoch is durable (they are in the
  // dedup table then); EpochDurable trims the rest later.
  while (event_id_fifo_.size() > dedup_capacity_) {
    auto oldest = event_ids_.find(*event_id_fifo_.front());
    if (oldest->second.epoch > durable_epoch_) break;
    event_id_fifo_.pop_front();
    event_ids_.erase(oldest);
  }
}

PendingCommand* Partition::FindPending(uint64_t outbox_seq) {
  if (pending_.empty() || outbox_seq < pending_.front().outbox_seq) return nullptr;
  const uint64_t index = outbox_seq - pending_.front().outbox_seq;
  if (index >= pending_.size()) return nullptr;
  PendingCommand* c = &pending_[index];
  return c->outbox_seq == outbox_seq ? c : nullptr;
}

void Partition::Reset() {
  orders_.clear();
  lru_head_ = lru_tail_ = nullptr;
  changes_.clear();
  durable_epoch_ = 0;
  event_ids_.clear();
  event_id_fifo_.clear();
  pending_.clear();
  journal_arena_.clear();
  next_outbox_seq = 1;
  next_exception_seq = 1;
  next_journal_seq = 1;
  checkpoint = LogPosition();
  while (!deadlines.empty()) deadlines.pop();
  parked_count = 0;
}

}  // namespace ordersync
