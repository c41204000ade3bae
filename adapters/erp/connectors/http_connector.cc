// HttpConnector's lifecycle, Post / Poll / Stop, the I/O thread's loop and its stats (see
// http_connector_impl.h for how the implementation is split), and CreateHttpConnector.
#include "adapters/erp/connectors/http_connector.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "adapters/erp/connectors/http_client_options.h"
#include "adapters/erp/connectors/http_connector_impl.h"

namespace ordersync {
namespace http_connector_detail {

Status HttpConnector::Start() {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status::IOError("eventfd failed");
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

Status HttpConnector::Post(std::string_view erp_command, uint64_t tag, const PostOptions& options) {
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

size_t HttpConnector::Poll(std::vector<ErpCompletion>* out, int timeout_ms) {
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

ErpConnectorStats HttpConnector::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  ErpConnectorStats s = stats_;
  s.target = target_.name;
  s.kind = std::string(ErpKindName(kind_));
  s.accepted = accepted_.load();
  s.in_flight = in_flight_.load();
  return s;
}

void HttpConnector::Stop() {
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

void HttpConnector::Run() {
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

void HttpConnector::CountAnswer(const HttpResponse& r) {
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

void HttpConnector::PublishGauges() {
  Count([&](ErpConnectorStats& s) {
    s.requests_in_flight = static_cast<uint64_t>(requests_in_flight_);
    s.concurrency_limit = limit_;
    s.connections_opened = client_->connections_opened();
  });
}

}  // namespace http_connector_detail

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
  auto connector = std::make_unique<http_connector_detail::HttpConnector>(target, *kind, std::move(*dialect), std::move(*auth),
                                                   std::move(*client));
  connector->csrf_call_ = std::move(csrf);
  ORDERSYNC_RETURN_IF_ERROR(connector->Start());
  return std::unique_ptr<ErpConnector>(std::move(connector));
}

}  // namespace ordersync
