#include "adapters/console/console_sampler.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace ordersync {
namespace {

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a chart point keeps of the figures (the full figures are only kept for "latest").
nlohmann::json HistoryPoint(const nlohmann::json& f) {
  nlohmann::json p = nlohmann::json::object();
  for (const char* key : {"at_ns", "received_per_s", "applied_per_s", "ack_latency_p99_s", "queued", "parked",
                          "exceptions_pending", "outbox", "dlq", "orders_at_risk", "rejected_per_s"}) {
    if (f.contains(key)) p[key] = f[key];
  }
  nlohmann::json posted = nlohmann::json::object();
  if (f.contains("targets")) {
    for (const auto& t : f["targets"]) posted[t.value("target", std::string())] = t.value("posted_per_s", nlohmann::json());
  }
  p["posted_per_s"] = posted;
  return p;
}

}  // namespace

ConsoleSampler::ConsoleSampler(ScrapeFn scrape, FiguresFn figures, uint32_t interval_s, uint32_t history_s)
    : scrape_(std::move(scrape)),
      figures_(std::move(figures)),
      interval_s_(interval_s == 0 ? 1 : interval_s),
      max_points_(history_s / (interval_s == 0 ? 1 : interval_s) + 1) {}

void ConsoleSampler::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void ConsoleSampler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConsoleSampler::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    SampleOnce();
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(interval_s_), [this] { return stop_; });
  }
}

void ConsoleSampler::SampleOnce() {
  const int64_t at_ns = WallNowNs();
  Result<std::string> text = scrape_();
  Result<PromSamples> samples = text.ok() ? ParsePromText(*text) : Result<PromSamples>(text.status());
  if (!samples.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_error_ != samples.status().ToString()) {
      last_error_ = samples.status().ToString();
      spdlog::warn("console: cannot read the engine's figures: {}", last_error_);
    }
    return;
  }
  const double dt_s = previous_ ? static_cast<double>(at_ns - previous_at_ns_) / 1e9 : 0;
  nlohmann::json figures = figures_(*samples, previous_ ? &*previous_ : nullptr, dt_s);
  figures["at_ns"] = at_ns;
  previous_ = std::move(samples).value();
  previous_at_ns_ = at_ns;
  std::lock_guard<std::mutex> lock(mu_);
  last_error_.clear();
  history_.push_back(HistoryPoint(figures));
  while (history_.size() > max_points_) history_.pop_front();
  latest_ = std::move(figures);
}

nlohmann::json ConsoleSampler::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json history = nlohmann::json::array();
  for (const auto& p : history_) history.push_back(p);
  return {{"sample_interval_s", interval_s_},
          {"latest", latest_},
          {"history", std::move(history)},
          {"error", last_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_error_)}};
}

}  // namespace ordersync
