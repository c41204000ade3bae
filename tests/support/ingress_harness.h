// IngressHarness: a real IngressServer on loopback (ephemeral ports) in front of a real
// engine on real RocksDB (EngineHarness), plus a blocking test producer. The engine's
// ManualClock also drives the ingress (receive times, rate-limit buckets), so token
// buckets do not refill unless a test moves the clock.
//
// Thread-safety: drive a harness from one test thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "adapters/ingress/ingress_options.h"
#include "adapters/ingress/ingress_server.h"
#include "engine/engine_options.h"
#include "tests/support/ack_decode.h"
#include "tests/support/engine_harness.h"

namespace ordersync::testing {

// Ephemeral loopback endpoints, small caps: what the ingress tests start from.
IngressOptions TestIngressOptions();

class IngressHarness {
 public:
  explicit IngressHarness(IngressOptions options = TestIngressOptions(),
                          EngineOptions engine_options = TestEngineOptions());
  ~IngressHarness();

  IngressServer& server() { return *server_; }
  EngineHarness& engine() { return engine_; }
  zmq::context_t& context() { return context_; }
  const IngressOptions& options() const { return options_; }
  // Stops and restarts the ingress only (e.g. with new options); same engine and store.
  void RestartIngress(IngressOptions options);

 private:
  IngressOptions options_;
  EngineHarness engine_;
  zmq::context_t context_;
  std::unique_ptr<IngressServer> server_;
};

// A DEALER producer that sends raw messages and waits for replies.
class TestProducer {
 public:
  // CURVE when server_public_z85 is non-empty (then the key pair must be given).
  TestProducer(zmq::context_t& context, const std::string& endpoint, const std::string& server_public_z85 = "",
               const std::string& public_z85 = "", const std::string& secret_z85 = "");

  // Sends `frames` as one message (no prefix) and waits for the reply; nullopt on timeout.
  std::optional<std::vector<AckResult>> SendBatch(const std::vector<std::string>& frames,
                                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends raw message parts; returns the reply parts (nullopt on timeout).
  std::optional<std::vector<std::string>> Roundtrip(const std::vector<std::string>& parts,
                                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

// Frames for convenience.
std::string Frame(const EnvelopeSpec& spec);

}  // namespace ordersync::testing
