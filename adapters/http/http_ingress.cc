#include "adapters/http/http_ingress.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <sstream>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "adapters/http/envelope_json.h"
#include "adapters/ingress/rate_limiter.h"
#include "adapters/ingress/result_countdown.h"
#include "milestone_generated.h"

namespace ordersync {
namespace {

using json = nlohmann::json;

enum class HttpVerdict : uint8_t { kAccepted, kDuplicate, kRejected, kThrottled, kBusy };
const char* VerdictName(HttpVerdict v) {
  switch (v) {
    case HttpVerdict::kAccepted: return "Accepted";
    case HttpVerdict::kDuplicate: return "Duplicate";
    case HttpVerdict::kRejected: return "Rejected";
    case HttpVerdict::kThrottled: return "Throttled";
    case HttpVerdict::kBusy: return "Busy";
  }
  return "?";
}

struct Slot {
  std::string event_id;
  HttpVerdict status = HttpVerdict::kAccepted;
  std::string reason;
  uint32_t retry_after_ms = 0;
};

// One request's events in the engine: workers fill their slots and count down; the
// request thread waits for zero.
class RequestResults final : public ResultSink {
 public:
  RequestResults(std::vector<Slot>* slots, uint32_t store_error_retry_ms)
      : slots_(slots), store_error_retry_ms_(store_error_retry_ms) {}
  void OnEventResult(uint64_t cookie, const EventReport& r) override {
    Slot& s = (*slots_)[cookie];
    switch (r.outcome) {
      case EventOutcome::kApplied: s.status = HttpVerdict::kAccepted; break;
      case EventOutcome::kParked: s.status = HttpVerdict::kAccepted; s.reason.assign("parked:").append(r.reason); break;
      case EventOutcome::kExcepted: s.status = HttpVerdict::kAccepted; s.reason.assign("exception:").append(r.reason); break;
      case EventOutcome::kDuplicateExact:
      case EventOutcome::kDuplicateBusiness: s.status = HttpVerdict::kDuplicate; s.reason.assign(r.reason); break;
      case EventOutcome::kLogged:  // cluster mode: in the replicated log; processed later
        s.status = HttpVerdict::kAccepted;
        s.reason.assign("logged");
        if (!r.reason.empty()) s.reason.append(":").append(r.reason);
        break;
      case EventOutcome::kStoreError:
        s.status = HttpVerdict::kBusy;
        s.reason = "store_error";
        s.retry_after_ms = store_error_retry_ms_;
        break;
    }
    countdown_.Done();
  }
  void Expect() { countdown_.Add(); }
  void Cancel() { countdown_.Cancel(); }
  void Wait() { countdown_.Wait(); }

