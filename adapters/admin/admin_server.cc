#include "adapters/admin/admin_server.h"

#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

namespace ordersync {
namespace {

// Compares without an early exit, so the time taken does not reveal the matching prefix.
bool SameToken(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

bool IsLoopbackEndpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;
  const std::string host = endpoint.substr(6);
  return host.rfind("127.", 0) == 0 || host.rfind("localhost:", 0) == 0 || host.rfind("[::1]:", 0) == 0;
}

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in.is_open()) return Status::IOError("cannot read admin token file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Status::InvalidArgument("admin token file '" + path + "' is empty");
  token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
  return token;
}

Result<std::unique_ptr<AdminServer>> AdminServer::Create(const AdminOptions& options) {
  if (options.endpoint.empty()) return Status::InvalidArgument("admin.endpoint is empty (the endpoint is disabled)");
  if (!IsLoopbackEndpoint(options.endpoint) && options.token_file.empty()) {
    return Status::InvalidArgument("admin.token_file: required when admin.endpoint '" + options.endpoint +
                                   "' is not on loopback");
  }
  std::unique_ptr<AdminServer> server(new AdminServer(options));
  server->Register("ping", {"is an engine answering here? (version, commands)", false,
                            [s = server.get()](const nlohmann::json&) -> Result<nlohmann::json> {
                              nlohmann::json names = nlohmann::json::array();
                              for (const auto& [name, c] : s->commands_) names.push_back(name);
                              return nlohmann::json{{"pong", true}, {"commands", names}};
                            }});
  server->Register("help", {"every command with its description", false,
                            [s = server.get()](const nlohmann::json&) -> Result<nlohmann::json> {
                              nlohmann::json out = nlohmann::json::object();
                              for (const auto& [name, c] : s->commands_) {
                                out[name] = {{"help", c.help}, {"mutating", c.mutating}};
                              }
                              return out;
                            }});
  return server;
}

AdminServer::~AdminServer() { Stop(); }

void AdminServer::Register(const std::string& name, AdminCommand command) { commands_[name] = std::move(command); }

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const AdminCommand* AdminServer::Find(const std::string& name) const {
  auto it = commands_.find(name);
  return it == commands_.end() ? nullptr : &it->second;
}

bool AdminServer::TokenMatches(const std::string& given) const { return !token_.empty() && SameToken(given, token_); }

nlohmann::json AdminServer::Handle(const nlohmann::json& request) {
  std::lock_guard<std::mutex> lock(handle_mu_);
  if (!request.is_object() || !request.contains("command") || !request["command"].is_string()) {
    return {{"ok", false}, {"error", "request must be a JSON object with a \"command\" string"}};
  }
  const std::string name = request["command"].get<std::string>();
  auto it = commands_.find(name);
  if (it == commands_.end()) {
    return {{"ok", false}, {"error", "unknown command '" + name + "'; \"help\" lists them"}};
  }
  if (it->second.mutating && !token_.empty()) {
    const std::string given = request.contains("token") && request["token"].is_string()
                                  ? request["token"].get<std::string>()
                                  : std::string();
    if (!SameToken(given, token_)) {
      spdlog::warn("admin: '{}' refused: missing or wrong token", name);
      return {{"ok", false}, {"error", "'" + name + "' needs the admin token (admin.token_file)"}};
    }
  }
  const nlohmann::json args = request.contains("args") && request["args"].is_object() ? request["args"]
                                                                                       : nlohmann::json::object();
  try {
    Result<nlohmann::json> result = it->second.handler(args);
    if (!result.ok()) return {{"ok", false}, {"error", result.status().message()}};
    return {{"ok", true}, {"result", std::move(result).value()}};
  } catch (const std::exception& e) {
    return {{"ok", false}, {"error", "'" + name + "' failed: " + e.what()}};
  }
}

Status AdminServer::Start() {
  if (!options_.token_file.empty()) {
    Result<std::string> token = ReadTokenFile(options_.token_file);
    if (!token.ok()) return Status::InvalidArgument("admin.token_file: " + token.status().message());
    token_ = std::move(token).value();
  }
  try {
    socket_ = zmq::socket_t(ctx_, zmq::socket_type::rep);
    socket_.set(zmq::sockopt::linger, 0);
    socket_.bind(options_.endpoint);
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    socket_.close();
    return Status::InvalidArgument("admin.endpoint '" + options_.endpoint + "': cannot bind: " + e.what());
  }
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void AdminServer::Stop() {
  if (thread_.joinable()) {
    stop_.store(true);
    thread_.join();
  }
  socket_.close();
}

void AdminServer::Run() {
  zmq::socket_t* socket = &socket_;
  zmq::pollitem_t item{socket->handle(), 0, ZMQ_POLLIN, 0};
  while (!stop_.load()) {
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      zmq::message_t msg;
      if (!socket->recv(msg, zmq::recv_flags::dontwait)) continue;
      nlohmann::json reply;
      try {
        reply = Handle(nlohmann::json::parse(msg.to_string()));
      } catch (const nlohmann::json::exception& e) {
        reply = {{"ok", false}, {"error", std::string("request is not valid JSON: ") + e.what()}};
      }
      socket->send(zmq::buffer(DumpJson(reply)), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("admin: {}", e.what());
    }
  }
}

}  // namespace ordersync
