#include "engine/engine.h"

#include <thread>

#include "engine/hash.h"
#include "milestone_generated.h"

namespace ordersync {

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
  submitting_.fetch_add(1, std::memory_order_acq_rel);
  struct Leave {
    std::atomic<int>& n;
    ~Leave() { n.fetch_sub(1, std::memory_order_acq_rel); }
  } leave{submitting_};
  if (!accepting_.load(std::memory_order_acquire)) return Status::Unavailable("engine is stopping");

  const Envelope* envelope = GetEnvelope(event.bytes.data());
  const uint32_t p = PartitionOf(ToView(envelope->order_id()), options_.partitions);
  const bool same_day = envelope->priority() == Priority::SameDay;
  const uint32_t limit = options_.partition_queue_capacity + (same_day ? options_.priority_reserve : 0);
  if (depths_[p].fetch_add(1, std::memory_order_acq_rel) >= limit) {
    depths_[p].fetch_sub(1, std::memory_order_acq_rel);
    return Status::Busy("partition " + std::to_string(p) + " queue is full");
  }
  event.partition = p;
  workers_[p % workers_.size()]->Enqueue(std::move(event), same_day);
  return Status::OK();
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
  }
  for (uint32_t p = 0; p < options_.partitions; ++p) total.queued += depths_[p].load(std::memory_order_relaxed);
  return total;
}

}  // namespace ordersync
