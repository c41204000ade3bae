#include "adapters/metrics/recovery_tracker.h"

#include <algorithm>

#include "adapters/metrics/metric_families.h"
#include "adapters/metrics/observability.h"

namespace ordersync {

void RecoveryTracker::Observe(const DispatcherStats& stats, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const TargetStats& s : stats.targets) {
    Target& t = targets_[s.name];
    const uint64_t answered = s.posted + s.already_posted;
    const uint64_t failed = s.transient_errors + s.timeouts + s.no_connection;
    if (!t.sampled) {
      t.sampled = true;
    } else {
      const bool new_answers = answered > t.answered;
      const bool new_failures = failed > t.failed;
      const bool troubled = s.circuit != "closed" || (new_failures && !new_answers);
      if (!t.recovering && troubled) {
        t.recovering = true;
        t.started_at_ns = now_ns;
        t.normal = std::max(t.backlog, normal_backlog_);
        ++t.episodes;
      } else if (t.recovering && !troubled && s.backlog <= t.normal) {
        t.recovering = false;
        t.recovery_ms->RecordShared((now_ns - t.started_at_ns) / 1'000'000);
      }
    }
    t.answered = answered;
    t.failed = failed;
    t.backlog = s.backlog;
  }
}

void RecoveryTracker::Start(std::function<DispatcherStats()> read, std::chrono::milliseconds interval) {
  sampler_ = std::thread([this, read = std::move(read), interval] {
    std::unique_lock<std::mutex> lock(run_mu_);
    while (!stop_) {
      lock.unlock();
      Observe(read(), SystemClock::Default()->NowNanos());
      lock.lock();
      run_cv_.wait_for(lock, interval, [this] { return stop_; });
    }
  });
}

void RecoveryTracker::Stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

std::map<std::string, RecoveryTracker::TargetView> RecoveryTracker::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, TargetView> out;
  for (const auto& [name, t] : targets_) {
    TargetView& v = out[name];
    v.recovering = t.recovering;
    v.episodes = t.episodes;
    t.recovery_ms->AddTo(&v.recovery_ms);
  }
  return out;
}

std::shared_ptr<prometheus::Collectable> RecoveryTracker::Collector() {
  return std::make_shared<FunctionCollector>([this](std::vector<prometheus::MetricFamily>* out) {
    const auto targets = Snapshot();
    auto& h = AddFamily(out, "ordersync_erp_recovery_seconds",
                        "Integration recovery time: from the start of an ERP outage or circuit-open episode until "
                        "the target's backlog is back to normal.",
                        prometheus::MetricType::Histogram);
    for (const auto& [name, v] : targets) AddHistogram(&h, v.recovery_ms, 1e-3, {{"target", name}});
    auto& r = AddFamily(out, "ordersync_erp_recovering", "1 while an ERP outage episode of the target is open.",
                        prometheus::MetricType::Gauge);
    for (const auto& [name, v] : targets) AddSample(&r, v.recovering ? 1 : 0, {{"target", name}});
    auto& e = AddFamily(out, "ordersync_erp_outage_episodes_total",
                        "ERP outage or circuit-open episodes of the target.", prometheus::MetricType::Counter);
    for (const auto& [name, v] : targets) AddSample(&e, static_cast<double>(v.episodes), {{"target", name}});
  });
}

}  // namespace ordersync
