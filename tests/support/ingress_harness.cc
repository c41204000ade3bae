#include "tests/support/ingress_harness.h"

#include <stdexcept>


namespace ordersync::testing {

IngressOptions TestIngressOptions() {
  IngressOptions o;
  o.ack_endpoint = "tcp://127.0.0.1:*";
  o.pull_endpoint = "tcp://127.0.0.1:*";
  o.quarantine.max_entries = 1000;
  return o;
}

IngressHarness::IngressHarness(IngressOptions options, EngineOptions engine_options)
    : options_(std::move(options)), engine_(std::move(engine_options)), context_(1) {
  RestartIngress(options_);
}

IngressHarness::~IngressHarness() {
  if (server_) server_->Stop();  // before the engine stops
}

void IngressHarness::RestartIngress(IngressOptions options) {
  if (server_) server_->Stop();
  server_.reset();
  options_ = std::move(options);
  auto server = IngressServer::Start(options_, engine_.options().validation, &engine_.engine(), &engine_.store(),
                                     &engine_.clock());
  if (!server.ok()) throw std::runtime_error(server.status().ToString());
  server_ = std::move(server).value();
}

TestProducer::TestProducer(zmq::context_t& context, const std::string& endpoint, const std::string& server_public_z85,
                           const std::string& public_z85, const std::string& secret_z85)
    : socket_(context, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  if (!server_public_z85.empty()) {
    socket_.set(zmq::sockopt::curve_serverkey, server_public_z85);
    socket_.set(zmq::sockopt::curve_publickey, public_z85);
    socket_.set(zmq::sockopt::curve_secretkey, secret_z85);
  }
  socket_.connect(endpoint);
}

std::optional<std::vector<std::string>> TestProducer::Roundtrip(const std::vector<std::string>& parts,
                                                                std::chrono::milliseconds timeout) {
  for (size_t i = 0; i < parts.size(); ++i) {
    socket_.send(zmq::buffer(parts[i]), i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<std::string> reply;
  zmq::message_t m;
  do {
    if (!socket_.recv(m, zmq::recv_flags::none)) break;
    reply.push_back(m.to_string());
  } while (m.more());
  return reply;
}

std::optional<std::vector<AckResult>> TestProducer::SendBatch(const std::vector<std::string>& frames,
                                                              std::chrono::milliseconds timeout) {
  auto reply = Roundtrip(frames, timeout);
  if (!reply || reply->size() != 1) return std::nullopt;
  return DecodeAck((*reply)[0]);
}

std::string Frame(const EnvelopeSpec& spec) { return MilestoneBuilder::BuildToString(spec); }

}  // namespace ordersync::testing
