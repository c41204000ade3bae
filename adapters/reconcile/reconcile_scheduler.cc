#include "adapters/reconcile/reconcile_scheduler.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "adapters/metrics/metric_families.h"
#include "adapters/metrics/observability.h"
#include "adapters/records/field_parse.h"

namespace ordersync {
namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

std::string_view ScheduledRunResultName(ScheduledRunResult r) {
  switch (r) {
    case ScheduledRunResult::kClean:
      return "clean";
    case ScheduledRunResult::kDifferences:
      return "differences";
    case ScheduledRunResult::kFailed:
      return "failed";
  }
  return "failed";
}

nlohmann::json ScheduledReconcileStatusJson(const std::vector<ScheduledReconcileStatus>& all) {
  nlohmann::json schedules = nlohmann::json::array();
  const auto time_or_null = [](int64_t ns) {
    return ns == 0 ? nlohmann::json() : nlohmann::json(FormatTimestampNs(ns));
  };
  for (const ScheduledReconcileStatus& s : all) {
    nlohmann::json differences;
    if (s.has_comparison) {
      for (DifferenceClass c : kDifferenceClasses) {
        differences[std::string(DifferenceClassName(c))] = s.differences[static_cast<size_t>(c)];
      }
    }
    nlohmann::json runs;
    for (ScheduledRunResult r : kScheduledRunResults) {
      runs[std::string(ScheduledRunResultName(r))] = s.runs[static_cast<size_t>(r)];
    }
    schedules.push_back({{"target", s.target},
                         {"interval_s", s.interval_s},
                         {"source", s.last_source},
                         {"started_at", time_or_null(s.started_at_ns)},
                         {"last_run_at", time_or_null(s.last_run_at_ns)},
                         {"last_result", s.has_run ? nlohmann::json(ScheduledRunResultName(s.last_result))
                                                   : nlohmann::json()},
                         {"last_error", s.last_error},
                         {"last_clean_at", time_or_null(s.last_clean_at_ns)},
                         {"last_duration_s", Seconds(s.last_duration_ns)},
                         {"acknowledged", s.acknowledged},
                         {"matched", s.matched},
                         {"differences", differences},
                         {"runs", runs},
                         {"consecutive_failures", s.consecutive_failures}});
  }
  return {{"schedules", schedules}};
}

void RegisterReconcileScheduleAdminCommand(AdminServer* admin, ReconcileScheduler* scheduler) {
  admin->Register("reconcile.schedule",
                  {"the scheduled reconciles: last run, result, differences per class, why the last one failed",
                   false, [scheduler](const nlohmann::json&) -> Result<nlohmann::json> {
                     return ScheduledReconcileStatusJson(scheduler->Snapshot());
                   }});
}

ErpDocumentSourceFactory MakeScheduledSourceFactory(const ReconcileScheduleOptions& options,
                                                    ErpDocumentSourceFactory api) {
  if (options.source == kReconcileSourceApi) {
    if (api) return api;
    return []() -> Result<std::unique_ptr<ErpDocumentSource>> {
      return Status::Unavailable("api source not built into this binary");
    };
  }
  return [path = options.export_path]() -> Result<std::unique_ptr<ErpDocumentSource>> {
    return std::unique_ptr<ErpDocumentSource>(std::make_unique<ExportFileSource>(path));
  };
}

ReconcileScheduler::ReconcileScheduler(StateStore* store, std::function<Status()> before_run, uint32_t margin_s,
                                       std::vector<Schedule> schedules, const Clock* clock)
    : store_(store), before_run_(std::move(before_run)),
      margin_ns_(static_cast<int64_t>(margin_s) * kNanosPerSecond), schedules_(std::move(schedules)),
      clock_(clock) {
  const int64_t now = clock_->NowNanos();
  for (const Schedule& s : schedules_) {
    ScheduledReconcileStatus st;
    st.target = s.options.target;
    st.interval_s = s.options.interval_s;
    st.started_at_ns = now;
    status_.push_back(std::move(st));
  }
}

void ReconcileScheduler::Start() {
  if (schedules_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] {
    // Next due time per schedule on the steady clock: all now, then every interval.
    std::vector<int64_t> due(schedules_.size(), SteadyNowNs());
    std::unique_lock<std::mutex> lock(thread_mu_);
    while (!stop_) {
      for (size_t i = 0; i < schedules_.size() && !stop_; ++i) {
        if (SteadyNowNs() < due[i]) continue;
        lock.unlock();
        {
          std::lock_guard<std::mutex> run(run_mu_);
          RunLocked(i);
        }
        // Counted from the run's end: a slow run does not queue up the next ones.
        due[i] = SteadyNowNs() + static_cast<int64_t>(schedules_[i].options.interval_s) * kNanosPerSecond;
        lock.lock();
      }
      const int64_t next = *std::min_element(due.begin(), due.end());
      thread_cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(0, next - SteadyNowNs())),
                          [this] { return stop_; });
    }
  });
}

void ReconcileScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stop_ = true;
  }
  thread_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<ScheduledRunResult> ReconcileScheduler::RunNow(const std::string& target) {
  for (size_t i = 0; i < schedules_.size(); ++i) {
    if (schedules_[i].options.target != target) continue;
    std::lock_guard<std::mutex> run(run_mu_);
    return RunLocked(i);
  }
  return Status::NotFound("no scheduled reconcile for target '" + target + "' ([reconcile.schedule." + target +
                          "])");
}

ScheduledRunResult ReconcileScheduler::RunLocked(size_t i) {
  const ReconcileScheduleOptions& o = schedules_[i].options;
  const int64_t began = SteadyNowNs();
  const int64_t now = clock_->NowNanos();
  ReconcileWindow window;
  window.target = o.target;
  window.from_ns = now - static_cast<int64_t>(o.lookback_s) * kNanosPerSecond;
  window.to_ns = now - static_cast<int64_t>(o.settle_s) * kNanosPerSecond;
  window.margin_ns = margin_ns_;

  Status failed;
  std::string source_name;
  Result<ReconcileRun> run = Status::Internal("not run");
  if (before_run_) {
    if (Status s = before_run_(); !s.ok()) failed = Status::Unavailable("checkpoint before the run: " + s.ToString());
  }
  if (failed.ok()) {
    Result<std::unique_ptr<ErpDocumentSource>> source = schedules_[i].source();
    if (!source.ok()) {
      failed = source.status();
    } else {
      source_name = (*source)->Describe();
      run = RunReconcile(store_, window, source->get(), now);
      if (!run.ok()) failed = run.status();
    }
  }
  const ScheduledRunResult result = !failed.ok()           ? ScheduledRunResult::kFailed
                                    : run->report.clean() ? ScheduledRunResult::kClean
                                                          : ScheduledRunResult::kDifferences;
  const int64_t finished = clock_->NowNanos();
  const std::string period = FormatTimestampNs(window.from_ns) + " .. " + FormatTimestampNs(window.to_ns);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ScheduledReconcileStatus& st = status_[i];
    st.has_run = true;
    st.last_result = result;
    st.last_run_at_ns = finished;
    st.last_duration_ns = SteadyNowNs() - began;
    ++st.runs[static_cast<size_t>(result)];
    if (!source_name.empty()) st.last_source = source_name;
    if (result == ScheduledRunResult::kFailed) {
      st.last_error = failed.message();
      ++st.consecutive_failures;
    } else {
      st.last_error.clear();
      st.consecutive_failures = 0;
      st.has_comparison = true;
      for (DifferenceClass c : kDifferenceClasses) st.differences[static_cast<size_t>(c)] = run->report.count(c);
      st.acknowledged = run->report.acknowledged;
      st.matched = run->report.matched;
      if (result == ScheduledRunResult::kClean) st.last_clean_at_ns = finished;
    }
  }
  if (result == ScheduledRunResult::kFailed) {
    spdlog::warn("scheduled reconcile of {} ({}) failed: {}", o.target, period, failed.message());
  } else {
    const ReconcileReport& r = run->report;
    const auto n = [&r](DifferenceClass c) { return r.count(c); };
    spdlog::log(result == ScheduledRunResult::kClean ? spdlog::level::info : spdlog::level::warn,
                "scheduled reconcile of {} ({}, {}): {}: {} acknowledged, {} matched, {} missing_in_erp, {} "
                "unknown_to_ordersync, {} mismatch, {} pending{}",
                o.target, period, source_name, ScheduledRunResultName(result), r.acknowledged, r.matched,
                n(DifferenceClass::kMissingInErp), n(DifferenceClass::kUnknownToOrdersync),
                n(DifferenceClass::kMismatch), n(DifferenceClass::kPending),
                result == ScheduledRunResult::kClean ? ""
                                                     : " (list them with `ordersync reconcile --target " + o.target +
                                                           "` over that period)");
  }
  return result;
}

