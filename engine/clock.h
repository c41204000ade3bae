// Clock: the engine's source of wall-clock time (ns since the Unix epoch), injected so
// tests can move time (park timeouts, dedup windows) deterministically.
// Thread-safety: NowNanos may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ordersync {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNanos() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock* Default() {
    static const SystemClock clock;
    return &clock;
  }
};

// A clock that only moves when told to. For tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ns = 1'700'000'000'000'000'000) : now_(start_ns) {}
  int64_t NowNanos() const override { return now_.load(std::memory_order_relaxed); }
  void Advance(int64_t ns) { now_.fetch_add(ns, std::memory_order_relaxed); }
  void Set(int64_t ns) { now_.store(ns, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_;
};

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

}  // namespace ordersync
