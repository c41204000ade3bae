#include "adapters/erp/connectors/http_connector.h"

#include <curl/curl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "adapters/erp/connectors/erp_dialect.h"
#include "adapters/erp/connectors/http_auth.h"
#include "adapters/erp/connectors/http_client_options.h"
#include "adapters/erp/connectors/odata_batch.h"

namespace ordersync {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t WallS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool CsrfRequired(const HttpResponse& r) {
  const std::string* h = r.Header("x-csrf-token");
  if (h == nullptr) return false;
  std::string v = *h;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "required";
}

// Retry-After: delay-seconds or an HTTP-date; 0 when absent or unreadable.
uint32_t RetryAfterMs(const HttpResponse& r, uint32_t cap_ms) {
  const std::string* h = r.Header("retry-after");
  if (h == nullptr || h->empty()) return 0;
  int64_t ms = 0;
  if (std::all_of(h->begin(), h->end(), [](unsigned char c) { return std::isdigit(c); })) {
    ms = std::atoll(h->c_str()) * 1000;
  } else {
    const time_t at = curl_getdate(h->c_str(), nullptr);
    if (at < 0) return 0;
    ms = (static_cast<int64_t>(at) - WallS()) * 1000;
  }
  return static_cast<uint32_t>(std::clamp<int64_t>(ms, 1, cap_ms));
}

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

  Status Start() {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return Status::IOError("eventfd failed");
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  using ErpConnector::Post;
  Status Post(std::string_view erp_command, uint64_t tag, const PostOptions& options) override {
    auto job = std::make_unique<Job>();
    job->buffer.assign(erp_command.data(), erp_command.size());
    std::optional<CommandView> view = CommandView::From(job->buffer);
    if (!view) return Status::InvalidArgument("not an ErpCommand (verification failed or no command_id/order_id)");
    if (!dialect_->Supports(view->kind)) {
      return Status::InvalidArgument(std::string("a ") + std::string(ErpKindName(kind_)) + " target cannot take " +
                                     EnumNameCommandKind(view->kind));
    }
    if (stopped_.load()) return Status::Unavailable("connector stopped");
    size_t current = in_flight_.load();
    do {
      if (current >= capacity()) return Status::Busy("target " + target_.name + " has max_in_flight commands");
    } while (!in_flight_.compare_exchange_weak(current, current + 1));
    job->view = *view;
    job->tag = tag;
    job->check_first = options.maybe_posted_before;
    job->epoch = options.epoch;
    job->started_us = NowUs();
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      inbox_.push_back(std::move(job));
    }
    accepted_.fetch_add(1);
    client_->Wakeup();
    return Status::OK();
  }

  size_t Poll(std::vector<ErpCompletion>* out, int timeout_ms) override {
    if (timeout_ms > 0) {
      bool empty;
      {
        std::lock_guard<std::mutex> lock(done_mu_);
        empty = done_.empty();
      }
      if (empty) {
        pollfd p{wake_fd_, POLLIN, 0};
        ::poll(&p, 1, timeout_ms);
      }
    }
    uint64_t drained = 0;
    [[maybe_unused]] ssize_t n = ::read(wake_fd_, &drained, sizeof(drained));  // clear before taking
    std::lock_guard<std::mutex> lock(done_mu_);
    const size_t count = done_.size();
    for (ErpCompletion& c : done_) out->push_back(std::move(c));
    done_.clear();
    return count;
  }

  int wake_fd() const override { return wake_fd_; }
  size_t capacity() const override { return target_.max_in_flight; }
  size_t in_flight() const override { return in_flight_.load(); }

