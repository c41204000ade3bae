// RetryPolicy: when a transiently failed command is tried again, and when it has failed
// for too long. Exponential backoff with jitter:
//
//   delay(n) = min(max_backoff, initial_backoff * (multiplier_pct/100)^(n-1))
//              * (1 - U[0, jitter_pct/100))          n = attempts made so far (>= 1)
//
// Thread-safety: none; one per dispatcher thread (it owns the random generator).
#pragma once

#include <cstdint>
#include <random>

#include "adapters/erp/erp_options.h"

namespace ordersync {

class RetryPolicy {
 public:
  RetryPolicy(const RetryOptions& options, uint64_t seed) : options_(options), rng_(seed) {}

  // Delay before the next attempt after `attempts` failed ones, in ns. REQUIRES: attempts >= 1.
  int64_t BackoffNs(uint32_t attempts) {
    double delay_ms = options_.initial_backoff_ms;
    for (uint32_t i = 1; i < attempts && delay_ms < options_.max_backoff_ms; ++i) {
      delay_ms = delay_ms * options_.multiplier_pct / 100.0;
    }
    if (delay_ms > options_.max_backoff_ms) delay_ms = options_.max_backoff_ms;
    if (options_.jitter_pct > 0) {
      delay_ms *= 1.0 - std::uniform_real_distribution<double>(0, options_.jitter_pct / 100.0)(rng_);
    }
    return static_cast<int64_t>(delay_ms * 1'000'000.0);
  }

  // True when a command that failed `attempts` times, first tried at first_attempt_ns,
  // should be given up (dead-lettered) at now_ns.
  bool Exhausted(uint32_t attempts, int64_t first_attempt_ns, int64_t now_ns) const {
    if (options_.max_attempts > 0 && attempts >= options_.max_attempts) return true;
    return options_.max_age_s > 0 && now_ns - first_attempt_ns >= static_cast<int64_t>(options_.max_age_s) * 1'000'000'000;
  }

 private:
  const RetryOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace ordersync
