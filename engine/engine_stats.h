// WorkerStats: counters a worker updates on its hot path without locks (relaxed atomic
// increments by the single owning thread) and anyone may read at any time. EngineStats
// is their sum, taken by Engine::Stats().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "engine/stats_histogram.h"

namespace ordersync {

#define ORDERSYNC_WORKER_COUNTERS(X)                                                      \
  X(events_processed)    /* events taken off the queues */                                 \
  X(events_applied)      /* applied on arrival */                                          \
  X(events_parked)       /* parked on arrival */                                           \
  X(events_unparked)     /* parked events applied later */                                 \
  X(events_excepted)     /* recorded as exceptions (arrival, re-evaluation or timeout) */  \
  X(events_excepted_on_arrival) /* of those, excepted when they arrived */                 \
  X(park_timeouts)       /* parked events that timed out */                                \
  X(duplicates_exact)    /* same event_id again */                                         \
  X(duplicates_business) /* same business fact under another event_id */                   \
  X(commands_emitted)    /* ERP commands written to the outbox */                          \
  X(batches_committed)   /* group commits appended to the event log */                     \
  X(batch_events)        /* events in committed batches (sum) */                           \
  X(batch_failures)      /* group commits the event log refused */                         \
  X(commit_nanos)        /* time spent appending to the event log (sum) */                 \
  X(log_bytes)           /* event-log record bytes appended */                             \
  X(notes_applied)       /* CommandNotes of the ERP fan-out applied */                     \
  X(checkpoints)         /* checkpoints written */                                         \
  X(checkpoint_failures) /* checkpoint writes the store refused (retried) */               \
  X(checkpoint_cut_nanos) /* worker time spent cutting checkpoints (sum) */                \
  X(checkpoint_write_nanos) /* checkpointer time spent writing them (sum) */               \
  X(order_cache_misses)  /* orders read from the store */                                  \
  X(dedup_store_lookups) /* event_ids looked up in the store */                            \
  X(credit_holds_released) /* orders released from credit hold by a master-data change */

// Exceptions are counted by the stage that recorded them (storage.fbs ExceptionRecord)
// and by failure class (FailureClass value, lifecycle_rules.h).
inline constexpr std::array<std::string_view, 6> kExceptionStages{"dedup",   "sequencing",   "lifecycle",
                                                                  "routing", "park_timeout", "master_data"};
inline constexpr size_t kExceptionClasses = 6;
// Index of `stage` in kExceptionStages; unknown stages count as "lifecycle".
inline size_t ExceptionStageIndex(std::string_view stage) {
  for (size_t i = 0; i < kExceptionStages.size(); ++i) {
    if (kExceptionStages[i] == stage) return i;
  }
  return 2;
}

// Bucket bounds of the group-commit histograms (inclusive upper bounds).
inline constexpr int64_t kCommitLatencyBoundsNs[] = {
    25'000,     50'000,     100'000,     250'000,     500'000,     1'000'000,   2'500'000,  5'000'000,
    10'000'000, 25'000'000, 50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000};
inline constexpr int64_t kBatchEventsBounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384};

struct WorkerStats {
#define ORDERSYNC_DECLARE(name) std::atomic<uint64_t> name{0};
  ORDERSYNC_WORKER_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
  // Gauge: events currently parked in this worker's partitions.
  std::atomic<int64_t> parked_now{0};
  // Exceptions recorded, [stage index][FailureClass].
  std::atomic<uint64_t> exceptions[kExceptionStages.size()][kExceptionClasses] = {};
  // Per group commit: the store write's duration (ns) and the events it carried.
  StatsHistogram commit_latency_ns{kCommitLatencyBoundsNs};
  StatsHistogram batch_events_hist{kBatchEventsBounds};
};

struct EngineStats {
#define ORDERSYNC_DECLARE(name) uint64_t name = 0;
  ORDERSYNC_WORKER_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
  int64_t parked_now = 0;
  uint64_t queued = 0;  // events admitted but not yet processed
  uint64_t exceptions[kExceptionStages.size()][kExceptionClasses] = {};
  HistogramSnapshot commit_latency_ns;
  HistogramSnapshot batch_events_hist;
  // Submit answered Busy: the partition's queue was full / the event's ERP target is
  // backlogged (Engine::SetTargetBlocked).
  uint64_t busy_queue_full = 0;
  uint64_t busy_target_blocked = 0;
};

inline void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace ordersync