std::vector<ScheduledReconcileStatus> ReconcileScheduler::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::shared_ptr<prometheus::Collectable> ReconcileScheduler::Collector() {
  return std::make_shared<FunctionCollector>([this](std::vector<prometheus::MetricFamily>* out) {
    const std::vector<ScheduledReconcileStatus> all = Snapshot();
    if (all.empty()) return;
    using prometheus::MetricType;
    auto& differences = AddFamily(out, "ordersync_reconcile_differences",
                                  "Differences the last scheduled reconcile that compared found, by class "
                                  "(pending is expected, not an error).",
                                  MetricType::Gauge);
    for (const ScheduledReconcileStatus& s : all) {
      if (!s.has_comparison) continue;
      for (DifferenceClass c : kDifferenceClasses) {
        AddSample(&differences, static_cast<double>(s.differences[static_cast<size_t>(c)]),
                  {{"target", s.target}, {"class", DifferenceClassName(c)}});
      }
    }
    auto& runs = AddFamily(out, "ordersync_reconcile_runs_total", "Scheduled reconcile runs by result.",
                           MetricType::Counter);
    for (const ScheduledReconcileStatus& s : all) {
      for (ScheduledRunResult r : kScheduledRunResults) {
        AddSample(&runs, static_cast<double>(s.runs[static_cast<size_t>(r)]),
                  {{"target", s.target}, {"result", ScheduledRunResultName(r)}});
      }
    }
    struct Gauge {
      const char* name;
      const char* help;
      double (*value)(const ScheduledReconcileStatus&);
    };
    static constexpr Gauge kGauges[] = {
        {"ordersync_reconcile_last_run_timestamp_seconds",
         "When the last scheduled reconcile run finished, any result (0: none yet).",
         [](const ScheduledReconcileStatus& s) { return Seconds(s.last_run_at_ns); }},
        {"ordersync_reconcile_last_clean_run_timestamp_seconds",
         "When the last clean scheduled reconcile run finished (0: none since the schedule started).",
         [](const ScheduledReconcileStatus& s) { return Seconds(s.last_clean_at_ns); }},
        {"ordersync_reconcile_last_run_duration_seconds", "How long the last scheduled reconcile run took.",
         [](const ScheduledReconcileStatus& s) { return Seconds(s.last_duration_ns); }},
        {"ordersync_reconcile_consecutive_failures",
         "Scheduled reconcile runs failed in a row (0 after one that compared).",
         [](const ScheduledReconcileStatus& s) { return static_cast<double>(s.consecutive_failures); }},
        {"ordersync_reconcile_interval_seconds", "Configured seconds between scheduled reconcile runs.",
         [](const ScheduledReconcileStatus& s) { return static_cast<double>(s.interval_s); }},
        {"ordersync_reconcile_schedule_start_timestamp_seconds", "When the reconcile schedule started.",
         [](const ScheduledReconcileStatus& s) { return Seconds(s.started_at_ns); }},
    };
    for (const Gauge& g : kGauges) {
      auto& family = AddFamily(out, g.name, g.help, MetricType::Gauge);
      for (const ScheduledReconcileStatus& s : all) AddSample(&family, g.value(s), {{"target", s.target}});
    }
  });
}

}  // namespace ordersync
