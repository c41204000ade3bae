#include "adapters/ingress/zap_handler.h"

#include <vector>

#include <spdlog/spdlog.h>

namespace ordersync {
namespace {

std::string Z85(const std::string& key) {
  if (key.size() != 32) return "?";
  char text[41];
  zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(key.data()), key.size());
  return text;
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& context, std::map<std::string, std::string> keys, IngressCounters* counters)
    : socket_(context, zmq::socket_type::rep), keys_(std::move(keys)), counters_(counters) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);
}

void ZapHandler::HandleRequest() {
  // Request: version, request_id, domain, address, identity, mechanism, credentials...
  std::vector<zmq::message_t> request;
  zmq::message_t part;
  if (!socket_.recv(part, zmq::recv_flags::dontwait)) return;
  bool more = part.more();
  request.push_back(std::move(part));
  while (more) {  // a multipart message arrives whole: the rest is already there
    zmq::message_t next;
    if (!socket_.recv(next, zmq::recv_flags::none)) break;
    more = next.more();
    request.push_back(std::move(next));
  }
  std::string status = "400", text = "unsupported request", user_id;
  if (request.size() >= 6 && request[0].to_string_view() == "1.0") {
    const std::string_view mechanism = request[5].to_string_view();
    if (mechanism == "CURVE" && request.size() >= 7 && request[6].size() == 32) {
      const std::string key = request[6].to_string();
      if (auto it = keys_.find(key); it != keys_.end()) {
        status = "200";
        text = "OK";
        user_id = it->second;
        counters_->curve_accepted.fetch_add(1, std::memory_order_relaxed);
      } else {
        text = "unknown CURVE key";
        const uint64_t n = counters_->curve_refused.fetch_add(1, std::memory_order_relaxed);
        if (n < 10 || n % 1000 == 0) {
          spdlog::warn("ingress: refused unknown CURVE key {} from {} ({} refused so far)", Z85(key),
                       request[3].to_string_view(), n + 1);
        }
      }
    } else {
      text = "only CURVE is accepted";
      counters_->curve_refused.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const std::string request_id = request.size() >= 2 ? request[1].to_string() : std::string();
  socket_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(status), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
  socket_.send(zmq::message_t(), zmq::send_flags::none);  // metadata
}

}  // namespace ordersync
