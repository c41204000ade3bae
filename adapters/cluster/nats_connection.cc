#include "adapters/cluster/nats_connection.h"

#include <algorithm>
#include <string>

// libnats exports this without declaring it in its public headers (src/err.h): while
// set on the calling thread, the library records no error text, i.e. formats nothing.
extern "C" void nats_doNotUpdateErrStack(bool skip_stack_update);

namespace ordersync {

namespace {
constexpr std::string_view kFencedPrefix = "fenced: ";

// natsSubscription_Unsubscribe with the library's error formatting off on this thread:
// unsubscribing an ordered JetStream consumer deletes it, and when that delete fails
// while the library's own reset of the consumer (after missed heartbeats) runs on
// another thread, libnats 3.4 formats the error from the consumer name the reset just
// freed (a use-after-free ASan caught in the fault suite and ClusterMetricsTest). The
// error itself is of no use here: the consumer is ephemeral and the server drops it.
void UnsubscribeQuietly(natsSubscription* sub) {
  nats_doNotUpdateErrStack(true);
  natsSubscription_Unsubscribe(sub);
  nats_doNotUpdateErrStack(false);
}
}  // namespace

Status NatsError(std::string_view what, natsStatus s, jsErrCode jerr) {
  std::string msg(what);
  msg += ": ";
  msg += natsStatus_GetText(s);
  if (jerr != 0) msg += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == s) {
    msg += ": ";
    msg += detail;
  }
  switch (s) {
    case NATS_TIMEOUT:
    case NATS_NO_RESPONDERS:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
      return Status::Unavailable(msg);
    case NATS_NOT_FOUND:
      return Status::NotFound(msg);
    case NATS_INVALID_ARG:
      return Status::InvalidArgument(msg);
    default:
      return Status::IOError(msg);
  }
}

Status Fenced(std::string_view msg) { return Status::InvalidArgument(std::string(kFencedPrefix) + std::string(msg)); }

bool IsFenced(const Status& s) {
  return s.code() == Status::Code::kInvalidArgument && s.message().starts_with(kFencedPrefix);
}

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const NatsOptions& options) {
  if (options.urls.empty()) return Status::InvalidArgument("nats: no server URL given");
  std::unique_ptr<NatsConnection> c(new NatsConnection(options));
  std::vector<const char*> urls;
  for (const auto& u : options.urls) urls.push_back(u.c_str());
  natsStatus s = natsOptions_Create(&c->nopts_);
  if (s == NATS_OK) s = natsOptions_SetServers(c->nopts_, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetName(c->nopts_, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(c->nopts_, options.connect_timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(c->nopts_, options.max_reconnect);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(c->nopts_, options.reconnect_wait_ms);
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(c->nopts_, options.reconnect_buffer_bytes);
  // Try the servers in the order given: the first connect goes where the caller pointed.
  if (s == NATS_OK) s = natsOptions_SetNoRandomize(c->nopts_, true);
  if (s != NATS_OK) return NatsError("nats options", s);
  s = natsConnection_Connect(&c->conn_, c->nopts_);
  if (s != NATS_OK) return NatsError("nats connect to " + options.urls.front(), s);
  auto js = c->NewJetStreamContext(nullptr, nullptr);
  if (!js.ok()) return js.status();
  c->js_ = *js;
  return c;
}

Result<jsCtx*> NatsConnection::NewJetStreamContext(jsPubAckHandler handler, void* closure) {
  jsCtx* js = nullptr;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options_.request_timeout_ms;
  jo.PublishAsync.MaxPending = options_.max_async_pending;
  jo.PublishAsync.StallWait = options_.async_stall_wait_ms;
  jo.PublishAsync.AckHandler = handler;
  jo.PublishAsync.AckHandlerClosure = closure;
  natsStatus s = natsConnection_JetStream(&js, conn_, &jo);
  if (s != NATS_OK) return NatsError("jetstream context", s);
  return js;
}

void NatsConnection::RetireSubscription(natsSubscription* sub) {
  if (sub == nullptr) return;
  // Unsubscribed only while the servers answer (a flush first), so that the consumer
  // delete it makes rarely fails (see UnsubscribeQuietly); otherwise it is parked as it
  // is, unsubscribed by a later retire that finds the servers answering, or freed at close.
  const int64_t probe_ms = std::min<int64_t>(options_.request_timeout_ms, 1000);
  if (natsConnection_FlushTimeout(conn_, probe_ms) != NATS_OK) {
    std::lock_guard<std::mutex> lock(retired_mu_);
    parked_subscriptions_.push_back(sub);
    return;
  }
  std::vector<natsSubscription*> retiring;
  {
    std::lock_guard<std::mutex> lock(retired_mu_);
    retiring.swap(parked_subscriptions_);
  }
  retiring.push_back(sub);
  for (natsSubscription* s : retiring) UnsubscribeQuietly(s);
  const bool flushed = natsConnection_FlushTimeout(conn_, options_.request_timeout_ms) == NATS_OK;
  std::lock_guard<std::mutex> lock(retired_mu_);
  for (natsSubscription* s : retiring) {
    if (flushed) {
      natsSubscription_Destroy(s);
    } else {
      retired_subscriptions_.push_back(s);
    }
  }
}

void NatsConnection::RetireJetStreamContext(jsCtx* js) {
  if (js == nullptr) return;
  std::lock_guard<std::mutex> lock(retired_mu_);
  retired_contexts_.push_back(js);
}

NatsConnection::~NatsConnection() {
  // Close first: it joins the read loop, so nothing can be delivered to what is freed next.
  if (conn_ != nullptr) natsConnection_Close(conn_);
  for (jsCtx* js : retired_contexts_) jsCtx_Destroy(js);
  for (natsSubscription* sub : retired_subscriptions_) natsSubscription_Destroy(sub);
  for (natsSubscription* sub : parked_subscriptions_) natsSubscription_Destroy(sub);
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (conn_ != nullptr) natsConnection_Destroy(conn_);
  if (nopts_ != nullptr) natsOptions_Destroy(nopts_);
}

bool NatsConnection::connected() const { return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED; }

std::string NatsConnection::connected_url() const {
  char buf[256];
  if (conn_ == nullptr || natsConnection_GetConnectedUrl(conn_, buf, sizeof(buf)) != NATS_OK) return "";
  return buf;
}

}  // namespace ordersync
