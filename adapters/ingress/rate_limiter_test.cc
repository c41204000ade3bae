#include "adapters/ingress/rate_limiter.h"

#include <gtest/gtest.h>

namespace ordersync {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSecond;

TEST(RateLimiterTest, UnlimitedByDefault) {
  RateLimiter limiter{RateLimitOptions{}};
  EXPECT_TRUE(limiter.unlimited());
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(limiter.Acquire("WMS", kT0).admitted);
}

TEST(RateLimiterTest, PerSourceBucketAllowsBurstThenThrottlesWithRetryHint) {
  RateLimitOptions o;
  o.sources.push_back({"WMS-EAST", 10, 5});  // 10/s, 5 saved up
  RateLimiter limiter(o);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Acquire("WMS-EAST", kT0).admitted) << i;
  const RateDecision d = limiter.Acquire("WMS-EAST", kT0);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after_ms, 100u);  // one token every 100 ms
  // Other sources are not limited (no default limit).
  EXPECT_TRUE(limiter.Acquire("TMS", kT0).admitted);
  // 100 ms later one token is back, and only one.
  EXPECT_TRUE(limiter.Acquire("WMS-EAST", kT0 + kSecond / 10).admitted);
  EXPECT_FALSE(limiter.Acquire("WMS-EAST", kT0 + kSecond / 10).admitted);
}

TEST(RateLimiterTest, BurstDefaultsToOneSecondOfRate) {
  RateLimitOptions o;
  o.default_events_per_s = 3;
  RateLimiter limiter(o);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  EXPECT_FALSE(limiter.Acquire("A", kT0).admitted);
  // Each source has its own default bucket.
  EXPECT_TRUE(limiter.Acquire("B", kT0).admitted);
}

TEST(RateLimiterTest, GlobalBucketLimitsAllSourcesTogether) {
  RateLimitOptions o;
  o.global_events_per_s = 4;
  RateLimiter limiter(o);
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  EXPECT_TRUE(limiter.Acquire("B", kT0).admitted);
  EXPECT_TRUE(limiter.Acquire("C", kT0).admitted);
  EXPECT_TRUE(limiter.Acquire("D", kT0).admitted);
  const RateDecision d = limiter.Acquire("E", kT0);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after_ms, 250u);
}

TEST(RateLimiterTest, ThrottledEventTakesNoTokenFromTheOtherBucket) {
  RateLimitOptions o;
  o.global_events_per_s = 2;
  o.sources.push_back({"SLOW", 1, 1});
  RateLimiter limiter(o);
  EXPECT_TRUE(limiter.Acquire("SLOW", kT0).admitted);   // global 1 left
  EXPECT_FALSE(limiter.Acquire("SLOW", kT0).admitted);  // source empty: global untouched
  EXPECT_TRUE(limiter.Acquire("FAST", kT0).admitted);   // so this still fits
  EXPECT_FALSE(limiter.Acquire("FAST", kT0).admitted);
}

TEST(RateLimiterTest, RefundGivesTheTokensBack) {
  RateLimitOptions o;
  o.sources.push_back({"A", 1, 1});
  RateLimiter limiter(o);
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  limiter.Refund("A");
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  EXPECT_FALSE(limiter.Acquire("A", kT0).admitted);
}

TEST(RateLimiterTest, UpdateKeepsSavedTokensCappedAtNewBurst) {
  RateLimitOptions o;
  o.sources.push_back({"A", 100, 100});
  RateLimiter limiter(o);
  for (int i = 0; i < 90; ++i) ASSERT_TRUE(limiter.Acquire("A", kT0).admitted);  // 10 left
  o.sources[0] = {"A", 1000, 5};
  limiter.Update(o);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Acquire("A", kT0).admitted) << i;
  EXPECT_FALSE(limiter.Acquire("A", kT0).admitted);
  // Lifting the limit takes effect at once.
  o.sources.clear();
  limiter.Update(o);
  EXPECT_TRUE(limiter.unlimited());
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
}

TEST(RateLimiterTest, NewLimitOnAnUnlimitedSourceStartsWithAFullBucket) {
  RateLimiter limiter{RateLimitOptions{}};
  RateLimitOptions o;
  o.sources.push_back({"A", 2, 2});
  limiter.Update(o);
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  EXPECT_FALSE(limiter.Acquire("A", kT0).admitted);
}

TEST(RateLimiterTest, SourcesBeyondTheTrackedMaximumShareOneBucket) {
  RateLimitOptions o;
  o.default_events_per_s = 1;
  o.max_tracked_sources = 2;
  RateLimiter limiter(o);
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  EXPECT_TRUE(limiter.Acquire("B", kT0).admitted);
  EXPECT_EQ(limiter.tracked_sources(), 2u);
  EXPECT_TRUE(limiter.Acquire("C", kT0).admitted);   // overflow bucket: 1 token
  EXPECT_FALSE(limiter.Acquire("D", kT0).admitted);  // shares it with C
  EXPECT_EQ(limiter.tracked_sources(), 2u);
}

TEST(RateLimiterTest, TimeGoingBackwardsRefillsNothing) {
  RateLimitOptions o;
  o.sources.push_back({"A", 1, 1});
  RateLimiter limiter(o);
  EXPECT_TRUE(limiter.Acquire("A", kT0).admitted);
  EXPECT_FALSE(limiter.Acquire("A", kT0 - 10 * kSecond).admitted);
  EXPECT_TRUE(limiter.Acquire("A", kT0 + kSecond).admitted);
}

TEST(RateLimiterTest, DescribeRateLimitChangesNamesEachChangedKey) {
  RateLimitOptions a, b;
  EXPECT_TRUE(DescribeRateLimitChanges(a, b).empty());
  a.sources.push_back({"TMS", 10, 0});
  a.sources.push_back({"SALES", 5, 5});
  b.global_events_per_s = 50000;
  b.sources.push_back({"WMS-EAST", 5000, 0});
  b.sources.push_back({"SALES", 6, 5});
  EXPECT_EQ(DescribeRateLimitChanges(a, b),
            (std::vector<std::string>{"global_events_per_s 0 -> 50000", "sources[WMS-EAST] added: 5000/s burst 0",
                                      "sources[SALES] 5/s burst 5 -> 6/s burst 5", "sources[TMS] removed"}));
}

}  // namespace
}  // namespace ordersync
