// Worker: one thread that owns a fixed set of partitions (p % workers == index) and one
// stream of the event log. Its loop, the commit protocol:
//
//   1. take up to max_batch_events queued events (SameDay first), PartitionTasks and the
//      CommandNotes of the ERP fan-out;
//   2. apply them in memory through its EventProcessor, building one log record of what
//      it applied (and, when park deadlines passed, of the sweep);
//   3. append the record to its stream, durable per EngineOptions::durability — the
//      commit point; then write what tasks wrote to other tables (dead letters);
//   4. report each event's result to its sink, then hand the commands the record issued
//      to the OutboxListener;
//   5. every checkpoint_interval_s / _events: cut a checkpoint (the open epoch's effects
//      into a batch) and let the Checkpointer write it while the loop goes on; once it is
//      durable, truncate the stream before the position it covers.
//
// A failed append leaves the in-memory state ahead of the log: the batch's events get
// store_error and the worker rebuilds its partitions from their checkpoint and the log.
//
// Notes do not wake the worker: they are applied with the next group commit of events or
// after at most 50 ms of idleness (one append for a whole batch of them).
//
// Thread-safety: Enqueue, EnqueueNote and RequestCheckpoint may be called from any thread
// (lock-free queues; checkpoint requests take a mutex, they are rare). Recover,
// CheckpointBeforeStart and Start from the engine's opening thread before the loop runs;
// everything else runs on the worker's own thread. The partitions it owns are touched by
// no other thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "concurrentqueue/concurrentqueue.h"
#include "concurrentqueue/lightweightsemaphore.h"
#include "engine/checkpointer.h"
#include "engine/clock.h"
#include "engine/command_note.h"
#include "engine/event_log.h"
#include "engine/event_processor.h"
#include "engine/inbound_event.h"
#include "engine/log_apply.h"
#include "engine/log_record.h"
#include "engine/master_data_gate.h"
#include "engine/outbox_listener.h"

namespace ordersync {

class Worker {
 public:
  // `partitions` and `depths` are indexed by partition id and outlive the worker; this
  // worker uses the entries it owns. `master_data` (may be null) is the master data the
  // OrderAccepted checks read (engine/master_data_gate.h).
  Worker(uint32_t index, const EngineOptions& options, StateStore* store, EventLog* log, Checkpointer* checkpointer,
         const Clock* clock, const std::vector<std::unique_ptr<Partition>>* partitions, std::atomic<uint32_t>* depths,
         OutboxListener* outbox_listener, const MasterDataSource* master_data = nullptr);
  ~Worker();

  // Loads the owned partitions' checkpoints and replays the records of `streams` (the
  // log's older generations, in order) that they do not cover.
  Status Recover(const std::vector<LogStreamId>& streams, ReplayStats* stats);
  // Writes a checkpoint of every owned partition at the start of this worker's stream of
  // `generation`, durably (before the older generations are dropped).
  Status CheckpointBeforeStart(uint32_t generation);
  // Creates the worker's stream of `generation` and starts the thread.
  Status Start(uint32_t generation);
  // Processes everything already queued, writes a final checkpoint, stops the thread.
  void StopAndJoin();

  // Hands an event to this worker. The caller has already counted it in depths[partition]
  // (unless it carries a task: tasks are not subject to admission).
  void Enqueue(InboundEvent&& event, bool same_day);
  void EnqueueNote(CommandNote&& note);
  // Cuts a checkpoint covering everything processed before the call; `done` runs on the
  // worker thread once it is durable (or with the error that stopped it).
  void RequestCheckpoint(std::function<void(const Status&)> done);

  const WorkerStats& stats() const { return stats_; }
  // Bytes of log the worker's stream keeps on disk (after truncation).
  uint64_t log_retained_bytes() const { return log_retained_bytes_.load(std::memory_order_relaxed); }

 private:
  struct PendingResult {
    ResultSink* sink = nullptr;
    uint64_t cookie = 0;
    uint32_t partition = 0;
    EventOutcome outcome = EventOutcome::kApplied;
    std::string reason;
    bool is_task = false;
  };
  class TaskContext;

