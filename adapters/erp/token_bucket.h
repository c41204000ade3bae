// TokenBucket: the per-target rate limit of the ERP dispatcher. Holds up to `burst`
// tokens, refilled at `rate_per_s`; each attempt sent to the target takes one. Time is
// passed in (steady-clock ns), so tests drive it without sleeping.
//
//   TokenBucket bucket(1000, 100, now);
//   if (bucket.TryTake(now)) Send(...); else wake_at = bucket.NextTokenAt(now);
//
// Thread-safety: none; owned by the dispatcher thread.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ordersync {

class TokenBucket {
 public:
  // REQUIRES: rate_per_s > 0, burst > 0. Starts full.
  TokenBucket(uint32_t rate_per_s, uint32_t burst, int64_t now_ns)
      : nanos_per_token_(1'000'000'000.0 / rate_per_s), burst_(burst), tokens_(burst), updated_ns_(now_ns) {}

  // Takes one token if there is one.
  bool TryTake(int64_t now_ns) {
    Refill(now_ns);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // When the next whole token will be there (now_ns if one is).
  int64_t NextTokenAt(int64_t now_ns) {
    Refill(now_ns);
    if (tokens_ >= 1.0) return now_ns;
    return now_ns + static_cast<int64_t>((1.0 - tokens_) * nanos_per_token_) + 1;
  }

  double tokens() const { return tokens_; }

 private:
  void Refill(int64_t now_ns) {
    if (now_ns <= updated_ns_) return;
    tokens_ = std::min<double>(burst_, tokens_ + static_cast<double>(now_ns - updated_ns_) / nanos_per_token_);
    updated_ns_ = now_ns;
  }

  const double nanos_per_token_;
  const double burst_;
  double tokens_;
  int64_t updated_ns_;
};

}  // namespace ordersync
