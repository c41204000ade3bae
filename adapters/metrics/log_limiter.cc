#include "adapters/metrics/log_limiter.h"

#include <algorithm>

namespace ordersync {

LogLimiter::LogLimiter(uint32_t per_s, uint32_t burst)
    : per_ns_(static_cast<double>(per_s) / 1e9),
      burst_(burst != 0 ? static_cast<double>(burst) : std::max(1.0, static_cast<double>(per_s))) {}

bool LogLimiter::Allow(std::string_view kind, int64_t now_ns, uint64_t* suppressed_before) {
  *suppressed_before = 0;
  if (per_ns_ == 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(kind);
  if (it == buckets_.end()) {
    it = buckets_.emplace(std::string(kind), Bucket{burst_, now_ns, 0, 0}).first;
  }
  Bucket& b = it->second;
  if (now_ns > b.last_ns) {
    b.tokens = std::min(burst_, b.tokens + static_cast<double>(now_ns - b.last_ns) * per_ns_);
    b.last_ns = now_ns;
  }
  if (b.tokens < 1.0) {
    ++b.pending;
    ++b.total;
    return false;
  }
  b.tokens -= 1.0;
  *suppressed_before = b.pending;
  b.pending = 0;
  return true;
}

std::vector<std::pair<std::string, uint64_t>> LogLimiter::TakeSuppressed() {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [kind, b] : buckets_) {
    if (b.pending == 0) continue;
    out.emplace_back(kind, b.pending);
    b.pending = 0;
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> LogLimiter::SuppressedTotals() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [kind, b] : buckets_) out.emplace_back(kind, b.total);
  return out;
}

}  // namespace ordersync