 private:
  std::vector<Slot>* slots_;
  const uint32_t store_error_retry_ms_;
  ResultCountdown countdown_;
};

std::string View(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

bool Readable(RejectCode code) {
  return code != RejectCode::kOversizedMessage && code != RejectCode::kTruncatedOrCorrupt &&
         code != RejectCode::kWrongFileIdentifier;
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

}  // namespace

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

class HttpIngress::Impl {
 public:
  Impl(const HttpIngressOptions& options, const IngressOptions& ingress, const ValidatorOptions& validation,
       EventIntake* intake, QuarantineWriter* quarantine, const Clock* clock)
      : options_(options),
        ingress_(ingress),
        validation_(validation),
        intake_(intake),
        quarantine_(quarantine),
        clock_(clock),
        limiter_(ingress.rate_limit) {}

  Status Bind(std::string* url);
  void Listen() { server_.listen_after_bind(); }
  void Stop() { server_.stop(); }
  HttpIngressStats Stats() const {
    HttpIngressStats s;
    s.requests = requests_.load();
    s.events = events_.load();
    s.accepted = accepted_.load();
    s.duplicate = duplicate_.load();
    s.rejected = rejected_.load();
    s.throttled = throttled_.load();
    s.busy = busy_.load();
    s.unauthorized = unauthorized_.load();
    s.bad_json = bad_json_.load();
    s.too_large = too_large_.load();
    return s;
  }

 private:
  void HandleEvents(const httplib::Request& req, httplib::Response& res);
  bool Authorized(const httplib::Request& req) const {
    if (token_.empty()) return true;
    const std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0) return false;
    return ConstantTimeEquals(std::string_view(auth).substr(prefix.size()), token_);
  }
  static void Error(httplib::Response& res, int status, const std::string& error, const json& reasons) {
    res.status = status;
    json body = {{"error", error}};
    if (!reasons.is_null()) body["reasons"] = reasons;
    res.set_content(body.dump(), "application/json");
  }

  const HttpIngressOptions options_;
  const IngressOptions ingress_;
  const ValidatorOptions validation_;
  EventIntake* const intake_;
  QuarantineWriter* const quarantine_;
  const Clock* const clock_;
  std::string token_;
  httplib::Server server_;
  std::mutex limiter_mu_;
  RateLimiter limiter_;  // GUARDED_BY(limiter_mu_)
  std::atomic<uint64_t> requests_{0}, events_{0}, accepted_{0}, duplicate_{0}, rejected_{0}, throttled_{0},
      busy_{0}, unauthorized_{0}, bad_json_{0}, too_large_{0};
};

Status HttpIngress::Impl::Bind(std::string* url) {
  // host:port, host may be [v6].
  const std::string& listen = options_.listen;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) {
    return Status::InvalidArgument("ingress.http.listen '" + listen + "' is not host:port");
  }
  std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("ingress.http.listen '" + listen + "': bad port");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!options_.token_file.empty()) {
    std::ifstream in(options_.token_file);
    if (!in.is_open()) return Status::IOError("cannot read ingress.http.token_file " + options_.token_file);
    std::ostringstream text;
    text << in.rdbuf();
    token_ = Trim(text.str());
    if (token_.empty()) return Status::InvalidArgument("ingress.http.token_file " + options_.token_file + " is empty");
  } else if (!IsLoopbackHost(host)) {
    return Status::InvalidArgument("ingress.http.listen '" + listen +
                                   "' is not a loopback address: set ingress.http.token_file (bearer token)");
  }
  // Bodies up to twice the limit are read and answered 413 in order (a client that is still
  // sending would otherwise see the connection reset instead of the answer); beyond that
  // cpp-httplib answers 413 itself and closes the connection without reading the body.
  server_.set_payload_max_length(std::max<uint64_t>(2 * options_.max_body_bytes, options_.max_body_bytes + (1 << 20)));
  server_.set_keep_alive_timeout(options_.keep_alive_timeout_s);
  server_.set_keep_alive_max_count(100000);
  // A reply is written as headers then body: without TCP_NODELAY, Nagle holds the body
  // back until the client's delayed ACK (up to 40 ms per request on keep-alive).
  server_.set_tcp_nodelay(true);
  const size_t threads = std::max<uint32_t>(1, options_.threads);
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_.Post("/v1/events", [this](const httplib::Request& req, httplib::Response& res) { HandleEvents(req, res); });
  server_.Get("/v1/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  server_.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      too_large_.fetch_add(1, std::memory_order_relaxed);
      Error(res, 413, "body_too_large",
            json::array({"the body is larger than ingress.http.max_body_bytes = " +
                         std::to_string(options_.max_body_bytes)}));
    } else if (res.status == 404) {
      Error(res, 404, "not_found", json::array({"POST /v1/events is the only event endpoint"}));
    } else {
      Error(res, res.status, "http_" + std::to_string(res.status), json());
    }
  });
  const bool bound = port == 0 ? (port = server_.bind_to_any_port(host)) > 0 : server_.bind_to_port(host, port);
  if (!bound) return Status::IOError("ingress.http: cannot bind " + listen);
  const bool v6 = host.find(':') != std::string::npos;
  *url = "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  return Status::OK();
}

