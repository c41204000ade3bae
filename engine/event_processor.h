// EventProcessor: applies events to partitions, one at a time, on a worker thread. For
// each event it runs, in order: exact dedup (event_id) -> business dedup (order + kind +
// business key) -> per-(order, source) sequencing -> the lifecycle rule -> routing, and
// then applies, parks or records an exception. Every effect (order state with its seen
// event ids, spilled dedup keys, parked event, exception, outbox command, journal entry,
// counters) goes into the caller's open StoreBatch; nothing is durable until the caller
// writes it. After an order changes, its parked events are re-evaluated until none can
// make progress.
//
// Thread-safety: one processor per worker thread; not thread-safe. It only reads the
// store (cache misses) and never writes it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/clock.h"
#include "engine/engine_options.h"
#include "engine/engine_stats.h"
#include "engine/inbound_event.h"
#include "engine/journal.h"
#include "engine/lifecycle_rules.h"
#include "engine/partition.h"
#include "engine/router.h"
#include "engine/state_store.h"
#include "flatbuffers/flatbuffers.h"

namespace ordersync {

// Most events that may park on one order; beyond it, an exception (a producer bug, not a
// reordering) instead of unbounded state.
inline constexpr size_t kMaxParkedPerOrder = 256;

class EventProcessor {
 public:
  EventProcessor(const EngineOptions& options, StateStore* store, const Clock* clock, WorkerStats* stats);

  // Loads the partition's durable counters and park deadlines. Call once before use.
  Status Recover(Partition* partition);

  // Processes one validated envelope of `partition`, adding its effects to `batch`.
  // Sets *outcome and *reason (empty for kApplied). `replay` skips the exact-dedup check
  // (a deliberate re-drive of a known event_id); business dedup still applies.
  void Process(Partition* partition, std::string_view envelope, int64_t received_at_ns, bool replay,
               StoreBatch* batch, EventOutcome* outcome, std::string* reason);

  // Appends an ErpCommand to the partition's outbox in `batch`; returns its outbox_seq.
  uint64_t AppendToOutbox(Partition* partition, std::string_view erp_command, StoreBatch* batch);

  // Moves parked events whose deadline passed to the exception queue. Returns how many.
  size_t ExpireParked(Partition* partition, int64_t now_ns, StoreBatch* batch);

  // Adds the partition's changed orders and counters to `batch`. Call before writing it.
  void FinishBatch(Partition* partition, StoreBatch* batch);
  // After the batch was written: clean up caches.
  void BatchCommitted(Partition* partition);
  // After the batch failed to write: forget everything cached; the store is the truth.
  Status BatchFailed(Partition* partition);

 private:
  class OutboxWriter;

  // The order from the cache or the store (a fresh one if absent or past retention).
  // Fails on a read error or an unreadable stored order.
  Status LoadOrder(Partition* p, std::string_view order_id, CachedOrder** order);
  // Whether `order` has seen `event_id` (and with which fingerprint): its own list, and
  // when some of its ids spilled, the partition cache and the dedup table.
  // `id_hash` is HashBytes(event_id), computed once per event by the caller.
  Status SeenEventId(Partition* p, const OrderState& order, std::string_view event_id, uint64_t id_hash, bool* seen,
                     uint64_t* fingerprint);
  // Records the event_id with its order (or, past kMaxSeenPerOrder, in the dedup table).
  void RememberEventId(Partition* p, CachedOrder* order, const EventView& e, uint64_t id_hash, StoreBatch* batch);
  // Sequencing, lifecycle rule and routing for `e` against `order`.
  Verdict Decide(const OrderState& order, const EventView& e) const;
  void Apply(Partition* p, CachedOrder* order, const EventView& e, StoreBatch* batch);
  void Park(Partition* p, CachedOrder* order, const EventView& e, std::string_view envelope, Prerequisite waiting_for,
            int64_t received_at_ns, StoreBatch* batch);
  void RecordException(Partition* p, const EventView& e, std::string_view envelope, std::string_view stage,
                       FailureClass failure_class, std::string_view reason, StoreBatch* batch);
  // Processes one event; returns its order (null if it was not loaded). Sets
  // *order_changed when the order changed in a way that may release parked events.
  CachedOrder* ProcessEvent(Partition* p, const EventView& e, std::string_view envelope, int64_t received_at_ns,
                            bool replay, StoreBatch* batch, EventOutcome* outcome, std::string* reason,
                            bool* order_changed);
  // When a journal entry written now expires.
  int64_t JournalExpiry() const;
  // Appends a journal entry about event `e` (no-op when the journal is off).
  void JournalEvent(Partition* p, storage::JournalKind kind, const EventView& e, const OrderState* order,
                    int64_t received_at_ns, EventOutcome outcome, std::string_view reason, StoreBatch* batch);
  // Reads a parked event's envelope from the parked table. False if absent or unreadable.
  bool LoadParkedEnvelope(Partition* p, std::string_view order_id, std::string_view event_id, std::string* envelope);
  // Keeps the partition's parked count and the worker's parked gauge in step.
  void AdjustParked(Partition* p, int64_t delta);
  // Re-evaluates the order's parked events until none makes progress.
  void RunParked(Partition* p, CachedOrder* order, StoreBatch* batch);
  static std::string_view CompanyCode(const OrderState& order, const EventView& e);

  const EngineOptions& options_;
  const Router router_;
  StateStore* const store_;
  const Clock* const clock_;
  WorkerStats* const stats_;
  // Scratch space reused across events: no allocation in the steady state.
  std::string key_;
  std::string value_;
  std::string stored_;  // a value as read, before VerifiedRoot aligns it into value_
  std::string reason_scratch_;
  JournalWriter journal_;
  // Commands issued by the event being processed, for its journal entry: the first
  // issued_count_ slots (slots are reused across events).
  std::vector<IssuedCommand> issued_;
  size_t issued_count_ = 0;
  flatbuffers::FlatBufferBuilder fbb_;
  flatbuffers::FlatBufferBuilder state_fbb_;
};

}  // namespace ordersync
