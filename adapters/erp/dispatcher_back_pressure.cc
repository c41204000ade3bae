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
// The drain rate assumed for a target that drains nothing: its configured rate / this.
constexpr double kSilentRateDivisor = 100.0;
// Weight of the newest 50 ms sample in the smoothed drain rate (~0.5 s time constant).
constexpr double kDrainRateWeight = 0.1;

}  // namespace

uint32_t OutboxDispatcher::Impl::RetryHintMs(const Target& t, int64_t now) const {
  // Time to drain the backlog down to the low-water mark at the rate the target really
  // drains (bounded by its configured rate). A target that drains nothing — an ERP gone
  // silent, before its timeouts open the circuit — is taken to drain at a hundredth of
  // its configured rate, so producers back off for seconds rather than retrying every
  // few milliseconds.
  const uint64_t excess = t.backlog > t.options.outbox_low_water ? t.backlog - t.options.outbox_low_water : 0;
  const double configured = std::max<double>(1.0, t.options.rate_per_s);
  const double rate = std::clamp(t.drain_rate_per_s, std::max(1.0, configured / kSilentRateDivisor), configured);
  uint64_t hint_ms = static_cast<uint64_t>(static_cast<double>(excess) * 1000.0 / rate);
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
    const uint64_t drained = t.counters.posted + t.counters.already_posted + t.counters.dead_lettered;
    if (t.last_sample_ns > 0 && now > t.last_sample_ns) {
      const double sample = static_cast<double>(drained - t.drained_at_last_sample) * 1e9 /
                            static_cast<double>(now - t.last_sample_ns);
      t.drain_rate_per_s += kDrainRateWeight * (sample - t.drain_rate_per_s);
    }
    t.drained_at_last_sample = drained;
    t.last_sample_ns = now;
    if (!t.ingress_blocked && t.backlog >= t.options.outbox_high_water) {
      t.ingress_blocked = true;
      t.retry_after_ms = RetryHintMs(t, now);
      if (host_ != nullptr) host_->SetTargetBlocked(t.options.name, true, t.retry_after_ms);
      spdlog::warn(
          "erp target {}: outbox backlog {} reached the high-water mark {}: ingress answers Busy for it "
          "(retry after {} ms)",
          t.options.name, t.backlog, t.options.outbox_high_water, t.retry_after_ms);
    } else if (t.ingress_blocked && t.backlog <= t.options.outbox_low_water) {
      t.ingress_blocked = false;
      t.retry_after_ms = 0;
      if (host_ != nullptr) host_->SetTargetBlocked(t.options.name, false, 0);
      spdlog::info("erp target {}: outbox backlog {} down to the low-water mark {}: ingress accepts again",
                   t.options.name, t.backlog, t.options.outbox_low_water);
    } else if (t.ingress_blocked) {
      // Keep the hint current: the circuit's cool-down runs down, the backlog drains.
      const uint32_t hint = RetryHintMs(t, now);
      if (hint != t.retry_after_ms) {
        t.retry_after_ms = hint;
        if (host_ != nullptr) host_->SetTargetBlocked(t.options.name, true, hint);
      }
    }
  }
}

}  // namespace ordersync
