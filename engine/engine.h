// Engine: the engine core's front door. Routes each validated event to its logical
// partition (hash(order_id) % partitions), whose owning worker applies it (see worker.h
// and event_processor.h); results come back through the event's ResultSink once durable.
//
//   auto engine = Engine::Open(options, store, clock);   // recovers partitions
//   Status s = (*engine)->Submit(std::move(event));      // Busy when the partition is full
//   ...
//   (*engine)->Stop();                                   // drains, commits, joins
//
// Thread-safety: Submit, Stats and QueueDepth may be called from any thread, concurrently.
// Open and Stop from one controlling thread. The store and clock must outlive the engine.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/clock.h"
#include "engine/engine_options.h"
#include "engine/engine_stats.h"
#include "engine/inbound_event.h"
#include "engine/partition.h"
#include "engine/partition_task.h"
#include "engine/router.h"
#include "engine/state_store.h"
#include "engine/status.h"
#include "engine/worker.h"

namespace ordersync {

class Engine {
 public:
  // Opens the engine on `store`: recovers every partition's counters and parked events,
  // then starts the workers. `outbox_listener` (may be null) hears of new commands.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options, StateStore* store,
                                              const Clock* clock = SystemClock::Default(),
                                              OutboxListener* outbox_listener = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues `event` for its partition. REQUIRES: event.bytes passed ValidateEnvelope.
  // Returns Busy (event left untouched) when the partition's queue is full; SameDay
  // events may use priority_reserve extra slots. Unavailable after Stop().
  Status Submit(InboundEvent&& event);

  // Runs `task` on the worker owning `partition`, inside its next group commit. Not
  // subject to admission limits (control work must get through under load).
  // Unavailable after Stop(); InvalidArgument for a partition out of range.
  Status SubmitTask(uint32_t partition, std::unique_ptr<PartitionTask> task);

  // Back-pressure from the ERP side: while a target is blocked (its outbox is over its
  // high-water mark), Submit answers Busy for events whose commands route to it. Unknown
  // targets are ignored. Any thread.
  void SetTargetBlocked(std::string_view target, bool blocked);
  bool IsTargetBlocked(std::string_view target) const;

  // Stops accepting, processes and commits everything queued, joins the workers.
  void Stop();

  uint32_t PartitionFor(std::string_view order_id) const;
  // Events admitted to `partition` and not yet finished.
  uint32_t QueueDepth(uint32_t partition) const { return depths_[partition].load(std::memory_order_relaxed); }
  EngineStats Stats() const;
  const EngineOptions& options() const { return options_; }

 private:
  explicit Engine(const EngineOptions& options);

  EngineOptions options_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::unique_ptr<std::atomic<uint32_t>[]> depths_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Router> router_;
  // Targets known to the routing table, and whether each is blocked (same index).
  std::vector<std::string> targets_;
  std::unique_ptr<std::atomic<bool>[]> target_blocked_;
  // Submit calls answered Busy (counted on the refusal path only; see EngineStats).
  std::atomic<uint64_t> busy_queue_full_{0};
  std::atomic<uint64_t> busy_target_blocked_{0};
  std::atomic<bool> accepting_{false};
  std::atomic<int> submitting_{0};
};

}  // namespace ordersync
