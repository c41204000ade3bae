// HttpIngress: the HTTP/JSON front door (docs/openapi.yaml), for commerce platforms, B2B
// portals and CRMs that call webhooks rather than link the ZeroMQ SDK. cpp-httplib serves
// [ingress.http] listen with a pool of `threads` threads:
//
//   POST /v1/events   body: JSON array of Envelope objects (envelope_json.h)
//     200 {"results":[{"event_id","status","reason","retry_after_ms"}, ...]}  one per
//         element, in order, sent once every accepted event is durable; statuses and
//         reasons exactly as the ZeroMQ ack endpoint's (docs/contract.md), plus
//         json_unknown_field / json_wrong_type / json_invalid for an element the schema
//         cannot read (quarantined like a bad frame)
//     429 the same body, with Retry-After, when every event was Throttled or Busy
//     400 {"error":"invalid_json","reasons":[...]} when the body is not a JSON array
//     401 missing or wrong bearer token;  413 body over max_body_bytes;
//     415 a Content-Type other than JSON
//   GET /v1/health    200 {"status":"ok"}
//
// Per element, on the request's thread: parse (flatbuffers::Parser on the compiled-in
// schema) -> ValidateEnvelope (the same checks and reason codes as a ZeroMQ frame) ->
// rate limit ([ingress.rate_limit], a limiter of its own) -> EventIntake::Submit (the
// Engine, or in cluster mode the ClusterFrontDoor, whose kLogged is answered "Accepted"
// with reason "logged"). Rejected elements are quarantined (endpoint "http") before the
// reply.
//
// Thread-safety: Start/Stop from one controlling thread; Stats from any. Stop before the
// intake stops: requests in progress still wait for their results.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "adapters/http/http_options.h"
#include "adapters/ingress/ingress_options.h"
#include "adapters/ingress/quarantine_store.h"
#include "engine/clock.h"
#include "engine/event_intake.h"
#include "engine/envelope_validator.h"
#include "engine/status.h"

namespace ordersync {

struct HttpIngressStats {
  uint64_t requests = 0, events = 0, accepted = 0, duplicate = 0, rejected = 0, throttled = 0, busy = 0;
  uint64_t unauthorized = 0, bad_json = 0, too_large = 0;
};

class HttpIngress {
 public:
  // Binds `options.listen` and starts serving. Fails (nothing started) when the address
  // cannot be bound, the token file cannot be read, or the address is not loopback and
  // no token file is set. Everything passed must outlive the server.
  static Result<std::unique_ptr<HttpIngress>> Start(const HttpIngressOptions& options, const IngressOptions& ingress,
                                                    const ValidatorOptions& validation, EventIntake* intake,
                                                    QuarantineWriter* quarantine,
                                                    const Clock* clock = SystemClock::Default());
  ~HttpIngress();
  HttpIngress(const HttpIngress&) = delete;
  HttpIngress& operator=(const HttpIngress&) = delete;

  // "http://host:port" actually bound.
  const std::string& url() const { return url_; }
  // Stops accepting, lets requests in progress finish, joins. Idempotent.
  void Stop();
  HttpIngressStats Stats() const;

  class Impl;

 private:
  explicit HttpIngress(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string url_;
  std::thread thread_;
};

// True for 127.0.0.0/8, localhost and ::1 (with or without brackets).
bool IsLoopbackHost(const std::string& host);
// Equal strings, in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace ordersync
