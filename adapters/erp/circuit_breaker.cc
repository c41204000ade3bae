#include "adapters/erp/circuit_breaker.h"

#include <algorithm>

namespace ordersync {

std::string_view CircuitStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed: return "closed";
    case CircuitBreaker::State::kOpen: return "open";
    case CircuitBreaker::State::kHalfOpen: return "half_open";
  }
  return "?";
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerOptions& options)
    : options_(options), window_(std::max<uint32_t>(1, options.window), false) {}

bool CircuitBreaker::AllowSend(int64_t now_ns) {
  if (state_ == State::kOpen) {
    if (now_ns < open_until_ns_) return false;
    state_ = State::kHalfOpen;
    probes_out_ = 0;
    probes_succeeded_ = 0;
  }
  if (state_ == State::kHalfOpen) return probes_out_ < std::max<uint32_t>(1, options_.half_open_probes);
  return true;
}

void CircuitBreaker::OnSend() {
  if (state_ == State::kHalfOpen) ++probes_out_;
}

void CircuitBreaker::OnAbandoned() {
  if (state_ == State::kHalfOpen && probes_out_ > 0) --probes_out_;
}

bool CircuitBreaker::Trip(int64_t now_ns) {
  if (state_ == State::kOpen) return false;
  Open(now_ns);
  return true;
}

void CircuitBreaker::Record(bool failure) {
  if (window_count_ == window_.size()) {
    if (window_[window_next_]) --window_failures_;
  } else {
    ++window_count_;
  }
  window_[window_next_] = failure;
  if (failure) ++window_failures_;
  window_next_ = (window_next_ + 1) % window_.size();
}

void CircuitBreaker::OnSuccess(int64_t now_ns) {
  consecutive_failures_ = 0;
  if (state_ == State::kHalfOpen) {
    if (++probes_succeeded_ >= std::max<uint32_t>(1, options_.half_open_probes)) {
      state_ = State::kClosed;
      ++times_closed_;
      // A fresh start: the failures that opened the circuit are history.
      std::fill(window_.begin(), window_.end(), false);
      window_count_ = window_failures_ = window_next_ = 0;
    }
    return;
  }
  if (state_ == State::kClosed) Record(false);
}

void CircuitBreaker::OnFailure(int64_t now_ns) {
  if (state_ == State::kHalfOpen) {
    Open(now_ns);
    return;
  }
  if (state_ == State::kOpen) return;  // late answers of attempts sent before it opened
  ++consecutive_failures_;
  Record(true);
  const bool too_many_in_a_row = consecutive_failures_ >= options_.consecutive_failures;
  const bool rate_too_high = options_.error_rate_pct > 0 && window_count_ == window_.size() &&
                             window_failures_ * 100 >= static_cast<size_t>(options_.error_rate_pct) * window_count_;
  if (too_many_in_a_row || rate_too_high) Open(now_ns);
}

void CircuitBreaker::Open(int64_t now_ns) {
  state_ = State::kOpen;
  ++times_opened_;
  open_until_ns_ = now_ns + static_cast<int64_t>(options_.cooldown_ms) * 1'000'000;
  consecutive_failures_ = 0;
  probes_out_ = 0;
  probes_succeeded_ = 0;
}

}  // namespace ordersync
