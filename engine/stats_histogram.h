// StatsHistogram: a fixed-bucket histogram for hot paths, in the style of WorkerStats:
// one relaxed atomic per bucket, no locks, no allocation. Record() is for a single
// writer (load + store, like Bump); RecordShared() for several writers (fetch_add).
// Readers (a metrics scrape) may call Read() at any time from any thread; a snapshot
// taken while a writer records may be one sample behind in the sum or one bucket, never
// torn within a counter.
//
//   static constexpr int64_t kBounds[] = {1, 2, 4, 8};   // inclusive upper bounds ("le")
//   StatsHistogram h(kBounds);
//   h.Record(3);                                          // counted in the "4" bucket
//   HistogramSnapshot s; h.AddTo(&s);                     // merge workers' histograms
//
// Values are integers in the recorder's unit (ns, events); exporters scale them.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ordersync {

inline constexpr size_t kMaxHistogramBuckets = 32;

// Counts per bucket (not cumulative); index bounds.size() is the +Inf bucket.
struct HistogramSnapshot {
  std::span<const int64_t> bounds;
  std::array<uint64_t, kMaxHistogramBuckets + 1> counts{};
  uint64_t count = 0;
  int64_t sum = 0;
};

class StatsHistogram {
 public:
  // REQUIRES: `bounds` ascending, at most kMaxHistogramBuckets, outliving the histogram.
  explicit StatsHistogram(std::span<const int64_t> bounds)
      : bounds_(bounds.first(std::min(bounds.size(), kMaxHistogramBuckets))) {}
  StatsHistogram(const StatsHistogram&) = delete;
  StatsHistogram& operator=(const StatsHistogram&) = delete;

  // Single writer only.
  void Record(int64_t v) {
    std::atomic<uint64_t>& c = counts_[BucketOf(v)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    sum_.store(sum_.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
  // Any number of writers.
  void RecordShared(int64_t v) {
    counts_[BucketOf(v)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
  }

  // Adds this histogram into `out` (sets out->bounds).
  void AddTo(HistogramSnapshot* out) const {
    out->bounds = bounds_;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      const uint64_t n = counts_[i].load(std::memory_order_relaxed);
      out->counts[i] += n;
      out->count += n;
    }
    out->sum += sum_.load(std::memory_order_relaxed);
  }

  std::span<const int64_t> bounds() const { return bounds_; }

 private:
  size_t BucketOf(int64_t v) const {
    // Linear: at most 32 compares, branch-predictable, beats a binary search here.
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    return i;
  }

  const std::span<const int64_t> bounds_;
  std::array<std::atomic<uint64_t>, kMaxHistogramBuckets + 1> counts_{};
  std::atomic<int64_t> sum_{0};
};

}  // namespace ordersync
