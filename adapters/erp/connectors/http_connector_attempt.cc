// One attempt of an HttpConnector: the look-up before posting (read-before-retry), the
// prepare step some dialects need, the post, its answer and the completion (see
// http_connector_impl.h).
#include <unistd.h>

#include "adapters/erp/connectors/http_connector_impl.h"

namespace ordersync::http_connector_detail {

void HttpConnector::StartJob(Job* job) {
  const std::string id(job->view.command_id);
  const bool unknown_before = job->check_first || uncertain_.count(id) > 0;
  if (unknown_before && !dialect_->PostIsIdempotent(job->view.kind) && dialect_->BuildLookup(job->view)) {
    Lookup(job, LookupMode::kBeforePost);
  } else {
    Prepare(job);
  }
}

void HttpConnector::Lookup(Job* job, LookupMode mode) {
  std::optional<HttpCall> call = dialect_->BuildLookup(job->view);
  job->looked_up = true;
  Count([](ErpConnectorStats& s) { ++s.lookups; });
  Send(Pending{Stamped(*job, std::move(*call)), [this, job, mode](HttpResponse&& r) { OnLookup(job, mode, r); }});
}

void HttpConnector::OnLookup(Job* job, LookupMode mode, const HttpResponse& r) {
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

void HttpConnector::Prepare(Job* job) {
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

void HttpConnector::PostCommand(Job* job, const std::string& prepared) {
  HttpCall call = Stamped(*job, dialect_->BuildPost(job->view, prepared));
  if (dialect_->batch_format() != BatchFormat::kNone && t_.batch_size > 1 && !call.batch_root.empty()) {
    return AddToBatch(job, std::move(call));
  }
  Send(Pending{std::move(call), [this, job](HttpResponse&& r) {
                 ++job->requests;
                 OnPostAnswer(job, r);
               }});
}

void HttpConnector::OnPostAnswer(Job* job, const HttpResponse& r) {
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

void HttpConnector::Fail(Job* job, const HttpResponse& r, const std::string& context) {
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

void HttpConnector::Complete(Job* job, AckStatus status, ErpFailureClass failure, std::string message,
                             std::string document, uint32_t retry_after_ms) {
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

void HttpConnector::Remember(const std::string& key, const std::string& value) {
  if (prepared_cache_.size() >= 100000) prepared_cache_.clear();  // bounded; re-resolved on demand
  prepared_cache_[key] = value;
}

}  // namespace ordersync::http_connector_detail
