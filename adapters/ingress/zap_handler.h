// ZapHandler: the ZeroMQ Authentication Protocol (RFC 27) handler behind CURVE on the
// ingress endpoints. Bound to inproc://zeromq.zap.01 in the ingress's context, so libzmq
// asks it about every CURVE handshake on those sockets; it admits the public keys of an
// allow-list (curve_keys.h LoadAuthorizedKeys) with the key's name as ZAP user id (which
// ZeroMQ then attaches to every message as "User-Id") and refuses anything else.
//
// Thread-safety: owned by the ingress thread, which polls socket() and calls
// HandleRequest() when it is readable. Counters are atomics anyone may read.
#pragma once

#include <map>
#include <string>

#include <zmq.hpp>

#include "adapters/ingress/ingress_stats.h"

namespace ordersync {

inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

class ZapHandler {
 public:
  // `keys`: 32-byte binary public key -> producer name. Binds the REP socket; throws
  // zmq::error_t if another handler is bound in `context`.
  ZapHandler(zmq::context_t& context, std::map<std::string, std::string> keys, IngressCounters* counters);

  zmq::socket_t& socket() { return socket_; }
  // Answers one pending request (non-blocking; does nothing if none is queued).
  void HandleRequest();

 private:
  zmq::socket_t socket_;
  std::map<std::string, std::string> keys_;
  IngressCounters* counters_;
};

}  // namespace ordersync
