// IngressStats: what the ingress has seen and answered since it started. Counters are
// relaxed atomics: the ingress thread and the engine's worker threads (for results of
// submitted events) add to them; anyone may read them at any time (a snapshot of
// individually exact, not mutually consistent values).
#pragma once

#include <atomic>
#include <cstdint>

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

struct IngressCounters {
#define ORDERSYNC_DECLARE(name) std::atomic<uint64_t> name{0};
  ORDERSYNC_INGRESS_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
};

struct IngressStats {
#define ORDERSYNC_DECLARE(name) uint64_t name = 0;
  ORDERSYNC_INGRESS_COUNTERS(ORDERSYNC_DECLARE)
#undef ORDERSYNC_DECLARE
  uint64_t pending_batches = 0;  // acknowledged batches waiting for engine results
};

}  // namespace ordersync
