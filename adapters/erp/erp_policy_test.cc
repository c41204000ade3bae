// Unit tests of the dispatcher's per-target policies: token bucket, circuit breaker and
// retry backoff. Time is passed in, so nothing sleeps.
#include <gtest/gtest.h>

#include "adapters/erp/circuit_breaker.h"
#include "adapters/erp/retry_policy.h"
#include "engine/token_bucket.h"

namespace ordersync {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

TEST(TokenBucketTest, StartsFullAndAllowsBurstThenRate) {
  TokenBucket bucket(10, 3, 0);  // 10/s, burst 3
  EXPECT_TRUE(bucket.TryTake(0));
  EXPECT_TRUE(bucket.TryTake(0));
  EXPECT_TRUE(bucket.TryTake(0));
  EXPECT_FALSE(bucket.TryTake(0));
  EXPECT_EQ(bucket.NextTokenAt(0) / kMs, 100);  // one token per 100 ms
  EXPECT_FALSE(bucket.TryTake(99 * kMs));
  EXPECT_TRUE(bucket.TryTake(100 * kMs + 1));
  EXPECT_FALSE(bucket.TryTake(100 * kMs + 1));
}

TEST(TokenBucketTest, RefillIsCappedAtBurst) {
  TokenBucket bucket(1000, 5, 0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bucket.TryTake(0));
  int taken = 0;
  while (bucket.TryTake(10 * kS)) ++taken;  // ten seconds idle
  EXPECT_EQ(taken, 5);
}

CircuitBreakerOptions Breaker(uint32_t consecutive, uint32_t rate_pct, uint32_t window, uint32_t probes = 1) {
  CircuitBreakerOptions o;
  o.consecutive_failures = consecutive;
  o.error_rate_pct = rate_pct;
  o.window = window;
  o.cooldown_ms = 1000;
  o.half_open_probes = probes;
  return o;
}

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndProbesAfterCooldown) {
  CircuitBreaker b(Breaker(3, 0, 10));
  EXPECT_TRUE(b.AllowSend(0));
  b.OnFailure(0);
  b.OnFailure(0);
  b.OnSuccess(0);  // resets the run
  b.OnFailure(0);
  b.OnFailure(0);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  b.OnFailure(5 * kMs);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.times_opened(), 1u);
  EXPECT_FALSE(b.AllowSend(500 * kMs));
  EXPECT_TRUE(b.AllowSend(1005 * kMs));  // cool-down over: one probe
  EXPECT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
  b.OnSend();
  EXPECT_FALSE(b.AllowSend(1005 * kMs));  // the probe is out
  b.OnSuccess(1010 * kMs);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(b.times_closed(), 1u);
}

TEST(CircuitBreakerTest, FailedProbeReopensForAnotherCooldown) {
  CircuitBreaker b(Breaker(1, 0, 10));
  b.OnFailure(0);
  ASSERT_TRUE(b.AllowSend(kS));
  b.OnSend();
  b.OnFailure(kS);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.times_opened(), 2u);
  EXPECT_FALSE(b.AllowSend(kS + 999 * kMs));
  EXPECT_TRUE(b.AllowSend(2 * kS));
}

TEST(CircuitBreakerTest, TripOpensAtOnceAndIsIgnoredWhileOpen) {
  CircuitBreaker b(Breaker(100, 0, 10));
  EXPECT_TRUE(b.Trip(0));  // one auth failure: no second opinion needed
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(b.Trip(500 * kMs));  // late answers of the same outage do not extend it
  EXPECT_EQ(b.times_opened(), 1u);
  EXPECT_EQ(b.reopen_at_ns(), 1000 * kMs);
  ASSERT_TRUE(b.AllowSend(kS));  // half-open probe
  b.OnSend();
  EXPECT_TRUE(b.Trip(kS));  // the probe met the same refusal
  EXPECT_EQ(b.times_opened(), 2u);
  EXPECT_FALSE(b.AllowSend(kS + 999 * kMs));
}

TEST(CircuitBreakerTest, OpensOnErrorRateOverAFullWindow) {
  CircuitBreaker b(Breaker(100, 50, 10));
  for (int i = 0; i < 5; ++i) {
    b.OnSuccess(0);
    b.OnFailure(0);
  }
  // 10 attempts, 5 failed: 50% of a full window.
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
}

TEST(CircuitBreakerTest, ErrorRateBelowThresholdKeepsItClosed) {
  CircuitBreaker b(Breaker(100, 50, 10));
  for (int i = 0; i < 100; ++i) {
    if (i % 3 == 0) {
      b.OnFailure(0);
    } else {
      b.OnSuccess(0);
    }
  }
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
}

TEST(CircuitBreakerTest, NeedsAllProbesToClose) {
  CircuitBreaker b(Breaker(1, 0, 10, 2));
  b.OnFailure(0);
  ASSERT_TRUE(b.AllowSend(kS));
  b.OnSend();
  ASSERT_TRUE(b.AllowSend(kS));
  b.OnSend();
  EXPECT_FALSE(b.AllowSend(kS));
  b.OnSuccess(kS);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
  b.OnSuccess(kS);
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
}

TEST(RetryPolicyTest, BackoffGrowsExponentiallyUpToTheMaximum) {
  RetryOptions o;
  o.initial_backoff_ms = 100;
  o.max_backoff_ms = 1000;
  o.multiplier_pct = 200;
  o.jitter_pct = 0;
  RetryPolicy policy(o, 1);
  EXPECT_EQ(policy.BackoffNs(1), 100 * kMs);
  EXPECT_EQ(policy.BackoffNs(2), 200 * kMs);
  EXPECT_EQ(policy.BackoffNs(3), 400 * kMs);
  EXPECT_EQ(policy.BackoffNs(4), 800 * kMs);
  EXPECT_EQ(policy.BackoffNs(5), 1000 * kMs);
  EXPECT_EQ(policy.BackoffNs(50), 1000 * kMs);
}

TEST(RetryPolicyTest, JitterOnlyShortensTheDelay) {
  RetryOptions o;
  o.initial_backoff_ms = 100;
  o.jitter_pct = 20;
  RetryPolicy policy(o, 7);
  bool varied = false;
  int64_t first = policy.BackoffNs(1);
  for (int i = 0; i < 100; ++i) {
    const int64_t d = policy.BackoffNs(1);
    EXPECT_LE(d, 100 * kMs);
    EXPECT_GE(d, 80 * kMs);
    varied |= d != first;
  }
  EXPECT_TRUE(varied);
}

TEST(RetryPolicyTest, ExhaustedByAttemptsOrAge) {
  RetryOptions o;
  o.max_attempts = 3;
  o.max_age_s = 10;
  RetryPolicy policy(o, 1);
  EXPECT_FALSE(policy.Exhausted(2, 0, kS));
  EXPECT_TRUE(policy.Exhausted(3, 0, kS));
  EXPECT_TRUE(policy.Exhausted(1, 0, 10 * kS));
  o.max_attempts = 0;
  o.max_age_s = 0;
  RetryPolicy unlimited(o, 1);
  EXPECT_FALSE(unlimited.Exhausted(1000000, 0, 1000000 * kS));
}

}  // namespace
}  // namespace ordersync
