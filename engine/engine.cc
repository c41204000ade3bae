#include "engine/engine.h"

#include <chrono>
#include <future>
#include <thread>

#include "engine/hash.h"
#include "engine/lifecycle_rules.h"
#include "milestone_generated.h"

namespace ordersync {
namespace {

// Counts a Submit/SubmitTask call in progress, so Stop() can wait for it to enqueue.
class InFlightSubmit {
 public:
  explicit InFlightSubmit(std::atomic<int>* n) : n_(n) { n_->fetch_add(1, std::memory_order_acq_rel); }
  ~InFlightSubmit() { n_->fetch_sub(1, std::memory_order_acq_rel); }

 private:
  std::atomic<int>* n_;
};

}  // namespace

std::string_view EventOutcomeName(EventOutcome outcome) {
  switch (outcome) {
    case EventOutcome::kApplied: return "applied";
    case EventOutcome::kParked: return "parked";
    case EventOutcome::kExcepted: return "excepted";
    case EventOutcome::kDuplicateExact: return "duplicate_exact";
    case EventOutcome::kDuplicateBusiness: return "duplicate_business";
    case EventOutcome::kStoreError: return "store_error";
    case EventOutcome::kLogged: return "logged";
  }
  return "unknown";
}

Engine::Engine(const EngineOptions& options) : options_(options) {}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options, StateStore* store, EventLog* log,
                                             const Clock* clock, OutboxListener* outbox_listener,
                                             const MasterDataSource* master_data) {
  if (options.partitions == 0 || options.partitions > 65535) {
    return Status::InvalidArgument("engine.partitions must be 1..65535");
  }
  if (log == nullptr) return Status::InvalidArgument("the engine needs an event log");
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Engine> engine(new Engine(options));
  EngineOptions& o = engine->options_;
  if (o.workers == 0) o.workers = std::max(1u, std::thread::hardware_concurrency());
  if (o.workers > o.partitions) o.workers = o.partitions;
  const size_t order_cache = std::max<size_t>(1, o.order_cache_capacity / o.partitions);
  const size_t dedup_cache = std::max<size_t>(1, o.dedup_cache_capacity / o.partitions);
  for (uint32_t p = 0; p < o.partitions; ++p) {
    engine->partitions_.push_back(std::make_unique<Partition>(p, order_cache, dedup_cache));
  }
  engine->depths_ = std::make_unique<std::atomic<uint32_t>[]>(o.partitions);
  engine->router_ = std::make_unique<Router>(engine->options_.routing);
  engine->targets_ = engine->router_->Targets();
  engine->target_blocked_ = std::make_unique<std::atomic<bool>[]>(engine->targets_.size());
  engine->target_retry_after_ms_ = std::make_unique<std::atomic<uint32_t>[]>(engine->targets_.size());
  engine->checkpointer_ = std::make_unique<Checkpointer>();
  for (uint32_t w = 0; w < o.workers; ++w) {
    engine->workers_.push_back(std::make_unique<Worker>(w, engine->options_, store, log, engine->checkpointer_.get(),
                                                        clock, &engine->partitions_, engine->depths_.get(),
                                                        outbox_listener, master_data));
  }

  // Recovery: each worker loads its partitions' checkpoints and replays the log after
  // them, in parallel.
  std::vector<LogStreamId> streams;
  ORDERSYNC_RETURN_IF_ERROR(log->ListStreams(&streams));
  std::vector<ReplayStats> replayed(o.workers);
  std::vector<Status> recovered(o.workers);
  {
    std::vector<std::thread> threads;
    for (uint32_t w = 0; w < o.workers; ++w) {
      threads.emplace_back([&, w] { recovered[w] = engine->workers_[w]->Recover(streams, &replayed[w]); });
    }
    for (auto& t : threads) t.join();
  }
  for (const Status& s : recovered) ORDERSYNC_RETURN_IF_ERROR(s);
  RecoveryReport& report = engine->recovery_;
  for (const ReplayStats& r : replayed) {
    report.replayed_records += r.records;
    report.replayed_events += r.events;
    report.replayed_notes += r.notes;
    report.replayed_log_bytes += r.log_bytes;
    report.torn_bytes += r.torn_bytes;
  }
  // A new generation, above every one the log or a checkpoint has seen.
  uint32_t generation = log->LastGeneration();
  for (const auto& p : engine->partitions_) generation = std::max(generation, p->checkpoint.generation);
  ++generation;
  report.generation = generation;
  // Everything replayed goes into a checkpoint before the old generations are dropped.
  for (auto& w : engine->workers_) ORDERSYNC_RETURN_IF_ERROR(w->CheckpointBeforeStart(generation));
  ORDERSYNC_RETURN_IF_ERROR(log->DropGenerationsBefore(generation));
  for (auto& w : engine->workers_) ORDERSYNC_RETURN_IF_ERROR(w->Start(generation));
  report.duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started)
                           .count();
  engine->accepting_.store(true, std::memory_order_release);
  return engine;
}

Engine::~Engine() { Stop(); }

uint32_t Engine::PartitionFor(std::string_view order_id) const { return PartitionOf(order_id, options_.partitions); }

Status Engine::Submit(InboundEvent&& event) { return Submit(std::move(event), nullptr); }

