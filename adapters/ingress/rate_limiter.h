// RateLimiter: token buckets per producer source (the Envelope's `source`) and one global
// bucket, as configured by RateLimitOptions. An event takes one token from its source's
// bucket and one from the global bucket, or from neither: when either is empty the
// event is throttled and told how long until both have a token again.
//
//   RateLimiter limiter(options.rate_limit);
//   RateDecision d = limiter.Acquire(source, now_ns);
//   if (!d.admitted) reply Throttled with retry_after_ms = d.retry_after_ms;
//   ... if the event is then refused for another reason: limiter.Refund(source);
//
// Update() swaps in new limits (SIGHUP reload) and keeps each bucket's saved tokens
// (capped at the new burst), so a reload neither forgives nor punishes a producer.
// Memory is bounded: at most max_tracked_sources default-limited buckets, then one shared
// overflow bucket.
//
// Thread-safety: not thread-safe; owned by the ingress thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/ingress/ingress_options.h"
#include "engine/token_bucket.h"

namespace ordersync {

struct RateDecision {
  bool admitted = true;
  uint32_t retry_after_ms = 0;  // when !admitted: until both buckets have a token
};

class RateLimiter {
 public:
  explicit RateLimiter(const RateLimitOptions& options);

  // Takes a token for one event of `source` at `now_ns` (any monotonic-enough clock; time
  // going backwards refills nothing).
  RateDecision Acquire(std::string_view source, int64_t now_ns);
  // Gives back the tokens of an event Acquire admitted but the engine did not take.
  void Refund(std::string_view source);
  // New limits; takes effect for the next Acquire.
  void Update(const RateLimitOptions& options);

  const RateLimitOptions& options() const { return options_; }
  // True when no bucket limits anything (Acquire is then a no-op that admits).
  bool unlimited() const { return unlimited_; }
  // Default-limited sources tracked with a bucket of their own.
  size_t tracked_sources() const { return default_buckets_.size(); }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using BucketMap = std::unordered_map<std::string, TokenBucket, StringHash, std::equal_to<>>;

  // The source's own bucket (null when its limit is unlimited).
  TokenBucket* BucketFor(std::string_view source, int64_t now_ns);

  RateLimitOptions options_;
  bool unlimited_ = true;
  TokenBucket global_;
  BucketMap configured_;       // sources named in options_.sources
  BucketMap default_buckets_;  // other sources, up to max_tracked_sources
  TokenBucket overflow_;       // shared by the sources beyond that
  int64_t last_now_ns_ = 0;    // latest time Acquire saw
};

// What changed from `before` to `after`, one line per key, for the reload log, e.g.
// "global_events_per_s 0 -> 50000", "sources[WMS-EAST] added: 5000/s burst 0",
// "sources[TMS] removed". Empty when nothing changed.
std::vector<std::string> DescribeRateLimitChanges(const RateLimitOptions& before, const RateLimitOptions& after);

}  // namespace ordersync
