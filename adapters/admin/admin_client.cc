#include "adapters/admin/admin_client.h"

#include <zmq.hpp>

namespace ordersync {

Result<nlohmann::json> AdminCall(const std::string& endpoint, const std::string& command,
                                 const nlohmann::json& args, const std::string& token,
                                 std::chrono::milliseconds timeout) {
  nlohmann::json request = {{"command", command}, {"args", args}};
  if (!token.empty()) request["token"] = token;
  try {
    zmq::context_t ctx(1);
    zmq::socket_t socket(ctx, zmq::socket_type::req);
    socket.set(zmq::sockopt::linger, 0);
    socket.connect(endpoint);
    const std::string body = request.dump();
    socket.send(zmq::buffer(body), zmq::send_flags::none);
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) {
      return Status::Unavailable("no answer from the admin endpoint " + endpoint + " within " +
                                 std::to_string(timeout.count()) + " ms");
    }
    zmq::message_t reply;
    if (!socket.recv(reply, zmq::recv_flags::none)) return Status::Unavailable("no reply from " + endpoint);
    nlohmann::json doc = nlohmann::json::parse(reply.to_string());
    if (!doc.value("ok", false)) return Status::InvalidArgument(doc.value("error", std::string("request failed")));
    return doc.contains("result") ? doc["result"] : nlohmann::json();
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("admin endpoint " + endpoint + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("admin reply is not valid JSON: ") + e.what());
  }
}

bool AdminAnswers(const std::string& endpoint, std::chrono::milliseconds timeout) {
  return !endpoint.empty() && AdminCall(endpoint, "ping", nlohmann::json::object(), "", timeout).ok();
}

}  // namespace ordersync