Status Engine::Submit(InboundEvent&& event, uint32_t* retry_after_ms) {
  InFlightSubmit in_flight(&submitting_);
  if (!accepting_.load(std::memory_order_acquire)) return Status::Unavailable("engine is stopping");

  const Envelope* envelope = GetEnvelope(event.bytes.data());
  const uint32_t p = PartitionOf(ToView(envelope->order_id()), options_.partitions);
  const bool same_day = envelope->priority() == Priority::SameDay;
  if (const LifecycleRule* rule = FindRule(envelope->payload_type()); rule != nullptr && rule->emits_count > 0) {
    std::string_view target = router_->Route(ToView(envelope->company_code()), rule->emits[0]);
    for (size_t i = 0; i < targets_.size(); ++i) {
      if (targets_[i] != target || !target_blocked_[i].load(std::memory_order_relaxed)) continue;
      busy_target_blocked_.fetch_add(1, std::memory_order_relaxed);
      const uint32_t hint = target_retry_after_ms_[i].load(std::memory_order_relaxed);
      if (retry_after_ms != nullptr && hint > 0) *retry_after_ms = hint;
      return Status::Busy("ERP target " + std::string(target) + " is backlogged");
    }
  }
  const uint32_t limit = options_.partition_queue_capacity + (same_day ? options_.priority_reserve : 0);
  if (depths_[p].fetch_add(1, std::memory_order_acq_rel) >= limit) {
    depths_[p].fetch_sub(1, std::memory_order_acq_rel);
    busy_queue_full_.fetch_add(1, std::memory_order_relaxed);
    return Status::Busy("partition " + std::to_string(p) + " queue is full");
  }
  event.partition = p;
  workers_[p % workers_.size()]->Enqueue(std::move(event), same_day);
  return Status::OK();
}

Status Engine::SubmitTask(uint32_t partition, std::unique_ptr<PartitionTask> task) {
  if (partition >= options_.partitions) return Status::InvalidArgument("no partition " + std::to_string(partition));
  InFlightSubmit in_flight(&submitting_);
  if (!accepting_.load(std::memory_order_acquire)) return Status::Unavailable("engine is stopping");
  InboundEvent ev;
  ev.partition = partition;
  ev.task = std::move(task);
  workers_[partition % workers_.size()]->Enqueue(std::move(ev), /*same_day=*/true);
  return Status::OK();
}

Status Engine::SubmitNotes(std::vector<CommandNote>&& notes) {
  InFlightSubmit in_flight(&submitting_);
  if (!accepting_.load(std::memory_order_acquire)) return Status::Unavailable("engine is stopping");
  for (CommandNote& n : notes) {
    if (n.partition >= options_.partitions) continue;
    workers_[n.partition % workers_.size()]->EnqueueNote(std::move(n));
  }
  notes.clear();
  return Status::OK();
}

Status Engine::Checkpoint() const {
  std::vector<std::future<Status>> done;
  {
    // Held while requesting: Stop waits for it, so every request is answered by the
    // workers' final checkpoint at the latest.
    InFlightSubmit in_flight(&submitting_);
    if (!accepting_.load(std::memory_order_acquire)) return Status::Unavailable("engine is stopping");
    for (auto& w : workers_) {
      auto promise = std::make_shared<std::promise<Status>>();
      done.push_back(promise->get_future());
      w->RequestCheckpoint([promise](const Status& s) { promise->set_value(s); });
    }
  }
  Status result;
  for (auto& f : done) {
    Status s = f.get();
    if (result.ok() && !s.ok()) result = s;
  }
  return result;
}

uint64_t Engine::LogRetainedBytes() const {
  uint64_t total = 0;
  for (const auto& w : workers_) total += w->log_retained_bytes();
  return total;
}

void Engine::SetTargetBlocked(std::string_view target, bool blocked, uint32_t retry_after_ms) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i] != target) continue;
    target_retry_after_ms_[i].store(retry_after_ms, std::memory_order_relaxed);
    target_blocked_[i].store(blocked, std::memory_order_relaxed);
  }
}

bool Engine::IsTargetBlocked(std::string_view target) const {
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i] == target) return target_blocked_[i].load(std::memory_order_relaxed);
  }
  return false;
}

void Engine::Stop() {
  accepting_.store(false, std::memory_order_release);
  // Let submitters that got past the check finish enqueuing, so nothing is stranded.
  while (submitting_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  for (auto& w : workers_) w->StopAndJoin();
}

EngineStats Engine::Stats() const {
  EngineStats total;
  for (const auto& w : workers_) {
    const WorkerStats& s = w->stats();
#define ORDERSYNC_SUM(name) total.name += s.name.load(std::memory_order_relaxed);
    ORDERSYNC_WORKER_COUNTERS(ORDERSYNC_SUM)
#undef ORDERSYNC_SUM
    total.parked_now += s.parked_now.load(std::memory_order_relaxed);
    for (size_t st = 0; st < kExceptionStages.size(); ++st) {
      for (size_t c = 0; c < kExceptionClasses; ++c) total.exceptions[st][c] += s.exceptions[st][c].load(std::memory_order_relaxed);
    }
    s.commit_latency_ns.AddTo(&total.commit_latency_ns);
    s.batch_events_hist.AddTo(&total.batch_events_hist);
  }
  total.busy_queue_full = busy_queue_full_.load(std::memory_order_relaxed);
  total.busy_target_blocked = busy_target_blocked_.load(std::memory_order_relaxed);
  for (uint32_t p = 0; p < options_.partitions; ++p) total.queued += depths_[p].load(std::memory_order_relaxed);
  return total;
}

}  // namespace ordersync
