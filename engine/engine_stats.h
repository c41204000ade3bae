// WorkerStats: counters a worker updates on its hot path without locks (relaxed atomic
// increments by the single owning thread) and anyone may read at any time. EngineStats
// is their sum, taken by Engine::Stats().
#pragma once

#include <atomic>
#include <cstdint>

namespace ordersync {

#define ORDERSYNC_WORKER_COUNTERS(X)                                                      \
  X(events_processed)    /* events taken off the queues */                                 \
  X(events_applied)      /* applied on arrival */                                          \
  X(events_parked)       /* parked on arrival */                                           \
  X(events_unparked)     /* parked events applied later */                                 \
  X(events_excepted)     /* recorded as exceptions (arrival, re-evaluation or timeout) */  \
  X(park_timeouts)       /* parked events that timed out */                                \
  X(duplicates_exact)    /* same event_id again */                                         \
  X(duplicates_business) /* same business fact under another event_id */                   \
  X(commands_emitted)    /* ERP commands written to the outbox */                          \
  X(batches_committed)   /* group commits written */                                       \
  X(batch_events)        /* events in committed batches (sum) */                           \
  X(batch_failures)      /* group commits the store refused */                             \
  X(commit_nanos)        /* time spent writing batches (sum) */                            \
  X(order_cache_misses)  /* orders read from the store */                                  \
  X(dedup_store_lookups) /* event_ids looked up in the store */

struct WorkerStats {
#define ORDERSYNC_DECLARE(name) std::atomic<uint64_t> name{0};
  ORDERSYNC_WORKER_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
  // Gauge: events currently parked in this worker's partitions.
  std::atomic<int64_t> parked_now{0};
};

struct EngineStats {
#define ORDERSYNC_DECLARE(name) uint64_t name = 0;
  ORDERSYNC_WORKER_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
  int64_t parked_now = 0;
  uint64_t queued = 0;  // events admitted but not yet processed
};

inline void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace ordersync
