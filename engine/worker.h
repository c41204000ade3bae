// Worker: one thread that owns a fixed set of partitions (p % workers == index). It takes
// events off two lock-free queues (SameDay first, then Standard), applies them through
// its EventProcessor into one StoreBatch, writes the batch (group commit) and only then
// reports each event's result to its sink. PartitionTasks (Engine::SubmitTask) travel the
// SameDay queue and run inside the same group commit. It also times out parked events.
//
// Thread-safety: Enqueue may be called from any thread (lock-free multi-producer queues);
// everything else runs on the worker's own thread. The partitions it owns are touched by
// no other thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "concurrentqueue/concurrentqueue.h"
#include "concurrentqueue/lightweightsemaphore.h"
#include "engine/event_processor.h"
#include "engine/inbound_event.h"

namespace ordersync {

// Told after each group commit which partitions appended commands to their outbox.
// Called on the worker thread; must not block.
class OutboxListener {
 public:
  virtual ~OutboxListener() = default;
  // Commands up to (excluding) `next_outbox_seq` of `partition` are durable.
  virtual void OnOutboxAppended(uint32_t partition, uint64_t next_outbox_seq) = 0;
};

class Worker {
 public:
  // `partitions` and `depths` are indexed by partition id and outlive the worker; this
  // worker uses the entries it owns.
  Worker(uint32_t index, const EngineOptions& options, StateStore* store, const Clock* clock,
         const std::vector<std::unique_ptr<Partition>>* partitions, std::atomic<uint32_t>* depths,
         OutboxListener* outbox_listener);
  ~Worker();

  // Loads the durable counters and park deadlines of the owned partitions.
  Status Recover();
  void Start();
  // Processes everything already queued, commits, and stops the thread.
  void StopAndJoin();

  // Hands an event to this worker. The caller has already counted it in depths[partition]
  // (unless it carries a task: tasks are not subject to admission).
  void Enqueue(InboundEvent&& event, bool same_day);

  const WorkerStats& stats() const { return stats_; }

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
  bool ExpireDue(int64_t now_ns);
  void Touch(Partition* p);
  void CommitBatch(size_t events);
  bool QueuesEmpty() const;

  const EngineOptions& options_;
  StateStore* const store_;
  const Clock* const clock_;
  const std::vector<std::unique_ptr<Partition>>* const partitions_;
  std::atomic<uint32_t>* const depths_;
  OutboxListener* const outbox_listener_;
  std::vector<Partition*> owned_;

  moodycamel::ConcurrentQueue<InboundEvent> same_day_queue_;
  moodycamel::ConcurrentQueue<InboundEvent> standard_queue_;
  moodycamel::LightweightSemaphore wake_;
  std::atomic<bool> stop_{false};
  std::thread thread_;

  WorkerStats stats_;
  EventProcessor processor_;
  std::unique_ptr<StoreBatch> batch_;
  std::vector<InboundEvent> items_;
  std::vector<PendingResult> results_;
  std::vector<Partition*> touched_;
  int64_t next_expiry_check_ns_ = 0;
};

}  // namespace ordersync
