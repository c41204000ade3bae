#include "adapters/ingress/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace ordersync {

namespace {

// A rate of 0 is unlimited; a burst of 0 means "one second's worth".
void Configure(TokenBucket& b, uint32_t events_per_s, uint32_t burst_events, int64_t now_ns) {
  b.Configure(events_per_s, burst_events != 0 ? burst_events : events_per_s, now_ns);
}

uint32_t WaitMs(TokenBucket* b, int64_t now_ns) {
  if (b == nullptr) return 0;
  const int64_t ns = b->NanosUntilToken(now_ns);
  if (ns == 0) return 0;
  // NanosUntilToken rounds up by 1 ns against floating-point error; don't count it twice.
  return static_cast<uint32_t>(std::clamp<int64_t>((ns - 1 + 999'999) / 1'000'000, 1, 3'600'000));
}

}  // namespace

RateLimiter::RateLimiter(const RateLimitOptions& options) { Update(options); }

void RateLimiter::Update(const RateLimitOptions& options) {
  options_ = options;
  // Buckets keep their saved tokens across a reload (TokenBucket::Configure); buckets are
  // configured at time 0 relative to their own clock, which only ever moves forward.
  Configure(global_, options.global_events_per_s, options.global_burst, last_now_ns_);
  BucketMap configured;
  for (const SourceRateLimit& s : options.sources) {
    TokenBucket b;
    if (auto it = configured_.find(s.source); it != configured_.end()) {
      b = it->second;
    } else if (auto d = default_buckets_.find(s.source); d != default_buckets_.end()) {
      b = d->second;
    }
    Configure(b, s.events_per_s, s.burst, last_now_ns_);
    configured[s.source] = b;
  }
  configured_ = std::move(configured);
  for (auto it = default_buckets_.begin(); it != default_buckets_.end();) {
    if (configured_.count(it->first) != 0) {
      it = default_buckets_.erase(it);
    } else {
      Configure(it->second, options.default_events_per_s, options.default_burst, last_now_ns_);
      ++it;
    }
  }
  Configure(overflow_, options.default_events_per_s, options.default_burst, last_now_ns_);
  unlimited_ = options.global_events_per_s == 0 && options.default_events_per_s == 0 &&
               std::all_of(options.sources.begin(), options.sources.end(),
                           [](const SourceRateLimit& s) { return s.events_per_s == 0; });
}

TokenBucket* RateLimiter::BucketFor(std::string_view source, int64_t now_ns) {
  TokenBucket* b = nullptr;
  if (auto it = configured_.find(source); it != configured_.end()) {
    b = &it->second;
  } else if (options_.default_events_per_s == 0) {
    return nullptr;
  } else if (auto d = default_buckets_.find(source); d != default_buckets_.end()) {
    b = &d->second;
  } else if (default_buckets_.size() >= options_.max_tracked_sources) {
    b = &overflow_;
  } else {
    TokenBucket fresh;
    Configure(fresh, options_.default_events_per_s, options_.default_burst, now_ns);
    b = &default_buckets_.emplace(std::string(source), fresh).first->second;
  }
  return b->unlimited() ? nullptr : b;
}

RateDecision RateLimiter::Acquire(std::string_view source, int64_t now_ns) {
  if (unlimited_) return {};
  last_now_ns_ = std::max(last_now_ns_, now_ns);
  TokenBucket* own = BucketFor(source, now_ns);
  TokenBucket* global = global_.unlimited() ? nullptr : &global_;
  // Take from both buckets or from neither.
  const uint32_t wait = std::max(WaitMs(own, now_ns), WaitMs(global, now_ns));
  if (wait > 0) return RateDecision{false, wait};
  if (own != nullptr) own->Take();
  if (global != nullptr) global->Take();
  return {};
}

void RateLimiter::Refund(std::string_view source) {
  if (unlimited_) return;
  if (TokenBucket* own = BucketFor(source, last_now_ns_)) own->Refund();
  global_.Refund();
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
