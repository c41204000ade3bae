#include "engine/engine.h"

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
  }
  return "unknown";
}

Engine::Engine(const EngineOptions& options) : options_(options) {}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options, StateStore* store, const Clock* clock,
                                             OutboxListener* outbox_listener) {
  if (options.partitions == 0 || options.partitions > 65535) {
    return Status::InvalidArgument("engine.partitions must be 1..65535");
  }
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
  for (uint32_t w = 0; w < o.workers; ++w) {
    engine->workers_.push_back(std::make_unique<Worker>(w, engine->options_, store, clock, &engine->partitions_,
                                                        engine->depths_.get(), outbox_listener));
    ORDERSYNC_RETURN_IF_ERROR(engine->workers_.back()->Recover());
  }
  for (auto& w : engine->workers_) w->Start();
  engine->accepting_.store(true, std::memory_order_release);
  return engine;
}

Engine::~Engine() { Stop(); }

uint32_t Engine::PartitionFor(std::string_view order_id) const { return PartitionOf(order_id, options_.partitions); }

Status Engine::Submit(InboundEvent&& event) {
  InFlightSubmit in_flight(&submitting_);
  if (!accepting_.load(std::memory_order_acquire)) return Status::Unavailable("engine is stopping");

  const Envelope* envelope = GetEnvelope(event.bytes.data());
  const uint32_t p = PartitionOf(ToView(envelope->order_id()), options_.partitions);
  const bool same_day = envelope->priority() == Priority::SameDay;
  if (const LifecycleRule* rule = FindRule(envelope->payload_type()); rule != nullptr && rule->emits_count > 0) {
    std::string_view target = router_->Route(ToView(envelope->company_code()), rule->emits[0]);
    if (IsTargetBlocked(target)) {
      busy_target_blocked_.fetch_add(1, std::memory_order_relaxed);
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

void Engine::SetTargetBlocked(std::string_view target, bool blocked) {
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i] == target) target_blocked_[i].store(blocked, std::memory_order_relaxed);
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
