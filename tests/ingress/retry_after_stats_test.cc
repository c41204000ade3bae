// RetryAfterStats (adapters/ingress/retry_after_stats.h): the retry_after_ms hints of Busy
// answers as the fault suite reports them — exact min / max / sum, power-of-two ranges,
// and merging the producers' figures.
#include "adapters/ingress/retry_after_stats.h"

#include <gtest/gtest.h>

namespace ordersync {
namespace {

TEST(RetryAfterStatsTest, EmptyHasNoHints) {
  RetryAfterStats s;
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.min_ms, 0u);
  EXPECT_EQ(s.max_ms, 0u);
  for (uint64_t b : s.buckets) EXPECT_EQ(b, 0u);
}

TEST(RetryAfterStatsTest, RecordKeepsExactMinMaxSumAndPowerOfTwoRanges) {
  RetryAfterStats s;
  for (uint32_t ms : {20u, 20u, 1u, 0u, 1000u, 2u, 3u}) s.Record(ms);
  EXPECT_EQ(s.count, 7u);
  EXPECT_EQ(s.sum_ms, 1046u);
  EXPECT_EQ(s.min_ms, 0u);
  EXPECT_EQ(s.max_ms, 1000u);
  EXPECT_EQ(s.buckets[0], 2u);   // <= 1 ms: 0 and 1
  EXPECT_EQ(s.buckets[1], 1u);   // <= 2 ms
  EXPECT_EQ(s.buckets[2], 1u);   // <= 4 ms: 3
  EXPECT_EQ(s.buckets[5], 2u);   // <= 32 ms: 20, 20
  EXPECT_EQ(s.buckets[10], 1u);  // <= 1024 ms
  EXPECT_EQ(RetryAfterStats::BucketLimitMs(5), 32u);
}

TEST(RetryAfterStatsTest, HintsBeyondTheLastBoundLandInTheLastRange) {
  RetryAfterStats s;
  s.Record(65536);
  s.Record(65537);
  s.Record(UINT32_MAX);
  EXPECT_EQ(s.buckets[RetryAfterStats::kBuckets - 2], 1u);
  EXPECT_EQ(s.buckets[RetryAfterStats::kBuckets - 1], 2u);
  EXPECT_EQ(RetryAfterStats::BucketLimitMs(RetryAfterStats::kBuckets - 1), UINT32_MAX);
  EXPECT_EQ(s.max_ms, UINT32_MAX);
}

TEST(RetryAfterStatsTest, MergeCombinesProducersAndIgnoresEmptyOnes) {
  RetryAfterStats a, b, empty;
  a.Record(20);
  b.Record(500);
  b.Record(5);
  a.Merge(empty);
  EXPECT_EQ(a.min_ms, 20u);
  a.Merge(b);
  EXPECT_EQ(a.count, 3u);
  EXPECT_EQ(a.sum_ms, 525u);
  EXPECT_EQ(a.min_ms, 5u);
  EXPECT_EQ(a.max_ms, 500u);
  RetryAfterStats into;
  into.Merge(b);  // an empty one takes the other's min, not 0
  EXPECT_EQ(into.min_ms, 5u);
}

}  // namespace
}  // namespace ordersync
