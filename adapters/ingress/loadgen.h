// LoadGenerator: simulates N warehouse producers against a running ingress. Each
// producer is one thread with its own socket and its own realistic order lifecycles
// (LifecycleGenerator), delivered with configurable disorder: exact duplicates, business
// duplicates, out-of-order delivery, malformed frames and SameDay priority, at a target
// rate (with optional bursts) or flat out.
//
//  - ack mode (DEALER, AckClient): batched, bounded in-flight window, Lazy Pirate
//    resends, Busy/Throttled events resent after retry_after_ms; every event's final
//    status is checked against what it should be (a malformed frame must be Rejected, a
//    valid one Accepted or Duplicate) and mismatches are counted as `unexpected`.
//  - push mode (PUSH): the same frames, fire-and-forget; ZeroMQ's HWM paces the sender.
//
// Run() blocks for the run's duration plus the drain of outstanding events, calling
// `progress` about once a second from the calling thread.
//
// Thread-safety: Run() once, from one thread; it starts `producers` threads of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ordersync {

struct LoadgenOptions {
  std::string endpoint = "tcp://127.0.0.1:7100";
  bool push = false;             // fire-and-forget (PUSH) instead of acknowledged (DEALER)
  uint32_t producers = 4;
  double rate = 0;               // target events/s over all producers; 0 = flat out
  double seconds = 10;           // how long to generate
  uint64_t max_events = 0;       // stop generating after this many events (0 = no limit)
  uint32_t batch_events = 64;
  uint32_t window = 8;           // in-flight batches per producer
  int ack_timeout_ms = 2000;     // Lazy Pirate resend timeout
  double drain_seconds = 30;     // after generating: wait this long for outstanding acks
  double exact_duplicate_share = 0.05;
  double business_duplicate_share = 0.02;
  double out_of_order_share = 0.2;
  double malformed_share = 0.001;
  double same_day_share = 0.1;
  double burst_every_s = 0;      // 0 = no bursts
  double burst_seconds = 1;
  double burst_factor = 5;       // rate multiplier during a burst
  uint64_t seed = 1;
  std::string order_prefix;      // "" = "LG<seed>-"
  // CURVE (Z85 strings); empty = plain TCP.
  std::string curve_server_public_z85;
  std::string curve_public_z85;
  std::string curve_secret_z85;
};

struct LoadgenSummary {
  double seconds = 0;                // generating + draining
  uint64_t orders = 0;
  uint64_t sent = 0;                 // events generated and sent (first sends)
  uint64_t malformed_sent = 0;
  uint64_t duplicates_sent = 0;      // exact + business copies
  uint64_t same_day_sent = 0;
  uint64_t accepted = 0, duplicate = 0, rejected = 0;
  uint64_t unexpected = 0;           // a final status other than the event's kind calls for
  uint64_t unanswered = 0;           // still outstanding when the drain ended
  uint64_t busy_retries = 0, throttled_retries = 0;
  uint64_t batches_sent = 0, batches_resent = 0, reconnects = 0, stale_acks = 0;
  double events_per_s = 0;           // final answers (ack) or sends (push) per second
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;  // batch ack latency
  std::string first_unexpected;      // description of the first mismatch, if any
};

struct LoadgenProgress {
  double elapsed_s = 0;
  uint64_t sent = 0, answered = 0, accepted = 0, duplicate = 0, rejected = 0;
  uint64_t busy_retries = 0, throttled_retries = 0, resends = 0;
};

// Runs the load; returns the summary (also when the server never answered).
LoadgenSummary RunLoadgen(const LoadgenOptions& options,
                          const std::function<void(const LoadgenProgress&)>& progress);

// The summary as one JSON object.
std::string LoadgenSummaryJson(const LoadgenOptions& options, const LoadgenSummary& summary);

}  // namespace ordersync
