#include "adapters/erp/zmq_target_channel.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace ordersync {
namespace {

constexpr size_t kMaxAnswersPerReceive = 16384;

std::string_view View(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

}  // namespace

ZmqTargetChannel::ZmqTargetChannel(zmq::context_t& context, const ErpTargetOptions& options)
    : name_(options.name), endpoint_(options.endpoint), max_in_flight_(options.max_in_flight),
      socket_(context, zmq::socket_type::dealer) {}

Status ZmqTargetChannel::Open() {
  try {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::immediate, 1);  // no connection: send fails instead of queueing
    socket_.set(zmq::sockopt::sndhwm, static_cast<int>(std::max<uint32_t>(1000, 2 * max_in_flight_)));
    socket_.set(zmq::sockopt::rcvhwm, 0);
    socket_.set(zmq::sockopt::reconnect_ivl, 100);
    socket_.set(zmq::sockopt::reconnect_ivl_max, 2000);
    socket_.connect(endpoint_);
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument("erp.targets." + name_ + ".endpoint '" + endpoint_ + "': " + e.what());
  }
  return Status::OK();
}

bool ZmqTargetChannel::Send(std::string_view, std::string_view erp_command, bool, uint64_t) {
  // The adapter behind the ROUTER answers a repeat AlreadyPosted: no hint needed.
  try {
    return socket_.send(zmq::buffer(erp_command.data(), erp_command.size()), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t& err) {
    spdlog::warn("erp target {}: send failed: {}", name_, err.what());
    return false;
  }
}

size_t ZmqTargetChannel::Receive(const std::function<void(const ErpAnswer&)>& on_answer, uint64_t* unreadable) {
  zmq::message_t msg;
  size_t n = 0;
  for (; n < kMaxAnswersPerReceive; ++n) {
    zmq::recv_result_t got;
    try {
      got = socket_.recv(msg, zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& err) {
      spdlog::warn("erp target {}: receive failed: {}", name_, err.what());
      break;
    }
    if (!got) break;
    aligned_.assign(static_cast<const char*>(msg.data()), msg.size());
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned_.data()), aligned_.size());
    if (!VerifyErpAckBuffer(verifier)) {
      spdlog::warn("erp target {}: unreadable answer ({} bytes) ignored", name_, msg.size());
      ++*unreadable;
      continue;
    }
    const ErpAck* ack = GetErpAck(aligned_.data());
    on_answer(ErpAnswer{View(ack->command_id()), ack->status(), View(ack->message()), View(ack->erp_document_id())});
  }
  return n;
}

}  // namespace ordersync