  ErpConnectorStats Stats() const override {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ErpConnectorStats s = stats_;
    s.target = target_.name;
    s.kind = std::string(ErpKindName(kind_));
    s.accepted = accepted_.load();
    s.in_flight = in_flight_.load();
    return s;
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    if (thread_.joinable()) {
      client_->Wakeup();
      thread_.join();
    }
    // The I/O thread is gone: end every attempt still here.
    std::deque<std::unique_ptr<Job>> inbox;
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      inbox.swap(inbox_);
    }
    for (auto& j : inbox) jobs_.emplace(j.get(), std::move(j));
    std::vector<Job*> left;
    for (auto& [p, j] : jobs_) left.push_back(p);
    for (Job* j : left) {
      Complete(j, AckStatus::TransientError, ErpFailureClass::kShutdown, "connector stopped before the ERP answered");
    }
    client_.reset();
  }

 private:
  // ---------------------------------------------------------------- I/O thread loop

  void Run() {
    while (!stopped_.load()) {
      std::deque<std::unique_ptr<Job>> inbox;
      {
        std::lock_guard<std::mutex> lock(inbox_mu_);
        inbox.swap(inbox_);
      }
      for (auto& j : inbox) {
        Job* job = j.get();
        jobs_.emplace(job, std::move(j));
        StartJob(job);
      }
      const int64_t now = NowMs();
      int64_t wait_ms = 50;
      FlushBatches(now, &wait_ms);
      Pump(now, &wait_ms);
      PublishGauges();
      client_->Run(static_cast<int>(std::max<int64_t>(0, wait_ms)));
    }
  }

  // ---------------------------------------------------------------- attempt steps

  // Every request of an attempt carries the owner's fencing epoch (cluster mode), the one
  // place it is added for all dialects; $batch parts carry it too (PostCommand stamps the
  // call before it joins a batch).
  static HttpCall Stamped(const Job& job, HttpCall call) {
    if (job.epoch > 0) call.headers.emplace_back(std::string(kEpochHeader), std::to_string(job.epoch));
    return call;
  }

  void StartJob(Job* job) {
    const std::string id(job->view.command_id);
    const bool unknown_before = job->check_first || uncertain_.count(id) > 0;
    if (unknown_before && !dialect_->PostIsIdempotent(job->view.kind) && dialect_->BuildLookup(job->view)) {
      Lookup(job, LookupMode::kBeforePost);
    } else {
      Prepare(job);
    }
  }

  void Lookup(Job* job, LookupMode mode) {
    std::optional<HttpCall> call = dialect_->BuildLookup(job->view);
    job->looked_up = true;
    Count([](ErpConnectorStats& s) { ++s.lookups; });
    Send(Pending{Stamped(*job, std::move(*call)), [this, job, mode](HttpResponse&& r) { OnLookup(job, mode, r); }});
  }

  void OnLookup(Job* job, LookupMode mode, const HttpResponse& r) {
    ++job->requests;
    job->http_status = r.status;
    if (r.status == 0 || r.status == 401 || r.status == 403 || r.status == 429 || r.status >= 500) {
      Count([](ErpConnectorStats& s) { ++s.lookups_failed; });
      return Fail(job, r, "read-before-retry look-up failed");
    }
    const LookupResult l = dialect_->ParseLookup(job->view, r);
    switch (l.verdict) {
      case LookupVerdict::kFound:
        Count([](ErpConnectorStats& s) { ++s.lookups_found; });
        uncertain_.erase(std::string(job->view.command_id));
        return Complete(job, AckStatus::AlreadyPosted, ErpFailureClass::kNone, "found in the ERP by look-up",
                        l.document_id);
      case LookupVerdict::kNotFound:
        Count([](ErpConnectorStats& s) { ++s.lookups_not_found; });
        if (mode == LookupMode::kBeforePost) return Prepare(job);
        if (mode == LookupMode::kBeforeReject) {
          job->http_status = job->reject_status;
          return Complete(job, AckStatus::Rejected, ErpFailureClass::kBusiness, job->reject_message);
        }
        return Complete(job, AckStatus::TransientError, ErpFailureClass::kProtocol,
                        "the ERP reported a duplicate that a look-up cannot find yet");
      case LookupVerdict::kError:
        Count([](ErpConnectorStats& s) { ++s.lookups_failed; });
        return Complete(job, AckStatus::TransientError, ErpFailureClass::kProtocol, l.message);
    }
  }

  void Prepare(Job* job) {
    std::optional<HttpCall> call = dialect_->PrepareCall(job->view);
    if (!call) return PostCommand(job, "");
    const std::string key = dialect_->PrepareCacheKey(job->view);
    if (!key.empty()) {
      auto it = prepared_cache_.find(key);
      if (it != prepared_cache_.end()) return PostCommand(job, it->second);
    }
    Send(Pending{Stamped(*job, std::move(*call)), [this, job, key](HttpResponse&& r) {
                   ++job->requests;
                   job->http_status = r.status;
                   if (r.status == 0 || r.status == 401 || r.status == 403 || r.status == 429 || r.status >= 500) {
                     return Fail(job, r, "preparing the post");
                   }
                   PrepareResult p = dialect_->ParsePrepare(job->view, r);
                   switch (p.kind) {
                     case PrepareResult::kProceed:
                       if (!key.empty()) Remember(key, p.value);
                       return PostCommand(job, p.value);
                     case PrepareResult::kAlreadyPosted:
                       uncertain_.erase(std::string(job->view.command_id));
                       return Complete(job, AckStatus::AlreadyPosted, ErpFailureClass::kNone, "already posted in the ERP",
                                       p.document_id);
                     case PrepareResult::kMissing:
                       return Complete(job, AckStatus::TransientError, ErpFailureClass::kDependency, p.message);
                     case PrepareResult::kError:
                       return Complete(job, AckStatus::TransientError, ErpFailureClass::kProtocol, p.message);
                   }
                 }});
  }

  void PostCommand(Job* job, const std::string& prepared) {
    HttpCall call = Stamped(*job, dialect_->BuildPost(job->view, prepared));
    if (dialect_->batch_format() != BatchFormat::kNone && t_.batch_size > 1 && !call.batch_root.empty()) {
      return AddToBatch(job, std::move(call));
    }
    Send(Pending{std::move(call), [this, job](HttpResponse&& r) {
                   ++job->requests;
                   OnPostAnswer(job, r);
                 }});
  }

  void OnPostAnswer(Job* job, const HttpResponse& r) {
    job->http_status = r.status;
    const std::string id(job->view.command_id);
    if (r.status >= 200 && r.status < 300) {
      uncertain_.erase(id);
      auto [key, value] = dialect_->CacheAfterPost(job->view, r);
      if (!key.empty() && !value.empty()) Remember(key, value);
      const bool replay = dialect_->IsReplayedAnswer(r);
      return Complete(job, replay ? AckStatus::AlreadyPosted : AckStatus::Posted, ErpFailureClass::kNone,
                      replay ? "replayed answer (Idempotency-Key)" : "", dialect_->DocumentId(job->view, r));
    }
    if (r.status != 0 && dialect_->IsDuplicateAnswer(job->view, r)) {
      if (dialect_->BuildLookup(job->view)) return Lookup(job, LookupMode::kAfterDuplicate);
      return Complete(job, AckStatus::AlreadyPosted, ErpFailureClass::kNone, dialect_->ErrorMessage(r));
    }
    const bool business = r.status >= 400 && r.status < 500 && r.status != 401 && r.status != 403 &&
                          r.status != 408 && r.status != 409 && r.status != 412 && r.status != 429;
    if (business) {
      const std::string message = dialect_->ErrorMessage(r);
      if (dialect_->LookupBeforeReject(job->view.kind) && dialect_->BuildLookup(job->view)) {
        job->reject_message = message;
        job->reject_status = r.status;
        return Lookup(job, LookupMode::kBeforeReject);
      }
      return Complete(job, AckStatus::Rejected, ErpFailureClass::kBusiness, message);
    }
    // The outcome is unknown when the request may have been processed: a timeout or a
    // broken connection after sending, or a 5xx.
    if ((r.status == 0 && r.maybe_sent) || r.status >= 500 || r.status == 408) uncertain_.insert(id);
    Fail(job, r, "");
  }

  // A transient end of the attempt, classified from the answer.
  void Fail(Job* job, const HttpResponse& r, const std::string& context) {
    ErpFailureClass failure = ErpFailureClass::kServerError;
    uint32_t retry_after = 0;
    std::string message;
    if (r.status == 0) {
      failure = r.transport_error == HttpTransportError::kTimeout ? ErpFailureClass::kTimeout
                                                                   : ErpFailureClass::kConnection;
      message = r.error;
    } else {
      message = "HTTP " + std::to_string(r.status) + ": " + dialect_->ErrorMessage(r);
      if (r.status == 401 || r.status == 403) failure = ErpFailureClass::kAuth;
      else if (r.status == 429) failure = ErpFailureClass::kRateLimited;
      else if (r.status == 503 || r.status == 409) failure = ErpFailureClass::kUnavailable;
      else if (r.status == 408) failure = ErpFailureClass::kTimeout;
      else if (r.status == 412) failure = ErpFailureClass::kDependency;
      else if (r.status < 500) failure = ErpFailureClass::kProtocol;
      retry_after = RetryAfterMs(r, t_.max_retry_after_ms);
      if (retry_after == 0 && r.status == 429) retry_after = 1000;
    }
    if (!context.empty()) message = context + ": " + message;
    Complete(job, AckStatus::TransientError, failure, message, "", retry_after);
  }

  void Complete(Job* job, AckStatus status, ErpFailureClass failure, std::string message,
                std::string document = "", uint32_t retry_after_ms = 0) {
    ErpCompletion c;
    c.tag = job->tag;
    c.command_id = std::string(job->view.command_id);
    c.status = status;
    c.failure = failure;
    c.retry_after_ms = retry_after_ms;
    c.erp_document_id = std::move(document);
    c.message = std::move(message);
    c.http_status = job->http_status;
    c.looked_up = job->looked_up;
    c.http_requests = job->requests;
    c.latency_us = NowUs() - job->started_us;
    Count([&](ErpConnectorStats& s) {
      switch (status) {
        case AckStatus::Posted: ++s.posted; break;
        case AckStatus::AlreadyPosted: ++s.already_posted; break;
        case AckStatus::Rejected: ++s.rejected; break;
        case AckStatus::TransientError:
          ++s.transient;
          if (failure == ErpFailureClass::kAuth) ++s.auth_failures;
          break;
      }
    });
    jobs_.erase(job);
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      done_.push_back(std::move(c));
    }
    in_flight_.fetch_sub(1);
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }

  void Remember(const std::string& key, const std::string& value) {
    if (prepared_cache_.size() >= 100000) prepared_cache_.clear();  // bounded; re-resolved on demand
    prepared_cache_[key] = value;
  }

  // ---------------------------------------------------------------- batches

  void AddToBatch(Job* job, HttpCall call) {
    const std::string root = call.batch_root;
    OpenBatch& b = batches_[root];
    if (b.orders.count(job->view.order_id) > 0) FlushBatch(root);  // one command per order per batch
    OpenBatch& open = batches_[root];
    if (open.entries.empty()) open.opened_ms = NowMs();
    open.orders.insert(job->view.order_id);
    open.entries.emplace_back(job, std::move(call));
    if (open.entries.size() >= t_.batch_size) FlushBatch(root);
  }

  void FlushBatches(int64_t now, int64_t* wait_ms) {
    std::vector<std::string> due;
    for (auto& [root, b] : batches_) {
      if (b.entries.empty()) continue;
      const int64_t at = b.opened_ms + t_.batch_linger_ms;
      if (at <= now) due.push_back(root);
      else *wait_ms = std::min(*wait_ms, at - now);
    }
    for (const std::string& root : due) FlushBatch(root);
  }

  void FlushBatch(const std::string& root) {
    auto it = batches_.find(root);
    if (it == batches_.end() || it->second.entries.empty()) return;
    std::vector<std::pair<Job*, HttpCall>> entries = std::move(it->second.entries);
    batches_.erase(it);
    const size_t n = entries.size();
    Count([n](ErpConnectorStats& s) {
      ++s.batches;
      s.batched_commands += n;
      s.batch_size_max = std::max<uint64_t>(s.batch_size_max, n);
      const int bucket = n == 1 ? 0 : n < 5 ? 1 : n < 10 ? 2 : n < 20 ? 3 : n < 50 ? 4 : 5;
      ++s.batch_size_buckets[bucket];
    });
    if (n == 1) {
      Job* job = entries[0].first;
      Send(Pending{std::move(entries[0].second), [this, job](HttpResponse&& r) {
                     ++job->requests;
                     OnPostAnswer(job, r);
                   }});
      return;
    }
    std::vector<BatchRequestPart> parts;
    std::vector<Job*> jobs;
    for (auto& [job, call] : entries) {
      BatchRequestPart p;
      p.method = call.method;
      p.url = call.batch_url;
      p.headers = call.headers;
      p.headers.emplace_back("Content-Type", call.content_type);
      p.body = std::move(call.body);
      parts.push_back(std::move(p));
      jobs.push_back(job);
    }
    HttpCall batch;
    batch.method = "POST";
    batch.path = dialect_->BatchPath(root);
    if (dialect_->batch_format() == BatchFormat::kMultipart) {
      batch.body = EncodeMultipartBatchRequest(parts, "batch_os" + std::to_string(++batch_counter_), &batch.content_type);
    } else {
      batch.body = EncodeJsonBatchRequest(parts);
      batch.content_type = "application/json";
    }
    batch.headers.emplace_back("Accept", dialect_->batch_format() == BatchFormat::kJson ? "application/json"
                                                                                         : "multipart/mixed");
    // The $batch request itself carries the epoch when its parts agree (one owner's).
    const uint64_t epoch = jobs.front()->epoch;
    if (epoch > 0 && std::all_of(jobs.begin(), jobs.end(), [epoch](const Job* j) { return j->epoch == epoch; })) {
      batch.headers.emplace_back(std::string(kEpochHeader), std::to_string(epoch));
    }
    Send(Pending{std::move(batch), [this, jobs](HttpResponse&& r) { OnBatchAnswer(jobs, r); }});
  }

  void OnBatchAnswer(const std::vector<Job*>& jobs, const HttpResponse& r) {
    for (Job* j : jobs) ++j->requests;
    if (r.status == 200 || r.status == 202) {
      Result<std::vector<BatchResponsePart>> parts =
          dialect_->batch_format() == BatchFormat::kJson
              ? DecodeJsonBatchResponse(r.body, jobs.size())
              : DecodeMultipartBatchResponse(r.body, r.Header("content-type") ? *r.Header("content-type") : "");
      if (parts.ok() && parts->size() == jobs.size()) {
        for (size_t i = 0; i < jobs.size(); ++i) {
          HttpResponse part;
          part.status = (*parts)[i].status;
          part.headers = std::move((*parts)[i].headers);
          part.body = std::move((*parts)[i].body);
          OnPostAnswer(jobs[i], part);
        }
        return;
      }
      const std::string why = parts.ok() ? "answers for " + std::to_string(parts->size()) + " of " +
                                               std::to_string(jobs.size()) + " changesets"
                                         : parts.status().message();
      for (Job* j : jobs) {
        j->http_status = r.status;
        uncertain_.insert(std::string(j->view.command_id));
        Complete(j, AckStatus::TransientError, ErpFailureClass::kProtocol, "unreadable $batch answer: " + why);
      }
      return;
    }
    const bool whole_batch_refused = r.status >= 400 && r.status < 500 && r.status != 401 && r.status != 403 &&
                                     r.status != 408 && r.status != 409 && r.status != 429;
    for (Job* j : jobs) {
      if (whole_batch_refused) {
        j->http_status = r.status;
        Complete(j, AckStatus::TransientError, ErpFailureClass::kProtocol,
                 "$batch refused as a whole: HTTP " + std::to_string(r.status) + ": " + dialect_->ErrorMessage(r));
      } else {
        OnPostAnswer(j, r);  // 429 / 5xx / timeout / auth: the same for every command
      }
    }
  }

  // ---------------------------------------------------------------- requests

  // Queues a gated request; Pump sends it when the concurrency limit allows.
  void Send(Pending p) { queue_.push_back(std::move(p)); }

  void Pump(int64_t now, int64_t* wait_ms) {
    if (now < paused_until_ms_) {
      *wait_ms = std::min(*wait_ms, paused_until_ms_ - now);
      return;
    }
    while (!queue_.empty() && requests_in_flight_ < std::max(1, static_cast<int>(limit_))) {
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      ++requests_in_flight_;
      Dispatch(std::move(p));
    }
  }

  // Adds credentials (fetching a token or CSRF token first if needed) and submits.
  void Dispatch(Pending p) {
    const int64_t now = NowMs();
    if (auth_->uses_token() && !auth_->Ready(now)) {
      auth_waiters_.push_back(std::move(p));
      FetchToken();
      return;
    }
    const bool modifying = p.call.method != "GET";
    if (modifying && csrf_call_ && csrf_token_.empty()) {
      csrf_waiters_.push_back(std::move(p));
      FetchCsrf();
      return;
    }
    HttpRequest req;
    req.method = p.call.method;
    req.url = base_url_ + p.call.path;
    req.body = p.call.body;
    req.timeout_ms = target_.timeout_ms;
    if (!p.call.body.empty() || modifying) req.headers.push_back("Content-Type: " + p.call.content_type);
    for (const auto& [k, v] : p.call.headers) req.headers.push_back(k + ": " + v);
    const std::string authorization = auth_->AuthorizationValue();
    if (!authorization.empty()) req.headers.push_back("Authorization: " + authorization);
    const uint64_t generation = auth_->generation();
    const uint64_t csrf_generation = csrf_generation_;
    if (modifying && csrf_call_) req.headers.push_back("X-CSRF-Token: " + csrf_token_);
    auto shared = std::make_shared<Pending>(std::move(p));
    client_->Submit(std::move(req), [this, shared, generation, csrf_generation](HttpResponse&& r) {
      CountAnswer(r);
      Pending& q = *shared;
      if (r.status == 401 && auth_->uses_token() && !q.auth_retried) {
        Count([](ErpConnectorStats& s) { ++s.token_refreshes_on_401; });
        auth_->Invalidate(generation);
        q.auth_retried = true;
        return Dispatch(std::move(q));
      }
      if (r.status == 403 && csrf_call_ && CsrfRequired(r) && !q.csrf_retried) {
        Count([](ErpConnectorStats& s) { ++s.csrf_refetches_on_403; });
        if (csrf_generation == csrf_generation_) csrf_token_.clear();
        q.csrf_retried = true;
        return Dispatch(std::move(q));
      }
      Finish(q, std::move(r));
    });
  }

  void Finish(Pending& p, HttpResponse&& r) {
    if (p.gated) --requests_in_flight_;
    if (r.status == 429 || (r.status == 503 && r.Header("retry-after") != nullptr)) {
      uint32_t wait = RetryAfterMs(r, t_.max_retry_after_ms);
      if (wait == 0) wait = 1000;
      paused_until_ms_ = std::max(paused_until_ms_, NowMs() + wait);
      limit_ = std::max(1.0, limit_ / 2);
      Count([wait](ErpConnectorStats& s) {
        ++s.retry_after_waits;
        s.retry_after_wait_ms += wait;
      });
    } else if (r.status >= 200 && r.status < 300) {
      limit_ = std::min<double>(t_.max_requests, limit_ + 1.0 / t_.max_requests);
    }
    auto done = std::move(p.done);
    done(std::move(r));
  }

  // Fails every waiter with `r` (a token or CSRF fetch that did not work).
  void FailWaiters(std::deque<Pending>* waiters, const HttpResponse& r) {
    std::deque<Pending> w;
    w.swap(*waiters);
    for (Pending& p : w) {
      HttpResponse copy = r;
      p.auth_retried = true;
      p.csrf_retried = true;
      Finish(p, std::move(copy));
    }
  }

  void FetchToken() {
    if (token_fetch_in_flight_) return;
    Result<HttpRequest> req = auth_->BuildTokenRequest(WallS() * 1000, target_.timeout_ms);
    if (!req.ok()) {
      HttpResponse r;
      r.status = 401;
      r.body = "{\"error\":{\"message\":\"" + req.status().message() + "\"}}";
      Count([](ErpConnectorStats& s) { ++s.token_failures; });
      return FailWaiters(&auth_waiters_, r);
    }
    token_fetch_in_flight_ = true;
    // The token's clock is the steady one (expiry is relative); the JWT uses wall time.
    client_->Submit(std::move(*req), [this](HttpResponse&& r) {
      token_fetch_in_flight_ = false;
      CountAnswer(r);
      Status s = auth_->OnTokenResponse(r, NowMs());
      if (s.ok()) {
        Count([](ErpConnectorStats& x) { ++x.token_fetches; });
        std::deque<Pending> w;
        w.swap(auth_waiters_);
        for (Pending& p : w) Dispatch(std::move(p));
        return;
      }
      Count([](ErpConnectorStats& x) { ++x.token_failures; });
      HttpResponse failed;
      if (r.status == 0) {
        failed = r;  // unreachable token endpoint: a connection failure, not sent
        failed.maybe_sent = false;
        failed.error = "token endpoint: " + r.error;
      } else {
        failed.status = r.status >= 500 || r.status == 429 ? r.status : 401;  // refused credentials: auth
        failed.headers = r.headers;
        failed.body = "{\"error\":{\"message\":\"" + s.message() + "\"}}";
      }
      FailWaiters(&auth_waiters_, failed);
    });
  }

  void FetchCsrf() {
    if (csrf_fetch_in_flight_) return;
    csrf_fetch_in_flight_ = true;
    Pending p;
    p.call = *csrf_call_;
    p.gated = false;
    p.done = [this](HttpResponse&& r) {
      csrf_fetch_in_flight_ = false;
      const std::string* token = r.Header("x-csrf-token");
      if (r.status >= 200 && r.status < 300 && token != nullptr && !token->empty() && !CsrfRequired(r)) {
        csrf_token_ = *token;
        ++csrf_generation_;
        Count([](ErpConnectorStats& s) { ++s.csrf_fetches; });
        std::deque<Pending> w;
        w.swap(csrf_waiters_);
        for (Pending& q : w) Dispatch(std::move(q));
        return;
      }
      HttpResponse failed = r;
      if (r.status >= 200 && r.status < 300) {
        failed.status = 403;
        failed.body = "{\"error\":{\"message\":\"CSRF token fetch returned no token\"}}";
      }
      if (failed.status == 0) failed.maybe_sent = false;
      FailWaiters(&csrf_waiters_, failed);
    };
    Dispatch(std::move(p));
  }

  // ---------------------------------------------------------------- stats

  template <typename Fn>
  void Count(Fn&& fn) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    fn(stats_);
  }

  void CountAnswer(const HttpResponse& r) {
    Count([&](ErpConnectorStats& s) {
      ++s.http_requests;
      if (r.status == 0) {
        ++s.transport_errors;
        if (r.transport_error == HttpTransportError::kTimeout) ++s.timeouts;
        return;
      }
      switch (r.status / 100) {
        case 1: ++s.http_1xx; break;
        case 2: ++s.http_2xx; break;
        case 3: ++s.http_3xx; break;
        case 4: ++s.http_4xx; break;
        default: ++s.http_5xx; break;
      }
      if (r.status == 429) ++s.http_429;
      if (r.status == 503) ++s.http_503;
      if (r.status == 401) ++s.http_401;
      if (r.status == 403) ++s.http_403;
    });
  }

  void PublishGauges() {
    Count([&](ErpConnectorStats& s) {
      s.requests_in_flight = static_cast<uint64_t>(requests_in_flight_);
      s.concurrency_limit = limit_;
      s.connections_opened = client_->connections_opened();
    });
  }

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

}  // namespace

