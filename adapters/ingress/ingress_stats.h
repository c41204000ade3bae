// IngressStats: what the ingress has seen and answered since it started. Counters are
// relaxed atomics: the ingress thread and the engine's worker threads (for results of
// submitted events) add to them; anyone may read them at any time (a snapshot of
// individually exact, not mutually consistent values). The per-reason rejections, the
// per-source throttles and the ack latency histogram have a single writer, the ingress
// thread (load + store, like engine_stats.h's Bump).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/envelope_validator.h"
#include "engine/stats_histogram.h"

namespace ordersync {

#define ORDERSYNC_INGRESS_COUNTERS(X)                                                     \
  X(batches_received)     /* messages (batches) read from the ack endpoint */             \
  X(pull_batches_received) /* messages read from the pull endpoint */                     \
  X(frames_received)      /* envelope frames, both endpoints */                            \
  X(accepted)             /* durable: applied, parked or excepted */                       \
  X(duplicate)            /* exact or business duplicate */                                \
  X(rejected)             /* failed validation or batch_too_large; quarantined */          \
  X(throttled)            /* over a rate limit (ack endpoint: answered; pull: delayed) */  \
  X(busy)                 /* back-pressure (ack endpoint: answered; pull: delayed) */      \
  X(store_errors)         /* events whose batch the store refused (answered Busy) */       \
  X(acks_sent)            /* IngressAck replies sent */                                    \
  X(acks_undeliverable)   /* replies ZeroMQ could not route (peer gone or its HWM full) */ \
  X(quarantined)          /* records written to the quarantine */                          \
  X(quarantine_dropped)   /* oldest records dropped to stay within the caps */             \
  X(quarantine_errors)    /* quarantine writes the store refused */                        \
  X(curve_accepted)       /* CURVE handshakes with an authorised key */                    \
  X(curve_refused)        /* CURVE handshakes with an unknown key */                       \
  X(pull_dropped_on_stop) /* pull events still refused by the engine when stopping */      \
  X(rate_limit_reloads)   /* rate limit updates applied */

// Rejection reasons, the `reason` label of ordersync_ingress_events_rejected_total: the
// validator's RejectCode wire names (index code - 1; the field suffix of the ack's
// reason is dropped, "missing_field" not "missing_field:order_id", to keep the label set
// fixed), then the ingress's own reasons.
inline constexpr std::string_view kIngressOwnRejectReasons[] = {"batch_too_large"};
inline constexpr size_t kValidatorRejectReasons = static_cast<size_t>(kLastRejectCode);
inline constexpr size_t kIngressRejectReasons = kValidatorRejectReasons + std::size(kIngressOwnRejectReasons);
inline constexpr size_t kRejectReasonBatchTooLarge = kValidatorRejectReasons;

// REQUIRES: code != RejectCode::kNone.
inline size_t RejectReasonIndex(RejectCode code) { return static_cast<size_t>(code) - 1; }
inline std::string_view IngressRejectReasonName(size_t index) {
  if (index < kValidatorRejectReasons) return RejectCodeName(static_cast<RejectCode>(index + 1));
  return kIngressOwnRejectReasons[index - kValidatorRejectReasons];
}

// The `source` label of ordersync_ingress_events_throttled_total for every source not
// named in the rate-limit config at start (see IngressServer).
inline constexpr std::string_view kOtherSourceLabel = "other";

// Bucket bounds (inclusive, ns) of the ack latency: a batch's receive → its reply sent,
// which includes the engine's group commit.
inline constexpr int64_t kIngressAckLatencyBoundsNs[] = {
    100'000,    250'000,    500'000,     1'000'000,   2'500'000,   5'000'000,     10'000'000, 25'000'000,
    50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

struct IngressCounters {
#define ORDERSYNC_DECLARE(name) std::atomic<uint64_t> name{0};
  ORDERSYNC_INGRESS_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
  // Ingress thread only: `rejected` split by reason index (see above).
  std::atomic<uint64_t> rejected_by_reason[kIngressRejectReasons] = {};
  // Ingress thread only: per reply sent on the ack endpoint, receive → send (ns).
  StatsHistogram ack_latency_ns{kIngressAckLatencyBoundsNs};
};

struct IngressStats {
#define ORDERSYNC_DECLARE(name) uint64_t name = 0;
  ORDERSYNC_INGRESS_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
  uint64_t pending_batches = 0;  // acknowledged batches waiting for engine results
  std::array<uint64_t, kIngressRejectReasons> rejected_by_reason{};  // by reason index
  // Throttled events by source label: the sources of the startup rate-limit config, then
  // kOtherSourceLabel. Fixed for the server's lifetime.
  std::vector<std::pair<std::string, uint64_t>> throttled_by_source;
  HistogramSnapshot ack_latency_ns;
};

}  // namespace ordersync
