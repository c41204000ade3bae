// HttpConnector: the ErpConnector of the HTTP kinds (contract: erp_connector.h; the
// factory: http_connector.h). Private to adapters/erp/connectors. The implementation is
// split by job:
//
//   http_connector.cc          lifecycle, Post / Poll / Stop, the I/O thread's loop, stats
//   http_connector_attempt.cc  one attempt's steps: look-up, prepare, post, its answer,
//                              the completion
//   http_connector_requests.cc $batch, the request queue and its concurrency limit,
//                              credentials (OAuth token, SAP CSRF token), Retry-After
//
// Thread-safety: as erp_connector.h says; the members listed under "I/O thread only" are
// touched by the connector's own thread alone.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "adapters/erp/connectors/erp_connector.h"
#include "adapters/erp/connectors/erp_dialect.h"
#include "adapters/erp/connectors/http_auth.h"
#include "adapters/erp/connectors/http_client.h"

namespace ordersync::http_connector_detail {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline int64_t WallS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// True when a 403 asks for a (new) SAP CSRF token.
bool CsrfRequired(const HttpResponse& r);
// Retry-After: delay-seconds or an HTTP-date, in ms capped at cap_ms; 0 when absent or
// unreadable.
uint32_t RetryAfterMs(const HttpResponse& r, uint32_t cap_ms);

struct Job {
  uint64_t tag = 0;
  std::string buffer;
  CommandView view;
  bool check_first = false;
  uint64_t epoch = 0;  // PostOptions::epoch: stamped on every request of the attempt
  int64_t started_us = 0;
  int http_status = 0;
  bool looked_up = false;
  uint32_t requests = 0;
  std::string reject_message;
  int reject_status = 0;
};

enum class LookupMode : uint8_t { kBeforePost, kAfterDuplicate, kBeforeReject };

// One request on its way, with the protocol retries it may still make.
struct Pending {
  HttpCall call;
  std::function<void(HttpResponse&&)> done;
  bool gated = true;  // counts against the concurrency limit (token/CSRF fetches do not)
  bool auth_retried = false;
  bool csrf_retried = false;
};

struct OpenBatch {
  std::vector<std::pair<Job*, HttpCall>> entries;
  std::unordered_set<std::string_view> orders;
  int64_t opened_ms = 0;
};

class HttpConnector final : public ErpConnector {
 public:
  HttpConnector(const ErpTargetOptions& target, ErpKind kind, std::unique_ptr<ErpDialect> dialect,
                std::unique_ptr<HttpAuth> auth, std::unique_ptr<HttpClient> client)
      : target_(target),
        t_(target.http.transport),
        kind_(kind),
        dialect_(std::move(dialect)),
        auth_(std::move(auth)),
        client_(std::move(client)),
        limit_(t_.max_requests) {
    base_url_ = t_.base_url;
    while (!base_url_.empty() && base_url_.back() == '/' && kind_ != ErpKind::kWebhook) base_url_.pop_back();
  }

  ~HttpConnector() override {
    Stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }
  Status Start();

  using ErpConnector::Post;
  Status Post(std::string_view erp_command, uint64_t tag, const PostOptions& options) override;
  size_t Poll(std::vector<ErpCompletion>* out, int timeout_ms) override;

  int wake_fd() const override { return wake_fd_; }
  size_t capacity() const override { return target_.max_in_flight; }
  size_t in_flight() const override { return in_flight_.load(); }
  ErpConnectorStats Stats() const override;

  void Stop() override;

 private:
  // ---------------------------------------------------------------- I/O thread loop
  void Run();

  // ---------------------------------------------------------------- attempt steps

  // Every request of an attempt carries the owner's fencing epoch (cluster mode), the one
  // place it is added for all dialects; $batch parts carry it too (PostCommand stamps the
  // call before it joins a batch).
  static HttpCall Stamped(const Job& job, HttpCall call) {
    if (job.epoch > 0) call.headers.emplace_back(std::string(kEpochHeader), std::to_string(job.epoch));
    return call;
  }
  void StartJob(Job* job);

  void Lookup(Job* job, LookupMode mode);
  void OnLookup(Job* job, LookupMode mode, const HttpResponse& r);

  void Prepare(Job* job);
  void PostCommand(Job* job, const std::string& prepared);

  void OnPostAnswer(Job* job, const HttpResponse& r);

  // A transient end of the attempt, classified from the answer.
  void Fail(Job* job, const HttpResponse& r, const std::string& context);

  void Complete(Job* job, AckStatus status, ErpFailureClass failure, std::string message,
                std::string document = "", uint32_t retry_after_ms = 0);
  void Remember(const std::string& key, const std::string& value);

  // ---------------------------------------------------------------- batches
  void AddToBatch(Job* job, HttpCall call);

  void FlushBatches(int64_t now, int64_t* wait_ms);
  void FlushBatch(const std::string& root);

  void OnBatchAnswer(const std::vector<Job*>& jobs, const HttpResponse& r);

  // ---------------------------------------------------------------- requests

  // Queues a gated request; Pump sends it when the concurrency limit allows.
  void Send(Pending p) { queue_.push_back(std::move(p)); }
  void Pump(int64_t now, int64_t* wait_ms);

  // Adds credentials (fetching a token or CSRF token first if needed) and submits.
  void Dispatch(Pending p);
  void Finish(Pending& p, HttpResponse&& r);

  // Fails every waiter with `r` (a token or CSRF fetch that did not work).
  void FailWaiters(std::deque<Pending>* waiters, const HttpResponse& r);
  void FetchToken();

  void FetchCsrf();

  // ---------------------------------------------------------------- stats

  template <typename Fn>
  void Count(Fn&& fn) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    fn(stats_);
  }
  void CountAnswer(const HttpResponse& r);

  void PublishGauges();

 public:
  std::optional<HttpCall> csrf_call_;

 private:
  const ErpTargetOptions target_;
  const HttpTransportOptions t_;
  const ErpKind kind_;
  std::string base_url_;
  std::unique_ptr<ErpDialect> dialect_;
  std::unique_ptr<HttpAuth> auth_;
  std::unique_ptr<HttpClient> client_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<size_t> in_flight_{0};
  std::atomic<uint64_t> accepted_{0};
  int wake_fd_ = -1;

  std::mutex inbox_mu_;
  std::deque<std::unique_ptr<Job>> inbox_;  // GUARDED_BY(inbox_mu_)
  std::mutex done_mu_;
  std::vector<ErpCompletion> done_;  // GUARDED_BY(done_mu_)
  mutable std::mutex stats_mu_;
  ErpConnectorStats stats_;  // GUARDED_BY(stats_mu_)

  // I/O thread only.
  std::unordered_map<Job*, std::unique_ptr<Job>> jobs_;
  std::unordered_set<std::string> uncertain_;  // command ids whose last outcome is unknown
  std::unordered_map<std::string, std::string> prepared_cache_;
  std::map<std::string, OpenBatch> batches_;
  std::deque<Pending> queue_;
  std::deque<Pending> auth_waiters_;
  std::deque<Pending> csrf_waiters_;
  int requests_in_flight_ = 0;
  double limit_;
  int64_t paused_until_ms_ = 0;
  bool token_fetch_in_flight_ = false;
  bool csrf_fetch_in_flight_ = false;
  std::string csrf_token_;
  uint64_t csrf_generation_ = 0;
  uint64_t batch_counter_ = 0;
};

}  // namespace ordersync::http_connector_detail
