// HttpConnector's requests: $batch grouping, the queue and its adaptive concurrency limit,
// credentials (OAuth token, SAP CSRF token) and Retry-After pauses (see
// http_connector_impl.h).
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "adapters/erp/connectors/http_connector_impl.h"
#include "adapters/erp/connectors/odata_batch.h"

namespace ordersync::http_connector_detail {

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

void HttpConnector::AddToBatch(Job* job, HttpCall call) {
  const std::string root = call.batch_root;
  OpenBatch& b = batches_[root];
  if (b.orders.count(job->view.order_id) > 0) FlushBatch(root);  // one command per order per batch
  OpenBatch& open = batches_[root];
  if (open.entries.empty()) open.opened_ms = NowMs();
  open.orders.insert(job->view.order_id);
  open.entries.emplace_back(job, std::move(call));
  if (open.entries.size() >= t_.batch_size) FlushBatch(root);
}

void HttpConnector::FlushBatches(int64_t now, int64_t* wait_ms) {
  std::vector<std::string> due;
  for (auto& [root, b] : batches_) {
    if (b.entries.empty()) continue;
    const int64_t at = b.opened_ms + t_.batch_linger_ms;
    if (at <= now) due.push_back(root);
    else *wait_ms = std::min(*wait_ms, at - now);
  }
  for (const std::string& root : due) FlushBatch(root);
}

void HttpConnector::FlushBatch(const std::string& root) {
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

void HttpConnector::OnBatchAnswer(const std::vector<Job*>& jobs, const HttpResponse& r) {
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

void HttpConnector::Pump(int64_t now, int64_t* wait_ms) {
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

void HttpConnector::Dispatch(Pending p) {
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

void HttpConnector::Finish(Pending& p, HttpResponse&& r) {
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

void HttpConnector::FailWaiters(std::deque<Pending>* waiters, const HttpResponse& r) {
  std::deque<Pending> w;
  w.swap(*waiters);
  for (Pending& p : w) {
    HttpResponse copy = r;
    p.auth_retried = true;
    p.csrf_retried = true;
    Finish(p, std::move(copy));
  }
}

void HttpConnector::FetchToken() {
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

void HttpConnector::FetchCsrf() {
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

}  // namespace ordersync::http_connector_detail
