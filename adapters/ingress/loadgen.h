// LoadGenerator: simulates N warehouse producers against a running ingress. Each
// producer is one thread with its own socket and its own realistic order lifecycles
// (ProducerStream, adapters/producer/producer_stream.h), delivered with configurable
// disorder: exact duplicates, business duplicates, out-of-order delivery, malformed frames
// and SameDay priority, at a target rate (with optional bursts) or flat out.
//
//  - ack mode (DEALER, AckClient): batched, bounded in-flight window, Lazy Pirate
//    resends, Busy/Throttled events resent after retry_after_ms; every event's final
//    status is checked against what it should be (a malformed frame must be Rejected, a
//    valid one Accepted or Duplicate) and mismatches are counted as `unexpected`.
//  - push mode (PUSH): the same frames, fire-and-forget; ZeroMQ's HWM paces the sender.
//  - optional: mutated frames (bit flips, truncation, wrong identifier, oversized, newer
//    schema version; each must be Rejected with the reason the engine's validator gives
//    it) and an event log of every event's final status (for bench/faults' checker).
//
// Run() blocks for the run's duration plus the drain of outstanding events, calling
// `progress` every progress_every_s (default once a second) from the calling thread.
//
// Thread-safety: Run() once, from one thread; it starts `producers` threads of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "adapters/ingress/retry_after_stats.h"
#include "adapters/producer/lifecycle_generator.h"

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
  double progress_every_s = 1;   // how often Run() calls `progress` (the fault suite: 0.1)
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
  // Encode each frame when it is handed to its producer's socket and set its occurred_at_ns
  // to that wall-clock time (instead of generated business times), so a receiver can
  // measure event-to-ERP latency from ErpCommand.event_occurred_at_ns.
  bool stamp_send_time = false;
  // CURVE (Z85 strings); empty = plain TCP.
  std::string curve_server_public_z85;
  std::string curve_public_z85;
  std::string curve_secret_z85;
  // Event log (the fault suite's checker reads it): "" = none. Written when the run ends,
  // one tab-separated line per generated item, in generation order per producer:
  //   event_id  order_id  fact_id  kind  status  reason
  // fact_id: the event_id of the original event (a business duplicate's fact); kind:
  // original | exact_dup | business_dup | malformed | mutated:<how>; status: accepted |
  // duplicate | rejected | unanswered (no final answer before the drain ended); reason:
  // the ingress's reason code ("-" if none). A first line "# loadgen seed=S producers=N
  // order_prefix=P same_day=X" lets a checker regenerate the orders
  // (LoadgenGeneratorOptions). Keeps one record per event in memory while running.
  std::string event_log_path;
  // Share of extra mutated frames (per original event), each of one of the kinds below in
  // turn, each checked to be Rejected with the reason the engine's own validator gives:
  //   bit_flip (1-4 random bit flips that break it), truncated (cut at a random length),
  //   wrong_identifier (bytes 4-7 = "OSEC"), oversized (padded to oversized_bytes),
  //   schema_version (schema_version = 2).
  double mutated_share = 0;
  // Size of an oversized frame; must exceed the server's validation.max_message_bytes.
  // Default: 64 KiB + 1.
  uint32_t oversized_bytes = 64 * 1024 + 1;
};

struct LoadgenSummary {
  double seconds = 0;                // generating + draining
  uint64_t orders = 0;
  uint64_t sent = 0;                 // events generated and sent (first sends)
  uint64_t malformed_sent = 0;
  uint64_t mutated_sent = 0;         // of malformed_sent: mutated frames (mutated_share)
  uint64_t duplicates_sent = 0;      // exact + business copies
  uint64_t same_day_sent = 0;
  uint64_t accepted = 0, duplicate = 0, rejected = 0;
  uint64_t unexpected = 0;           // a final status other than the event's kind calls for
  uint64_t unanswered = 0;           // still outstanding when the drain ended
  uint64_t busy_retries = 0, throttled_retries = 0;
  RetryAfterStats busy_retry_after;  // the retry_after_ms hints given with the Busy answers
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

// The lifecycle generator options of producer `index` (0-based) of a run with
// `options`: the same orders, in the same order, as that producer generated (event
// timestamps aside). For checkers that replay what a run sent.
GeneratorOptions LoadgenGeneratorOptions(const LoadgenOptions& options, uint32_t index);

// Runs the load; returns the summary (also when the server never answered).
// A non-empty event_log_path that cannot be written is reported on stderr.
LoadgenSummary RunLoadgen(const LoadgenOptions& options,
                          const std::function<void(const LoadgenProgress&)>& progress);

// The summary as one JSON object.
std::string LoadgenSummaryJson(const LoadgenOptions& options, const LoadgenSummary& summary);

}  // namespace ordersync
