// NatsConnection: one connection to a NATS cluster and its JetStream context (nats.c),
// owned RAII. The client knows every server URL given and those the cluster gossips; when
// the server it talks to goes away it reconnects to another one, and while reconnecting
// publishes are buffered by nats.c and JetStream requests wait up to their timeout.
//
// Errors are Statuses carrying nats.c's text (natsStatus, the JetStream error code when the
// server sent one, and nats_GetLastError's detail), e.g.
//   Unavailable("publish ordersync.ev.3: Timeout (no response from JetStream)").
// A refusal because of fencing (an expected sequence that does not match, a stale epoch)
// is InvalidArgument with a message starting "fenced: " — IsFenced() tests for it.
//
// Thread-safety: a NatsConnection may be used from any thread (nats.c connections and
// JetStream contexts are thread-safe); nats.c runs its own threads for reading, reconnect
// and asynchronous publish acknowledgements.
//
// Subscriptions and asynchronous-publish contexts end through Retire*, never by destroying
// them directly: libnats 3.4 (Debian bookworm) frees a subscription while its read loop
// may still be delivering a message to it (nats.c issue #637, fixed in 3.6), a crash seen
// here as a SEGV in natsConn_processMsg. Retiring waits for the read loop to pass.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace ordersync {

struct NatsOptions {
  // Server URLs, e.g. {"nats://127.0.0.1:4222", "nats://127.0.0.1:4223"}. At least one.
  // More than one lets the first connect succeed while a server is down.
  std::vector<std::string> urls;
  // Connection name shown by the server (monitoring, logs). Default: "ordersync".
  std::string name = "ordersync";
  // How long one connect attempt to one server may take. Default: 2000 ms.
  int64_t connect_timeout_ms = 2000;
  // Reconnect attempts per server after a connection was lost (-1: forever), and the pause
  // between rounds. Default: forever, every 250 ms: a node keeps trying while the cluster
  // recovers, and every request still fails after its own timeout.
  int max_reconnect = -1;
  int64_t reconnect_wait_ms = 250;
  // Bytes of publishes nats.c buffers while reconnecting (they are sent after the
  // reconnect; their JetStream acks still decide success). Default: 8 MiB.
  int reconnect_buffer_bytes = 8 << 20;
  // Timeout of JetStream API requests and synchronous publishes (waiting for the PubAck).
  // A publish whose ack does not come in time is an error: it may or may not have been
  // stored (re-publishing with the same Nats-Msg-Id is then safe). Default: 5000 ms.
  int64_t request_timeout_ms = 5000;
  // Asynchronous publishes awaiting their PubAck per connection; PublishAsync blocks (up
  // to `async_stall_wait_ms`, then Busy) while this many are in flight. Default: 4096.
  int64_t max_async_pending = 4096;
  int64_t async_stall_wait_ms = 2000;
};

// Status from a nats.c call: `what` says which operation; jerr is the JetStream error
// code (0 if none).
Status NatsError(std::string_view what, natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0));

// A fencing refusal (see above) and the test for it.
Status Fenced(std::string_view msg);
bool IsFenced(const Status& s);

class NatsConnection {
 public:
  static Result<std::unique_ptr<NatsConnection>> Connect(const NatsOptions& options);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* conn() const { return conn_; }
  jsCtx* js() const { return js_; }
  const NatsOptions& options() const { return options_; }
  // True while connected (not while reconnecting or after close).
  bool connected() const;
  // URL of the server currently connected to ("" if none).
  std::string connected_url() const;

  // A further JetStream context on this connection whose asynchronous publishes report
  // their acknowledgements to `handler` (called on a nats.c thread, in publish order).
  // It ends with RetireJetStreamContext (never jsCtx_Destroy).
  Result<jsCtx*> NewJetStreamContext(jsPubAckHandler handler, void* closure);

  // Unsubscribes `sub` and frees it once the read loop cannot be delivering to it: at
  // once after a flush round trip (the read loop handles the PONG after any message it had
  // already looked up), else — disconnected, flush timed out — when this connection closes.
  // When the servers do not answer a first flush (up to 1 s), `sub` is not unsubscribed
  // yet (libnats 3.4 can read freed memory unsubscribing an ordered consumer then, see
  // the .cc): it is parked and unsubscribed by a later call that finds them answering.
  void RetireSubscription(natsSubscription* sub);
  // A context from NewJetStreamContext whose publishes were all acknowledged or timed out
  // (no ack handler call can come: nats.c forgets a publish when it times out). Its reply
  // subscription may still receive a late ack, so it is destroyed when this connection
  // closes. Retired contexts are few (one per AsyncEventPublisher).
  void RetireJetStreamContext(jsCtx* js);

 private:
  explicit NatsConnection(NatsOptions options) : options_(std::move(options)) {}
  NatsOptions options_;
  natsOptions* nopts_ = nullptr;
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
  std::mutex retired_mu_;
  std::vector<natsSubscription*> retired_subscriptions_;  // guarded by retired_mu_
  // Not unsubscribed yet: the servers did not answer when they were retired.
  std::vector<natsSubscription*> parked_subscriptions_;   // guarded by retired_mu_
  std::vector<jsCtx*> retired_contexts_;                   // guarded by retired_mu_
};

}  // namespace ordersync
