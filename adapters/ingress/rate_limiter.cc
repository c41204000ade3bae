#include "adapters/ingress/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace ordersync {

void RateLimiter::Bucket::Configure(uint32_t events_per_s, uint32_t burst_events) {
  rate = events_per_s / 1e9;
  burst = events_per_s == 0 ? 0 : static_cast<double>(burst_events != 0 ? burst_events : events_per_s);
  tokens = std::min(tokens, burst);
}

void RateLimiter::Bucket::Refill(int64_t now_ns) {
  if (now_ns > last_ns) {
    tokens = std::min(burst, tokens + static_cast<double>(now_ns - last_ns) * rate);
    last_ns = now_ns;
  }
}

uint32_t RateLimiter::Bucket::WaitMs() const {
  if (rate == 0 || tokens >= 1) return 0;
  const double ms = std::ceil((1 - tokens) / rate / 1e6);
  return static_cast<uint32_t>(std::clamp(ms, 1.0, 3'600'000.0));
}

RateLimiter::RateLimiter(const RateLimitOptions& options) { Update(options); }

void RateLimiter::Update(const RateLimitOptions& options) {
  options_ = options;
  // A new (or until now unlimited) bucket starts full; a reconfigured one keeps its
  // tokens, capped at the new burst.
  auto configure = [](Bucket& b, uint32_t rate, uint32_t burst) {
    const bool was_unlimited = b.rate == 0;
    b.Configure(rate, burst);
    if (was_unlimited) b.tokens = b.burst;
  };
  configure(global_, options.global_events_per_s, options.global_burst);
  BucketMap configured;
  for (const SourceRateLimit& s : options.sources) {
    Bucket b;
    if (auto it = configured_.find(s.source); it != configured_.end()) {
      b = it->second;
    } else if (auto d = default_buckets_.find(s.source); d != default_buckets_.end()) {
      b = d->second;
    }
    configure(b, s.events_per_s, s.burst);
    configured[s.source] = b;
  }
  configured_ = std::move(configured);
  for (auto it = default_buckets_.begin(); it != default_buckets_.end();) {
    if (configured_.count(it->first) != 0) {
      it = default_buckets_.erase(it);
    } else {
      configure(it->second, options.default_events_per_s, options.default_burst);
      ++it;
    }
  }
  configure(overflow_, options.default_events_per_s, options.default_burst);
  unlimited_ = options.global_events_per_s == 0 && options.default_events_per_s == 0 &&
               std::all_of(options.sources.begin(), options.sources.end(),
                           [](const SourceRateLimit& s) { return s.events_per_s == 0; });
}

RateLimiter::Bucket* RateLimiter::BucketFor(std::string_view source) {
  if (auto it = configured_.find(source); it != configured_.end()) return &it->second;
  if (options_.default_events_per_s == 0) return nullptr;
  if (auto it = default_buckets_.find(source); it != default_buckets_.end()) return &it->second;
  if (default_buckets_.size() >= options_.max_tracked_sources) return &overflow_;
  Bucket b;
  b.Configure(options_.default_events_per_s, options_.default_burst);
  b.tokens = b.burst;
  return &default_buckets_.emplace(std::string(source), b).first->second;
}

RateDecision RateLimiter::Acquire(std::string_view source, int64_t now_ns) {
  if (unlimited_) return {};
  Bucket* own = BucketFor(source);
  if (own != nullptr && own->rate == 0) own = nullptr;
  Bucket* global = global_.rate == 0 ? nullptr : &global_;
  if (own != nullptr) {
    if (own->last_ns == 0) own->last_ns = now_ns;
    own->Refill(now_ns);
  }
  if (global != nullptr) {
    if (global->last_ns == 0) global->last_ns = now_ns;
    global->Refill(now_ns);
  }
  const uint32_t wait = std::max(own != nullptr ? own->WaitMs() : 0, global != nullptr ? global->WaitMs() : 0);
  if (wait > 0) return RateDecision{false, wait};
  if (own != nullptr) own->tokens -= 1;
  if (global != nullptr) global->tokens -= 1;
  return {};
}

void RateLimiter::Refund(std::string_view source) {
  if (unlimited_) return;
  Bucket* own = BucketFor(source);
  if (own != nullptr && own->rate != 0) own->tokens = std::min(own->burst, own->tokens + 1);
  if (global_.rate != 0) global_.tokens = std::min(global_.burst, global_.tokens + 1);
}

std::vector<std::string> DescribeRateLimitChanges(const RateLimitOptions& before, const RateLimitOptions& after) {
  std::vector<std::string> out;
  auto number = [&](const char* key, uint64_t a, uint64_t b) {
    if (a != b) out.push_back(std::string(key) + " " + std::to_string(a) + " -> " + std::to_string(b));
  };
  number("global_events_per_s", before.global_events_per_s, after.global_events_per_s);
  number("global_burst", before.global_burst, after.global_burst);
  number("default_events_per_s", before.default_events_per_s, after.default_events_per_s);
  number("default_burst", before.default_burst, after.default_burst);
  number("max_tracked_sources", before.max_tracked_sources, after.max_tracked_sources);
  auto find = [](const RateLimitOptions& o, const std::string& source) -> const SourceRateLimit* {
    for (const SourceRateLimit& s : o.sources) {
      if (s.source == source) return &s;
    }
    return nullptr;
  };
  auto limit = [](const SourceRateLimit& s) {
    return std::to_string(s.events_per_s) + "/s burst " + std::to_string(s.burst);
  };
  for (const SourceRateLimit& s : after.sources) {
    const SourceRateLimit* old = find(before, s.source);
    if (old == nullptr) {
      out.push_back("sources[" + s.source + "] added: " + limit(s));
    } else if (old->events_per_s != s.events_per_s || old->burst != s.burst) {
      out.push_back("sources[" + s.source + "] " + limit(*old) + " -> " + limit(s));
    }
  }
  for (const SourceRateLimit& s : before.sources) {
    if (find(after, s.source) == nullptr) out.push_back("sources[" + s.source + "] removed");
  }
  return out;
}

}  // namespace ordersync
