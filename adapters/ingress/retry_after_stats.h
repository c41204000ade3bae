// RetryAfterStats: the retry_after_ms hints a producer was given with its Busy answers
// (how long the ingress told it to wait), kept by AckClient and summed up by the load
// generator for the fault suite's report: exact count / min / max / sum, and a count per
// power-of-two range (bucket i holds hints of at most 2^i ms; the last bucket everything
// above 2^(kBuckets-2) ms).
//
// Thread-safety: a plain value; one writer, copied or merged after the fact.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace ordersync {

struct RetryAfterStats {
  static constexpr size_t kBuckets = 18;  // <= 1 ms, <= 2 ms, ..., <= 65 536 ms, more

  uint64_t count = 0;
  uint64_t sum_ms = 0;
  uint32_t min_ms = 0, max_ms = 0;  // 0 while count == 0
  std::array<uint64_t, kBuckets> buckets{};

  // Upper bound (ms) of bucket i; UINT32_MAX for the last one.
  static constexpr uint32_t BucketLimitMs(size_t i) { return i + 1 < kBuckets ? uint32_t{1} << i : UINT32_MAX; }

  void Record(uint32_t ms) {
    min_ms = count == 0 ? ms : std::min(min_ms, ms);
    max_ms = std::max(max_ms, ms);
    ++count;
    sum_ms += ms;
    size_t i = 0;
    while (i + 1 < kBuckets && ms > BucketLimitMs(i)) ++i;
    ++buckets[i];
  }

  void Merge(const RetryAfterStats& other) {
    if (other.count == 0) return;
    min_ms = count == 0 ? other.min_ms : std::min(min_ms, other.min_ms);
    max_ms = std::max(max_ms, other.max_ms);
    count += other.count;
    sum_ms += other.sum_ms;
    for (size_t i = 0; i < kBuckets; ++i) buckets[i] += other.buckets[i];
  }
};

}  // namespace ordersync
