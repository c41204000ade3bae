// LatencyHistogram: the ERP simulator's event-to-post latencies, in microseconds,
// log-linear: 32 sub-buckets per power of two (about 3 % resolution), up to 2^40 us; fixed
// size, so a long run costs no memory. Thread-safety: none (the simulator's mutex).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace ordersync {

class LatencyHistogram {
 public:
  void Record(int64_t us) {
    const uint64_t v = static_cast<uint64_t>(std::max<int64_t>(0, us));
    ++counts_[Index(v)];
    ++count_;
    max_us_ = std::max(max_us_, v);
  }
  uint64_t count() const { return count_; }
  double max_ms() const { return max_us_ / 1000.0; }
  // The upper bound of the bucket holding quantile q, in ms (clamped to the max seen).
  double PercentileMs(double q) const {
    if (count_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999));
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min<uint64_t>(UpperBound(i), max_us_) / 1000.0;
    }
    return max_ms();
  }

 private:
  static constexpr int kSub = 32;  // sub-buckets per power of two
  static size_t Index(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int exp = 63 - __builtin_clzll(v);               // v in [2^exp, 2^(exp+1))
    const uint64_t sub = (v >> (exp - 5)) & (kSub - 1);    // next 5 bits
    return std::min<size_t>(kSub + static_cast<size_t>(exp - 5) * kSub + sub, kBuckets - 1);
  }
  static uint64_t UpperBound(size_t i) {
    if (i < kSub) return i;
    const int exp = static_cast<int>((i - kSub) / kSub) + 5;
    const uint64_t sub = (i - kSub) % kSub;
    return ((uint64_t{kSub} + sub + 1) << (exp - 5)) - 1;
  }
  static constexpr size_t kBuckets = kSub + 36 * kSub;
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace ordersync