Result<std::unique_ptr<ErpConnector>> CreateHttpConnector(const ErpTargetOptions& target) {
  const std::optional<ErpKind> kind = ErpKindFromName(target.kind);
  if (!kind || !IsHttpErpKind(*kind)) {
    return Status::InvalidArgument("erp.targets." + target.name + ": kind '" + target.kind + "' is not an HTTP kind");
  }
  const std::string where = "erp.targets." + target.name;
  const HttpTransportOptions& t = target.http.transport;
  if (t.base_url.empty()) return Status::InvalidArgument(where + ".http.base_url: required");
  auto dialect = CreateErpDialect(*kind, target.http);
  if (!dialect.ok()) return Status::InvalidArgument(where + ": " + dialect.status().message());
  auto auth = HttpAuth::Create(target.http.auth, where + ".auth");
  if (!auth.ok()) return auth.status();
  auto options_of_transport = ClientOptionsOf(t, where);
  if (!options_of_transport.ok()) return options_of_transport.status();
  HttpClientOptions client_options = std::move(*options_of_transport);
  client_options.max_host_connections = t.max_requests;
  auto client = HttpClient::Create(client_options);
  if (!client.ok()) return client.status();
  std::optional<HttpCall> csrf = (*dialect)->CsrfFetchCall();
  auto connector = std::make_unique<HttpConnector>(target, *kind, std::move(*dialect), std::move(*auth),
                                                   std::move(*client));
  connector->csrf_call_ = std::move(csrf);
  ORDERSYNC_RETURN_IF_ERROR(connector->Start());
  return std::unique_ptr<ErpConnector>(std::move(connector));
}

}  // namespace ordersync
