// Engine: the engine core's front door. Routes each validated event to its logical
// partition (hash(order_id) % partitions), whose owning worker applies it in memory and
// appends it to its stream of the event log (see worker.h and event_processor.h); results
// come back through the event's ResultSink once the log record is durable. State is
// written to the StateStore as periodic checkpoints.
//
//   auto engine = Engine::Open(options, store, log, clock);  // recovers partitions
//   Status s = (*engine)->Submit(std::move(event));          // Busy when the partition is full
//   ...
//   (*engine)->Stop();                                       // drains, checkpoints, joins
//
// Open recovers: it loads every partition's checkpoint, replays the log after it through
// the same processor (in parallel, one thread per worker), writes a checkpoint of
// everything, drops the replayed generations and starts a new one (event_log.h).
//
// Thread-safety: Submit, SubmitTask, SubmitNotes, Checkpoint, Stats and QueueDepth may be
// called from any thread, concurrently. Open and Stop from one controlling thread. The
// store, the log and the clock must outlive the engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/checkpointer.h"
#include "engine/clock.h"
#include "engine/command_note.h"
#include "engine/dispatcher_host.h"
#include "engine/engine_options.h"
#include "engine/event_intake.h"
#include "engine/event_log.h"
#include "engine/engine_stats.h"
#include "engine/inbound_event.h"
#include "engine/master_data.h"
#include "engine/partition.h"
#include "engine/partition_task.h"
#include "engine/router.h"
#include "engine/state_store.h"
#include "engine/status.h"
#include "engine/worker.h"

namespace ordersync {

// What Open found and did.
struct RecoveryReport {
  uint32_t generation = 0;      // the log generation this run appends to
  uint64_t replayed_records = 0;
  uint64_t replayed_events = 0;
  uint64_t replayed_notes = 0;
  uint64_t replayed_log_bytes = 0;
  uint64_t torn_bytes = 0;      // cut from stream ends (a crash in the middle of an append)
  int64_t duration_ns = 0;      // from Open's start until the workers run
};

// The single node's EventIntake (the ingresses submit to it) and DispatcherHost (the ERP
// dispatcher talks to it through that interface).
class Engine final : public EventIntake, public DispatcherHost {
 public:
  // Opens the engine on `store` and `log` and recovers (see above), then starts the
  // workers. `outbox_listener` (may be null) receives the commands made durable.
  // `master_data` (may be null; outlives the engine) is what the master-data checks of
  // options.master_data read (engine/master_data_gate.h).
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options, StateStore* store, EventLog* log,
                                              const Clock* clock = SystemClock::Default(),
                                              OutboxListener* outbox_listener = nullptr,
                                              const MasterDataSource* master_data = nullptr);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues `event` for its partition. REQUIRES: event.bytes passed ValidateEnvelope.
  // Returns Busy (event left untouched) when the partition's queue is full; SameDay
  // events may use priority_reserve extra slots. Unavailable after Stop().
  Status Submit(InboundEvent&& event);

  // Runs `task` on the worker owning `partition`, inside its next group commit. Not
  // subject to admission limits (control work must get through under load).
  // Unavailable after Stop(); InvalidArgument for a partition out of range.
  Status SubmitTask(uint32_t partition, std::unique_ptr<PartitionTask> task) override;

  // What the ERP fan-out says about commands it took over (answers, re-sends, dead
  // letters): logged with the partition's next group commit. Unavailable after Stop().
  Status SubmitNotes(std::vector<CommandNote>&& notes) override;

  // Cuts a checkpoint of every partition covering everything processed before the call
  // and waits until it is durable, so the StateStore shows all of it (tests, `trace`).
  Status Checkpoint() const;

  // Back-pressure from the ERP side: while a target is blocked (its outbox is over its
  // high-water mark, or its circuit is open), Submit answers Busy for events whose
  // commands route to it, suggesting `retry_after_ms` (0: the ingress default). Unknown
  // targets are ignored. Any thread.
  void SetTargetBlocked(std::string_view target, bool blocked, uint32_t retry_after_ms = 0) override;
  bool IsTargetBlocked(std::string_view target) const;

  // As Submit; when it answers Busy because the event's ERP target is blocked, sets
  // *retry_after_ms to the target's suggested wait (else leaves it alone). EventIntake.
  Status Submit(InboundEvent&& event, uint32_t* retry_after_ms) override;

  // Stops accepting, processes everything queued, writes a final checkpoint, joins the
  // workers.
  void Stop();

  uint32_t PartitionFor(std::string_view order_id) const;
  // Events admitted to `partition` and not yet finished.
  uint32_t QueueDepth(uint32_t partition) const { return depths_[partition].load(std::memory_order_relaxed); }
  EngineStats Stats() const;
  const EngineOptions& options() const { return options_; }
  Durability durability() const override { return options_.durability; }
  const RecoveryReport& recovery() const { return recovery_; }
  // Event-log bytes kept on disk across all streams (after truncation).
  uint64_t LogRetainedBytes() const;

 private:
  explicit Engine(const EngineOptions& options);

  EngineOptions options_;
  RecoveryReport recovery_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::unique_ptr<std::atomic<uint32_t>[]> depths_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Router> router_;
  // Targets known to the routing table, and whether each is blocked (same index).
  std::vector<std::string> targets_;
  std::unique_ptr<std::atomic<bool>[]> target_blocked_;
  std::unique_ptr<std::atomic<uint32_t>[]> target_retry_after_ms_;
  // Submit calls answered Busy (counted on the refusal path only; see EngineStats).
  std::atomic<uint64_t> busy_queue_full_{0};
  std::atomic<uint64_t> busy_target_blocked_{0};
  std::atomic<bool> accepting_{false};
  mutable std::atomic<int> submitting_{0};
};

}  // namespace ordersync