void HttpIngress::Impl::HandleEvents(const httplib::Request& req, httplib::Response& res) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (!Authorized(req)) {
    unauthorized_.fetch_add(1, std::memory_order_relaxed);
    res.set_header("WWW-Authenticate", "Bearer");
    Error(res, 401, "unauthorized", json::array({"a valid 'Authorization: Bearer <token>' header is required"}));
    return;
  }
  if (req.body.size() > options_.max_body_bytes) {
    too_large_.fetch_add(1, std::memory_order_relaxed);
    Error(res, 413, "body_too_large",
          json::array({"the body is " + std::to_string(req.body.size()) +
                       " bytes, larger than ingress.http.max_body_bytes = " + std::to_string(options_.max_body_bytes)}));
    return;
  }
  const std::string type = req.get_header_value("Content-Type");
  if (!type.empty() && type.find("json") == std::string::npos) {
    Error(res, 415, "unsupported_media_type", json::array({"send Content-Type: application/json, got " + type}));
    return;
  }
  std::vector<std::string_view> elements;
  std::string error;
  if (!SplitJsonArray(req.body, &elements, &error)) {
    bad_json_.fetch_add(1, std::memory_order_relaxed);
    Error(res, 400, "invalid_json", json::array({error}));
    return;
  }
  const int64_t received_at = clock_->NowNanos();
  std::vector<Slot> slots(elements.size());
  std::vector<std::string> buffers(elements.size());
  std::vector<QuarantineInput> rejected;
  std::deque<std::string> rejected_text;  // keeps the quarantined views alive (stable addresses)
  RequestResults results(&slots, ingress_.store_error_retry_after_ms);
  EnvelopeJsonParser& parser = ThreadLocalEnvelopeParser();
  const std::string peer = req.remote_addr + ":" + std::to_string(req.remote_port);
  auto reject = [&](size_t i, const std::string& reason, const std::string& description, const Envelope* readable) {
    Slot& s = slots[i];
    s.status = HttpVerdict::kRejected;
    s.reason = reason;
    QuarantineInput q;
    q.received_at_ns = received_at;
    q.endpoint = "http";
    rejected_text.push_back(reason);
    q.reason = rejected_text.back();
    rejected_text.push_back(description);
    q.description = rejected_text.back();
    q.peer_address = peer;
    if (readable != nullptr) {
      rejected_text.push_back(View(readable->source()));
      q.source = rejected_text.back();
      rejected_text.push_back(View(readable->order_id()));
      q.order_id = rejected_text.back();
    }
    q.event_id = s.event_id;
    q.frame_index = static_cast<uint32_t>(i);
    q.frame = elements[i];  // the JSON text as received
    rejected.push_back(q);
  };
  for (size_t i = 0; i < elements.size(); ++i) {
    Slot& slot = slots[i];
    events_.fetch_add(1, std::memory_order_relaxed);
    if (i >= options_.max_events_per_request) {
      reject(i, "batch_too_large",
             "event " + std::to_string(i) + " of " + std::to_string(elements.size()) + "; at most " +
                 std::to_string(options_.max_events_per_request) + " per request (ingress.http.max_events_per_request)",
             nullptr);
      continue;
    }
    std::string reason, description;
    if (!parser.Parse(elements[i], &buffers[i], &reason, &description)) {
      reject(i, reason, "element " + std::to_string(i) + ": " + description, nullptr);
      continue;
    }
    // FlatBuffers reads in place: hand the intake an aligned heap copy.
    EventBuffer bytes = EventBuffer::Copy(buffers[i]);
    const Envelope* envelope = nullptr;
    const Rejection rejection = ValidateEnvelope(bytes.data(), bytes.size(), validation_, &envelope);
    if (!rejection.ok()) {
      const Envelope* readable = Readable(rejection.code) ? GetEnvelope(bytes.data()) : nullptr;
      if (readable != nullptr && readable->event_id() != nullptr) slot.event_id = readable->event_id()->str();
      reject(i, rejection.ToString(), rejection.Describe(), readable);
      continue;
    }
    slot.event_id = View(envelope->event_id());
    const std::string source = View(envelope->source());
    {
      std::lock_guard<std::mutex> lock(limiter_mu_);
      const RateDecision rate = limiter_.Acquire(source, received_at);
      if (!rate.admitted) {
        slot.status = HttpVerdict::kThrottled;
        slot.retry_after_ms = rate.retry_after_ms;
        continue;
      }
    }
    InboundEvent event;
    event.bytes = std::move(bytes);
    event.received_at_ns = received_at;
    event.sink = &results;
    event.cookie = i;
    results.Expect();
    uint32_t retry_after_ms = 0;  // set by the intake when it knows how long to wait
    const Status s = intake_->Submit(std::move(event), &retry_after_ms);
    if (!s.ok()) {
      results.Cancel();
      {
        std::lock_guard<std::mutex> lock(limiter_mu_);
        limiter_.Refund(source);
      }
      slot.status = HttpVerdict::kBusy;
      slot.reason = s.IsBusy() ? "engine_busy" : "engine_unavailable";
      slot.retry_after_ms = std::max(ingress_.busy_retry_after_ms, retry_after_ms);
    }
  }
  if (!rejected.empty() && quarantine_ != nullptr) {
    Status q = quarantine_->Write(rejected);
    if (!q.ok()) spdlog::error("http ingress: cannot quarantine rejected events: {}", q.ToString());
  }
  results.Wait();  // every accepted event is durable from here on
  json out = json::array();
  bool all_retry = !slots.empty();
  uint32_t max_retry = 0;
  for (const Slot& s : slots) {
    switch (s.status) {
      case HttpVerdict::kAccepted: accepted_.fetch_add(1, std::memory_order_relaxed); break;
      case HttpVerdict::kDuplicate: duplicate_.fetch_add(1, std::memory_order_relaxed); break;
      case HttpVerdict::kRejected: rejected_.fetch_add(1, std::memory_order_relaxed); break;
      case HttpVerdict::kThrottled: throttled_.fetch_add(1, std::memory_order_relaxed); break;
      case HttpVerdict::kBusy: busy_.fetch_add(1, std::memory_order_relaxed); break;
    }
    if (s.status != HttpVerdict::kThrottled && s.status != HttpVerdict::kBusy) all_retry = false;
    max_retry = std::max(max_retry, s.retry_after_ms);
    out.push_back({{"event_id", s.event_id},
                   {"status", VerdictName(s.status)},
                   {"reason", s.reason},
                   {"retry_after_ms", s.retry_after_ms}});
  }
  res.status = all_retry ? 429 : 200;
  if (all_retry) res.set_header("Retry-After", std::to_string(std::max<uint32_t>(1, (max_retry + 999) / 1000)));
  res.set_content(json{{"results", out}}.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

HttpIngress::HttpIngress(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpIngress::~HttpIngress() { Stop(); }

Result<std::unique_ptr<HttpIngress>> HttpIngress::Start(const HttpIngressOptions& options,
                                                        const IngressOptions& ingress,
                                                        const ValidatorOptions& validation, EventIntake* intake,
                                                        QuarantineWriter* quarantine, const Clock* clock) {
  auto impl = std::make_unique<Impl>(options, ingress, validation, intake, quarantine, clock);
  std::string url;
  ORDERSYNC_RETURN_IF_ERROR(impl->Bind(&url));
  std::unique_ptr<HttpIngress> server(new HttpIngress(std::move(impl)));
  server->url_ = url;
  Impl* raw = server->impl_.get();
  server->thread_ = std::thread([raw] { raw->Listen(); });
  return server;
}

void HttpIngress::Stop() {
  if (!thread_.joinable()) return;
  impl_->Stop();
  thread_.join();
}

HttpIngressStats HttpIngress::Stats() const { return impl_->Stats(); }

}  // namespace ordersync
