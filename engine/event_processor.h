// EventProcessor: the deterministic state machine of a worker's partitions. It applies
// events one at a time: exact dedup (event_id) -> business dedup (order + kind +
// business key) -> per-(order, source) sequencing -> the lifecycle rule -> routing, and
// then applies, parks or records an exception; after an order changes, its parked events
// are re-evaluated until none can make progress. It also applies what else a group
// commit logs: PartitionTask outbox appends, CommandNotes of the ERP fan-out and
// park-deadline sweeps.
//
// Determinism (what makes replay exact): every input comes from the event-log record —
// the envelope, its received_at_ns, the replay flag, and the group commit's time, which
// the worker sets with SetNow() before each record and which is the only clock the
// processor reads. Given the same checkpoint and the same records, it produces the same
// state, the same command ids, outbox seqs, exception seqs and journal keys.
//
// Where effects go. Orders, issued commands and journal entries stay in the Partition
// (engine/partition.h) until the next checkpoint cut; the other effects (parked events,
// exceptions, spilled dedup ids, deletes of commands already checkpointed) go into the
// caller's checkpoint batch as they happen. CutCheckpoint() adds the open epoch's orders,
// journal chunks, unacknowledged commands, counters and the log position to that batch.
// Nothing is written to the store by the processor itself; it only reads it on a miss.
//
// Thread-safety: one processor per worker thread; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/clock.h"
#include "engine/engine_options.h"
#include "engine/engine_stats.h"
#include "engine/event_log.h"
#include "engine/inbound_event.h"
#include "engine/journal.h"
#include "engine/lifecycle_rules.h"
#include "engine/log_record.h"
#include "engine/master_data_gate.h"
#include "engine/outbox_listener.h"
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
  EventProcessor(const EngineOptions& options, StateStore* store, WorkerStats* stats);

  // Loads the partition's checkpoint: counters, log position and park deadlines.
  Status Recover(Partition* partition);

  // The group commit's time (ns since the Unix epoch), from its log record.
  void SetNow(int64_t now_ns) { now_ns_ = now_ns; }
  // The open checkpoint epoch (see partition.h).
  void SetOpenEpoch(uint64_t epoch) { epoch_ = epoch; }
  // Where counters go: the worker's, or a scratch set while replaying.
  void SetStats(WorkerStats* stats) { stats_ = stats; }
  // The worker's master-data gate (engine/master_data_gate.h): consulted once per
  // OrderAccepted that reaches the lifecycle stage. Null: no master-data checks.
  void SetMasterDataGate(MasterDataGate* gate) { gate_ = gate; }

  // Releases the orders of `partition` held on credit hold for `customer_id` (a logged
  // release_hold item): each held OrderAccepted is decided again by the lifecycle (and
  // applied, parked for another reason or excepted), then the order's parked events are
  // re-evaluated. Returns how many were released.
  size_t ReleaseHolds(Partition* partition, std::string_view customer_id, StoreBatch* batch);

  // Processes one validated envelope of `partition`. Sets *outcome and *reason (empty
  // for kApplied). `replay` skips the exact-dedup check (a deliberate re-drive of a known
  // event_id); business dedup still applies. `batch` is the open checkpoint batch.
  void Process(Partition* partition, std::string_view envelope, int64_t received_at_ns, bool replay,
               StoreBatch* batch, EventOutcome* outcome, std::string* reason);

  // Appends an ErpCommand to the partition's outbox; returns its outbox_seq.
  uint64_t AppendToOutbox(Partition* partition, std::string_view erp_command);

  // Applies a CommandNote (as logged): drops a done command from the outbox and journals it.
  void ApplyNote(Partition* partition, const LogItem& note, StoreBatch* batch);

  // Moves parked events whose deadline passed (at the current time) to the exception
  // queue. Returns how many.
  size_t ExpireParked(Partition* partition, StoreBatch* batch);
  // True if a parked event of the partition is due at the current time.
  bool ParkDeadlineDue(const Partition* partition) const;

  // Commands issued since the last call (by Process, AppendToOutbox and tasks), in order.
  std::vector<DurableCommand>& issued() { return issued_commands_; }

  // Adds the partition's open-epoch state to `batch` as checkpoint `epoch` covering the
  // log up to `position`, and closes the epoch.
  void CutCheckpoint(Partition* partition, const LogPosition& position, uint64_t epoch, StoreBatch* batch);
  // The batch of checkpoint `epoch` is durable.
  void CheckpointDurable(Partition* partition, uint64_t epoch);

  // Forgets the partition's in-memory state and reloads its checkpoint (Recover).
  Status Reset(Partition* partition);

 private:
  class OutboxWriter;

  // The order from the cache or the store (a fresh one if absent or past retention).
  // Fails on a read error or an unreadable stored order.
  Status LoadOrder(Partition* p, std::string_view order_id, CachedOrder** order);
  // Whether `order` has seen `event_id` (and with which fingerprint): its own list, and
  // when some of its ids spilled, the partition's spilled ids and the dedup table.
  // `id_hash` is HashBytes(event_id), computed once per event by the caller.
  Status SeenEventId(Partition* p, const OrderState& order, std::string_view event_id, uint64_t id_hash, bool* seen,
                     uint64_t* fingerprint);
  // Records the event_id with its order (or, past kMaxSeenPerOrder, in the dedup table).
  void RememberEventId(Partition* p, CachedOrder* order, const EventView& e, uint64_t id_hash, StoreBatch* batch);
  // Sequencing, lifecycle rule and routing for `e` against `order`.
  Verdict Decide(const OrderState& order, const EventView& e) const;
  void Apply(Partition* p, CachedOrder* order, const EventView& e);
  void Park(Partition* p, CachedOrder* order, const EventView& e, std::string_view envelope, Prerequisite waiting_for,
            int64_t received_at_ns, StoreBatch* batch);
  void RecordException(Partition* p, const EventView& e, std::string_view envelope, std::string_view stage,
                       FailureClass failure_class, std::string_view reason, StoreBatch* batch);
  // Processes one event; returns its order (null if it was not loaded). Sets
  // *order_changed when the order changed in a way that may release parked events.
  CachedOrder* ProcessEvent(Partition* p, const EventView& e, std::string_view envelope, int64_t received_at_ns,
                            bool replay, StoreBatch* batch, EventOutcome* outcome, std::string* reason,
                            bool* order_changed);
  // Adds a journal entry about event `e` to its order (no-op when the journal is off).
  void JournalEvent(Partition* p, CachedOrder* order, storage::JournalKind kind, const EventView& e,
                    int64_t received_at_ns, EventOutcome outcome, std::string_view reason);
  // Adds `record` to the order's open-epoch journal.
  void AddJournal(Partition* p, CachedOrder* order, const JournalRecord& record);
  // Reads a parked event's envelope from the parked table. False if absent or unreadable.
  bool LoadParkedEnvelope(Partition* p, std::string_view order_id, std::string_view event_id, std::string* envelope);
  // Keeps the partition's parked count and the worker's parked gauge in step.
  void AdjustParked(Partition* p, int64_t delta);
  // Re-evaluates the order's parked events until none makes progress.
  void RunParked(Partition* p, CachedOrder* order, StoreBatch* batch);
  static std::string_view CompanyCode(const OrderState& order, const EventView& e);
  // --- master data (event_processor_master_data.cc) ---
  // The gate's verdict for OrderAccepted `e`: true if it decided the event (an exception,
  // or parked on credit hold), false to go on with the lifecycle.
  bool CheckMasterData(Partition* p, CachedOrder* order, const EventView& e, std::string_view envelope,
                       int64_t received_at_ns, StoreBatch* batch, EventOutcome* outcome, std::string* reason,
                       bool* order_changed);
  // A parked event read at recovery: credit holds go into the gate's index.
  void NoteParkedOnRecover(Partition* p, std::string_view order_id, std::string_view waiting_for,
                           const flatbuffers::Vector<uint8_t>* envelope);
  // A credit hold timed out: a master_data exception (reason left in reason_scratch_).
  void ExpireCreditHold(Partition* p, const EventView& e, const ParkedRef& ref, StoreBatch* batch);
  static bool IsCreditHold(const ParkedRef& ref);

  const EngineOptions& options_;
  const Router router_;
  StateStore* const store_;
  WorkerStats* stats_;
  MasterDataGate* gate_ = nullptr;
  int64_t now_ns_ = 0;
  uint64_t epoch_ = 1;
  // Scratch space reused across events: no allocation in the steady state.
  std::string key_;
  std::string value_;
  std::string stored_;  // a value as read, before VerifiedRoot aligns it into value_
  std::string reason_scratch_;
  std::string journal_scratch_;  // one order's chunk at a cut
  JournalWriter journal_;
  // Commands issued by the event being processed, for its journal entry: the first
  // issued_count_ slots (slots are reused across events).
  std::vector<IssuedCommand> issued_;
  size_t issued_count_ = 0;
  std::vector<DurableCommand> issued_commands_;
  flatbuffers::FlatBufferBuilder fbb_;
  flatbuffers::FlatBufferBuilder state_fbb_;
};

}  // namespace ordersync
