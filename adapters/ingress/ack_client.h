// AckClient: a producer on the acknowledged ingress endpoint, as the load generator and
// the tests use it and as a producer in any language would build it. One DEALER socket;
// events are queued, sent in batches (one message, one Envelope per frame, preceded by
// an 8-byte request id and an empty frame, see ingress_server.h), and each batch waits
// for its IngressAck:
//
//  - a bounded window: at most max_in_flight_batches batches unacknowledged;
//  - Lazy Pirate: a batch unacknowledged after ack_timeout_ms is sent again (same
//    request id; the ingress answers Duplicate for what it already made durable); after
//    reconnect_after_timeouts timeouts in a row the socket is replaced (a fresh
//    connection) and every unacknowledged batch is sent again;
//  - Busy and Throttled are not acknowledgements: such an event is queued again and
//    resent after its retry_after_ms;
//  - Accepted, Duplicate and Rejected are final and reported once per event.
//
// Thread-safety: one thread per client (it owns a ZeroMQ socket). The context must
// outlive the client. (Includes no generated ingress header, so engine code may use it.)
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "adapters/ingress/ack_encoder.h"
#include "adapters/ingress/retry_after_stats.h"

namespace ordersync {

struct AckClientOptions {
  std::string endpoint;
  // Most events per batch. Default: 64.
  size_t batch_events = 64;
  // Most batches sent and not yet acknowledged. Default: 8.
  size_t max_in_flight_batches = 8;
  // Resend a batch not acknowledged within this time. Default: 2000 ms.
  int ack_timeout_ms = 2000;
  // Replace the socket after this many resends in a row without any ack. Default: 2.
  int reconnect_after_timeouts = 2;
  int high_water_mark = 1000;
  // CURVE: the server's public key (Z85); "" = plain TCP. With it, this client's key
  // pair (Z85) must be given too.
  std::string curve_server_public_z85;
  std::string curve_public_z85;
  std::string curve_secret_z85;
};

// The final verdict of one event.
struct FinalResult {
  uint64_t cookie = 0;
  IngressVerdict status = IngressVerdict::kAccepted;  // kAccepted, kDuplicate or kRejected
  std::string_view event_id;                   // valid during the callback
  std::string_view reason;                     // valid during the callback
};

struct AckClientStats {
  uint64_t batches_sent = 0;       // first sends
  uint64_t batches_resent = 0;     // Lazy Pirate resends after a timeout
  uint64_t reconnects = 0;
  uint64_t acks_received = 0;      // acks matched to a batch in flight
  uint64_t stale_acks = 0;         // acks for a batch no longer in flight (an earlier send's)
  uint64_t bad_acks = 0;           // unreadable or wrong result count (batch resent)
  uint64_t send_timeouts = 0;      // sends refused for kSendTimeoutMs (no usable connection,
                                   // e.g. a refused CURVE handshake); resent after ack_timeout_ms
  uint64_t busy_retries = 0;       // events answered Busy, queued again
  RetryAfterStats busy_retry_after;  // the retry_after_ms hints of those Busy answers
  uint64_t throttled_retries = 0;  // events answered Throttled, queued again
  std::vector<uint32_t> ack_latency_us;  // per acknowledged batch: last send -> ack
};

class AckClient {
 public:
  using Clock = std::chrono::steady_clock;
  using OnFinal = std::function<void(const FinalResult&)>;

  AckClient(zmq::context_t& context, AckClientOptions options);

  // Queues one Envelope frame; `cookie` comes back with its final result.
  void Enqueue(std::string frame, uint64_t cookie);
  // Sends what the window allows, waits up to `timeout_ms` for acks (0 = just look),
  // resends what timed out, and reports final results. Returns how many it reported.
  size_t Poll(int timeout_ms, const OnFinal& on_final);
  // Closes the socket and connects a new one to `endpoint` (e.g. a restarted server);
  // every unacknowledged batch is sent again at once.
  void Reconnect(const std::string& endpoint);

  // Events not yet finally answered (queued, waiting to retry, or in flight).
  size_t outstanding() const { return queued_.size() + retry_count_ + in_flight_events_; }
  size_t queued() const { return queued_.size(); }
  bool idle() const { return outstanding() == 0; }
  const AckClientStats& stats() const { return stats_; }
  AckClientStats& mutable_stats() { return stats_; }

 private:
  struct Event {
    std::string frame;
    uint64_t cookie = 0;
  };
  struct InFlight {
    std::vector<Event> events;
    Clock::time_point sent_at;
  };

  void Connect();
  void SendNewBatches();
  // Sends one batch; false (counted in send_timeouts) when the socket would not take it
  // within kSendTimeoutMs. The batch stays in flight either way and is resent on timeout.
  bool Send(uint64_t request_id, const InFlight& batch);
  size_t HandleReply(const OnFinal& on_final);
  void ResendExpired();

  zmq::context_t& context_;
  AckClientOptions options_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::deque<Event> queued_;
  std::multimap<Clock::time_point, Event> retry_;  // Busy/Throttled, by when to resend
  size_t retry_count_ = 0;
  std::map<uint64_t, InFlight> in_flight_;          // by request id
  size_t in_flight_events_ = 0;
  uint64_t next_request_id_ = 1;
  int timeouts_in_a_row_ = 0;
  AckClientStats stats_;
};

}  // namespace ordersync
