// ResultCountdown: how a thread that submitted N events waits until the engine has
// reported all N (i.e. all are durable), when the object lives on the waiter's stack.
// Workers call Done() once per event. Only the report that brings the count to zero takes
// the mutex (to wake the waiter), and it decrements under it, so the waiter — which reads
// the count under the same mutex — cannot return and destroy the countdown while a worker
// still uses it. Every other report is one atomic decrement, no lock.
//
// Thread-safety: Add/Cancel/Wait from the submitting thread, Done from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace ordersync {

class ResultCountdown {
 public:
  void Add(size_t n = 1) { pending_.fetch_add(n, std::memory_order_relaxed); }
  // An event counted by Add that the engine refused (Submit failed): no report will come.
  void Cancel(size_t n = 1) { pending_.fetch_sub(n, std::memory_order_relaxed); }

  void Done() {
    size_t prev = pending_.load(std::memory_order_relaxed);
    while (prev > 1) {
      if (pending_.compare_exchange_weak(prev, prev - 1, std::memory_order_acq_rel)) return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
    cv_.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
  }

 private:
  std::atomic<size_t> pending_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace ordersync
