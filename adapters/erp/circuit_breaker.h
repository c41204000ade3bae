// CircuitBreaker: decides whether the dispatcher may send to a target. States and their
// transitions:
//
//   Closed   --(consecutive_failures transient failures in a row, or error_rate_pct of a
//              full window of attempts failed)--> Open
//   Open     --(cooldown_ms elapsed)--> HalfOpen
//   HalfOpen --(half_open_probes attempts all succeeded)--> Closed
//   HalfOpen --(any probe failed)--> Open (a new cool-down)
//   Closed / HalfOpen --(Trip: a failure that needs no second opinion, e.g. the ERP
//              refused our credentials)--> Open
//
// "Failure" means transient: TransientError, a timeout or no connection. A Rejected
// answer is a success here (the ERP is up and decided). While Open no command is sent;
// they wait in the outbox. Time is passed in (steady-clock ns).
//
// Thread-safety: none; owned by the dispatcher thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "adapters/erp/erp_options.h"

namespace ordersync {

class CircuitBreaker {
 public:
  enum class State : uint8_t { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

  explicit CircuitBreaker(const CircuitBreakerOptions& options);

  // May one more attempt go out now? In HalfOpen, true while fewer than
  // half_open_probes attempts are out; the caller then calls OnSend.
  bool AllowSend(int64_t now_ns);
  // An attempt went out (counts a probe in HalfOpen).
  void OnSend();
  void OnSuccess(int64_t now_ns);
  void OnFailure(int64_t now_ns);
  // A probe that ended without a verdict (e.g. its command was dead-lettered).
  void OnAbandoned();
  // Opens the circuit now (a new cool-down), whatever the counts say; no-op while Open.
  // Returns true when it opened it.
  bool Trip(int64_t now_ns);

  State state() const { return state_; }
  // When an Open circuit turns HalfOpen.
  int64_t reopen_at_ns() const { return open_until_ns_; }
  uint64_t times_opened() const { return times_opened_; }
  uint64_t times_closed() const { return times_closed_; }

 private:
  void Open(int64_t now_ns);
  void Record(bool failure);

  const CircuitBreakerOptions options_;
  State state_ = State::kClosed;
  uint32_t consecutive_failures_ = 0;
  // Ring of the last `window` outcomes (true = failure).
  std::vector<bool> window_;
  size_t window_next_ = 0;
  size_t window_count_ = 0;
  size_t window_failures_ = 0;
  int64_t open_until_ns_ = 0;
  uint32_t probes_out_ = 0;
  uint32_t probes_succeeded_ = 0;
  uint64_t times_opened_ = 0;
  uint64_t times_closed_ = 0;
};

std::string_view CircuitStateName(CircuitBreaker::State state);

}  // namespace ordersync
