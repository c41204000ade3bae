// TokenBucket: a rate limit of `rate_per_s` events per second with bursts of up to
// `burst`. Used for the ingress rate limits (per source and global) and the ERP
// dispatcher's per-target budget. A rate of 0 means unlimited. Time is passed in
// (steady-clock ns), so tests drive it without sleeping.
//
//   TokenBucket bucket(1000, 100, now);        // 1000/s, bursts of 100; starts full
//   if (bucket.TryTake(now)) Send(...); else wake_at = bucket.NextTokenAt(now);
//
// Thread-safety: none; owned by one thread.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ordersync {

class TokenBucket {
 public:
  TokenBucket() = default;  // unlimited
  TokenBucket(double rate_per_s, double burst, int64_t now_ns) { Configure(rate_per_s, burst, now_ns); }

  // New limits. A bucket that was unlimited starts full; otherwise it keeps its tokens,
  // capped at the new burst (a reload neither forgives nor punishes). rate 0: unlimited.
  void Configure(double rate_per_s, double burst, int64_t now_ns) {
    const bool was_unlimited = unlimited();
    Refill(now_ns);
    nanos_per_token_ = rate_per_s > 0 ? 1e9 / rate_per_s : 0;
    burst_ = rate_per_s > 0 ? std::max(1.0, burst) : 0;
    tokens_ = was_unlimited ? burst_ : std::min(tokens_, burst_);
    updated_ns_ = now_ns;
  }

  bool unlimited() const { return nanos_per_token_ == 0; }

  // True if a token is there now (always, when unlimited).
  bool HasToken(int64_t now_ns) {
    Refill(now_ns);
    return unlimited() || tokens_ >= 1.0;
  }
  // Takes one token. REQUIRES: HasToken() just returned true.
  void Take() {
    if (!unlimited()) tokens_ -= 1.0;
  }
  bool TryTake(int64_t now_ns) {
    if (!HasToken(now_ns)) return false;
    Take();
    return true;
  }
  // Gives back a token taken for work that did not happen.
  void Refund() {
    if (!unlimited()) tokens_ = std::min(burst_, tokens_ + 1.0);
  }

  // Nanoseconds until a whole token is there (0 if one is).
  int64_t NanosUntilToken(int64_t now_ns) {
    if (HasToken(now_ns)) return 0;
    return static_cast<int64_t>((1.0 - tokens_) * nanos_per_token_) + 1;
  }
  // When the next whole token will be there (now_ns if one is).
  int64_t NextTokenAt(int64_t now_ns) { return now_ns + NanosUntilToken(now_ns); }

  double tokens() const { return tokens_; }

 private:
  void Refill(int64_t now_ns) {
    if (unlimited() || now_ns <= updated_ns_) return;
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ns - updated_ns_) / nanos_per_token_);
    updated_ns_ = now_ns;
  }

  double nanos_per_token_ = 0;  // 0: unlimited
  double burst_ = 0;
  double tokens_ = 0;
  int64_t updated_ns_ = 0;
};

}  // namespace ordersync