  void Run();
  // Moves up to `max` queued events (SameDay first) into items_[offset...].
  size_t Drain(size_t offset, size_t max);
  size_t DrainNotes();
  bool QueuesEmpty() const;
  bool Owns(uint32_t partition) const;
  // Steps 2-4 of the protocol for items_[0, events) and notes_[0, notes).
  void CommitGroup(size_t events, size_t notes, bool sweep_parked);
  // At the start of a live group commit: if the master data was swapped, logs and
  // applies a release_hold item per (partition, customer) whose credit hold it cleared.
  void ReleaseClearedHolds();
  // Replays `streams` onto the owned partitions from their checkpoint positions.
  Status Replay(const std::vector<LogStreamId>& streams, ReplayStats* stats);
  // After a failed append: rebuild the owned partitions from checkpoint + log.
  void Rebuild();
  // Checkpoints: cut one (REQUIRES: none in flight), submit it, and handle its completion.
  void CutCheckpoint(int64_t steady_now_ns);
  void SubmitCheckpoint();
  void PollCheckpoint(int64_t steady_now_ns);
  // Waits (on the worker thread) until no checkpoint is in flight.
  void WaitForCheckpoint();
  Durability CheckpointDurability() const;

  const uint32_t index_;
  const uint32_t workers_;
  const EngineOptions& options_;
  StateStore* const store_;
  EventLog* const log_;
  Checkpointer* const checkpointer_;
  const Clock* const clock_;
  const std::vector<std::unique_ptr<Partition>>* const partitions_;
  std::atomic<uint32_t>* const depths_;
  OutboxListener* const outbox_listener_;
  std::vector<Partition*> owned_;

  moodycamel::ConcurrentQueue<InboundEvent> same_day_queue_;
  moodycamel::ConcurrentQueue<InboundEvent> standard_queue_;
  moodycamel::ConcurrentQueue<CommandNote> note_queue_;
  moodycamel::LightweightSemaphore wake_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  WorkerStats stats_;
  WorkerStats replay_stats_;  // counters of replayed events go here, not into stats_
  MasterDataGate gate_;
  std::vector<std::pair<uint32_t, std::string>> releases_;  // scratch of ReleaseClearedHolds
  EventProcessor processor_;
  std::unique_ptr<LogStream> stream_;
  LogRecordBuilder record_;
  std::vector<InboundEvent> items_;
  std::vector<PendingResult> results_;
  std::vector<CommandNote> notes_;
  bool failed_ = false;  // the partitions could not be rebuilt: every batch fails
  int64_t next_expiry_check_ns_ = 0;

  // Checkpoints. accum_ collects the open epoch; frozen_ is the cut being written.
  std::unique_ptr<StoreBatch> accum_;
  std::unique_ptr<StoreBatch> frozen_;
  // What PartitionTasks write to other tables (dead letters), written after the append.
  std::unique_ptr<StoreBatch> direct_;
  uint64_t open_epoch_ = 1;
  bool cut_in_flight_ = false;
  uint64_t in_flight_epoch_ = 0;
  LogPosition in_flight_position_;
  int64_t in_flight_started_ns_ = 0;
  int64_t retry_checkpoint_at_ns_ = 0;  // after a failed checkpoint write
  std::atomic<bool> checkpoint_done_{false};
  Status checkpoint_status_;  // written by the checkpointer before checkpoint_done_
  uint64_t items_since_cut_ = 0;
  int64_t next_cut_ns_ = 0;
  std::atomic<uint64_t> log_retained_bytes_{0};

  std::mutex requests_mu_;
  std::vector<std::function<void(const Status&)>> requests_;  // GUARDED_BY(requests_mu_)
  std::atomic<bool> has_requests_{false};
  std::vector<std::function<void(const Status&)>> awaiting_cut_;  // of the cut in flight
};

}  // namespace ordersync
