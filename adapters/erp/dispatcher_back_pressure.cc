// Back-pressure: each target's backlog, the ingress block with its hysteresis, and the
// retry hint producers get while a target is blocked (see outbox_dispatcher.h).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "adapters/erp/dispatcher_impl.h"

namespace ordersync {
namespace {

constexpr int64_t kBackPressureEveryNs = 50'000'000;
// Bounds of the retry hint, in ms: never below the ingress's own default order of
// magnitude, never so long that a recovered ERP waits for idle producers.
constexpr uint32_t kMinRetryHintMs = 20;
constexpr uint32_t kMaxRetryHintMs = 30'000;

}  // namespace

uint32_t OutboxDispatcher::Impl::RetryHintMs(const Target& t, int64_t now) const {
  // Time to drain the backlog down to the low-water mark at the target's sustained rate.
  const uint64_t excess = t.backlog > t.options.outbox_low_water ? t.backlog - t.options.outbox_low_water : 0;
  uint64_t hint_ms = excess * 1000 / std::max<uint32_t>(1, t.options.rate_per_s);
  // While the circuit is open nothing drains: at least until it half-opens again.
  if (t.breaker.state() == CircuitBreaker::State::kOpen && t.breaker.reopen_at_ns() > now) {
    hint_ms = std::max<uint64_t>(hint_ms, static_cast<uint64_t>((t.breaker.reopen_at_ns() - now) / 1'000'000));
  }
  return static_cast<uint32_t>(std::clamp<uint64_t>(hint_ms, kMinRetryHintMs, kMaxRetryHintMs));
}

void OutboxDispatcher::Impl::UpdateBackPressure(int64_t now) {
  if (now < next_back_pressure_ns_) return;
  next_back_pressure_ns_ = now + kBackPressureEveryNs;
  std::vector<uint64_t> backlog(targets_.size(), 0);
  for (const PartitionState& ps : partitions_) {
    for (size_t t = 0; t < targets_.size(); ++t) backlog[t] += ps.per_target[t] + ps.staged_per_target[t];
  }
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& t = *targets_[i];
    t.backlog = backlog[i];
    if (!t.ingress_blocked && t.backlog >= t.options.outbox_high_water) {
      t.ingress_blocked = true;
      t.retry_after_ms = RetryHintMs(t, now);
      if (engine_ != nullptr) engine_->SetTargetBlocked(t.options.name, true, t.retry_after_ms);
      spdlog::warn(
          "erp target {}: outbox backlog {} reached the high-water mark {}: ingress answers Busy for it "
          "(retry after {} ms)",
          t.options.name, t.backlog, t.options.outbox_high_water, t.retry_after_ms);
    } else if (t.ingress_blocked && t.backlog <= t.options.outbox_low_water) {
      t.ingress_blocked = false;
      t.retry_after_ms = 0;
      if (engine_ != nullptr) engine_->SetTargetBlocked(t.options.name, false);
      spdlog::info("erp target {}: outbox backlog {} down to the low-water mark {}: ingress accepts again",
                   t.options.name, t.backlog, t.options.outbox_low_water);
    } else if (t.ingress_blocked) {
      // Keep the hint current: the circuit's cool-down runs down, the backlog drains.
      const uint32_t hint = RetryHintMs(t, now);
      if (hint != t.retry_after_ms) {
        t.retry_after_ms = hint;
        if (engine_ != nullptr) engine_->SetTargetBlocked(t.options.name, true, hint);
      }
    }
  }
}

}  // namespace ordersync
