// e2e_ack_receiver: the ZeroMQ ceiling of the e2e benchmark. A trivial ingress: binds a
// ROUTER like `ordersync serve`'s ack endpoint (same high-water mark, ZMQ_ROUTER_MANDATORY,
// one I/O thread, one socket thread), reads each batch with the same framing
// (adapters/ingress/ingress_server.h: routing id, [request-id] empty prefix, envelope
// frames) and answers at once with the same IngressAck (adapters/ingress/ack_encoder),
// every frame Accepted and its event_id echoed. No validation, no engine, no storage:
// the event_id is read from the envelope without the FlatBuffers verifier.
//
// Prints "listening on ENDPOINT" on stderr once bound; on SIGINT/SIGTERM prints a JSON
// summary {batches, frames, acks_undeliverable} on stdout and exits.
//
// Usage: e2e_ack_receiver [--endpoint tcp://127.0.0.1:*] [--hwm 1000]
#include <signal.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "adapters/ingress/ack_encoder.h"
#include "milestone_generated.h"

namespace ordersync::bench {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

constexpr size_t kMaxRequestIdBytes = 32;  // as the ingress (no envelope is this short)

int Main(int argc, char** argv) {
  CLI::App app{"Ack-only ZeroMQ receiver: the ingress framing and acks, nothing else"};
  std::string endpoint = "tcp://127.0.0.1:*";
  int hwm = 1000;
  app.add_option("--endpoint", endpoint, "ROUTER endpoint to bind")->capture_default_str();
  app.add_option("--hwm", hwm, "Send/receive high-water mark (ingress.high_water_mark)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);

  zmq::context_t context(1);
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::sndhwm, hwm);
  router.set(zmq::sockopt::rcvhwm, hwm);
  router.set(zmq::sockopt::router_mandatory, 1);
  router.set(zmq::sockopt::linger, 0);
  try {
    router.bind(endpoint);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "e2e_ack_receiver: cannot bind %s: %s\n", endpoint.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "listening on %s\n", router.get(zmq::sockopt::last_endpoint).c_str());

  AckEncoder encoder;
  std::vector<zmq::message_t> frames(16);
  std::vector<uint64_t> aligned;
  uint64_t batches = 0, events = 0, undeliverable = 0;
  zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  while (!g_stop.load()) {
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0) continue;
    while (true) {
      zmq::message_t routing_id;
      if (!router.recv(routing_id, zmq::recv_flags::dontwait)) break;
      size_t n = 0;
      for (bool more = routing_id.more(); more; ++n) {
        if (frames.size() <= n) frames.resize(2 * n);
        if (!router.recv(frames[n], zmq::recv_flags::none)) break;
        more = frames[n].more();
      }
      size_t first = 0;  // the reply prefix: [empty] or [request-id][empty]
      if (n >= 1 && frames[0].size() == 0) {
        first = 1;
      } else if (n >= 2 && frames[0].size() <= kMaxRequestIdBytes && frames[1].size() == 0) {
        first = 2;
      }
      encoder.Begin();
      for (size_t i = first; i < n; ++i) {
        const zmq::message_t& f = frames[i];
        const void* data = f.data();
        if (reinterpret_cast<uintptr_t>(data) % 8 != 0) {  // FlatBuffers reads scalars in place
          aligned.resize((f.size() + 7) / 8);
          std::memcpy(aligned.data(), f.data(), f.size());
          data = aligned.data();
        }
        std::string_view event_id;
        if (f.size() >= 8) {
          const Envelope* e = GetEnvelope(data);
          if (e->event_id() != nullptr) event_id = e->event_id()->string_view();
        }
        encoder.Add(event_id, IngressVerdict::kAccepted, "", 0);
      }
      const std::string_view ack = encoder.Finish();
      ++batches;
      events += n - first;
      try {
        if (!router.send(routing_id, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
          ++undeliverable;
          continue;
        }
        for (size_t i = 0; i < first; ++i) router.send(frames[i], zmq::send_flags::sndmore);
        router.send(zmq::message_t(ack.data(), ack.size()), zmq::send_flags::none);
      } catch (const zmq::error_t&) {
        ++undeliverable;
      }
    }
  }
  std::printf("{\"batches\":%llu,\"frames\":%llu,\"acks_undeliverable\":%llu}\n",
              static_cast<unsigned long long>(batches), static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(undeliverable));
  return 0;
}

}  // namespace
}  // namespace ordersync::bench

int main(int argc, char** argv) { return ordersync::bench::Main(argc, argv); }
