// IngressServer: the ZeroMQ front door. Owns one thread (the ingress thread) and the
// sockets it polls:
//
//   ack endpoint  (ROUTER)  a producer (DEALER) sends a batch: one message whose frames
//                           are Envelopes; it gets one reply holding one IngressAck
//                           (schemas/ingress.fbs) with one EventResult per frame, in
//                           frame order, once every accepted frame is durable.
//   pull endpoint (PULL)    the same frames, no reply; Busy/Throttled events are retried
//                           and the socket is not read meanwhile, so ZeroMQ's HWM pushes
//                           back on the producer.
//   ZAP (REP, inproc://zeromq.zap.01)   when CURVE is on: admits the producer keys of
//                           curve_authorized_keys_dir, refuses (and counts) the rest.
//
// Message framing on the ack endpoint (after the ROUTER's routing id):
//
//   batch    := [prefix] envelope-frame*
//   prefix   := empty-frame                   (what a REQ socket sends)
//             | request-id empty-frame        (request-id: 1..32 bytes, chosen by the
//                                              producer to match replies to batches)
//   reply    := [prefix] ingress-ack-frame    (the prefix exactly as received)
//
// No valid Envelope is 32 bytes or shorter, so a prefix cannot be mistaken for an event.
//
// Per frame, on the ingress thread: copy only if misaligned; validate
// (engine/envelope_validator.h) → Rejected + quarantine; rate limit (per source and
// global) → Throttled with retry_after_ms; EventIntake::Submit (engine/event_intake.h:
// the Engine, or in cluster mode the ClusterFrontDoor) → Busy with retry_after_ms when
// the partition (or ERP target, or the log's publish window) is full; else the intake
// reports the outcome on a thread of its own (ResultSink). Frames are handed over without
// a copy: the batch owns them until its last result arrives, which is after the intake's
// last read. In cluster mode an event reported kLogged is answered Accepted with reason
// "logged" (docs/cluster.md, "Front door").
// Results come back without locks: the worker that completes a batch pushes it onto a
// lock-free queue (moodycamel) and signals an eventfd that the ingress thread polls
// next to its sockets; only the ingress thread touches sockets.
//
// Bounded everywhere: frames per batch (max_frames_per_batch), batches waiting for
// results (max_pending_batches; then Standard events get Busy at once, SameDay ones still
// reach the engine's priority reserve), ZeroMQ queues (high_water_mark), frame size
// (ZMQ_MAXMSGSIZE = 4 x max_message_bytes, at least 1 MiB: a larger frame drops the
// connection; frames up to it are rejected one by one as oversized_message), the
// quarantine (entries and bytes) and the rate limiter's source table.
//
// Thread-safety: Start, Stop and the destructor from one controlling thread;
// UpdateRateLimits and Stats from any thread. Stop before the intake stops: it answers
// the batches already submitted, which needs the intake's results.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "adapters/ingress/ingress_options.h"
#include "adapters/ingress/ingress_stats.h"
#include "engine/clock.h"
#include "engine/event_intake.h"
#include "engine/envelope_validator.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

class QuarantineWriter;

class IngressServer {
 public:
  // Binds the configured endpoints (and the ZAP handler when CURVE is on) and starts the
  // ingress thread. Fails without starting anything if an endpoint cannot be bound or a
  // key cannot be read. `intake`, `store` and `clock` must outlive the server; rejected
  // frames are quarantined in `store` with the intake's durability(), through
  // `shared_quarantine` when given (the process's one writer, shared with the EDI and
  // HTTP ingresses; it must outlive the server), else through a writer of its own.
  static Result<std::unique_ptr<IngressServer>> Start(const IngressOptions& options,
                                                      const ValidatorOptions& validation,
                                                      EventIntake* intake, StateStore* store,
                                                      const Clock* clock = SystemClock::Default(),
                                                      QuarantineWriter* shared_quarantine = nullptr);
  ~IngressServer();
  IngressServer(const IngressServer&) = delete;
  IngressServer& operator=(const IngressServer&) = delete;

  // The bound endpoints with the actual port (ZMQ_LAST_ENDPOINT), "" when disabled.
  const std::string& ack_endpoint() const { return ack_endpoint_; }
  const std::string& pull_endpoint() const { return pull_endpoint_; }

  // Applies new rate limits on the ingress thread, soon after the call (connections and
  // saved tokens are kept). Any thread.
  void UpdateRateLimits(const RateLimitOptions& limits);

  // Stops reading the ack socket, reads what the pull socket already holds (until it
  // is empty, at most 10 s), waits for the results of every submitted batch and sends
  // the replies, then closes the sockets and joins the thread. Idempotent.
  void Stop();

  IngressStats Stats() const;

  class Impl;  // the ingress thread's state (ingress_server.cc)

 private:
  explicit IngressServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
  std::string ack_endpoint_;
  std::string pull_endpoint_;
  std::thread thread_;
};

}  // namespace ordersync
