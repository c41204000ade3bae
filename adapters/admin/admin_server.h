// AdminServer: the operator's door into a running ordersync process. A ZeroMQ REP socket
// (AdminOptions::endpoint, loopback by default) takes one JSON request per message and
// answers one JSON reply:
//
//   request  {"command": "dlq.list", "args": {...}, "token": "..."}     (token optional)
//   reply    {"ok": true, "result": ...}   or   {"ok": false, "error": "what was wrong"}
//
// Commands come from a registry, so each component adds its own (the ERP fan-out adds
// dlq.* and exceptions.*; metrics may add status, trace) before Start(). Built in:
// "ping" (is an engine there?) and "help" (every command with its description).
// Mutating commands (replay, purge) need the token from AdminOptions::token_file when
// one is configured; a non-loopback endpoint without a token file is refused at Start.
//
//   auto admin = AdminServer::Create(options);
//   (*admin)->Register("dlq.list", {"list dead letters", false, [&](const json& args) {...}});
//   (*admin)->Start();   ...   (*admin)->Stop();
//
// Other front ends in the process (the web console, adapters/console) run the same
// commands through Handle(), so each operation has one implementation.
//
// Thread-safety: Register before Start, from one thread. Handle() may be called from any
// thread once started; handlers run one at a time (the socket thread's requests and
// in-process callers share one lock), so a handler may block (e.g. waiting for a replay
// to be durable) but delays the requests behind it.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "adapters/admin/admin_options.h"
#include "engine/status.h"

namespace ordersync {

struct AdminCommand {
  std::string help;       // one line, shown by "help"
  bool mutating = false;  // needs the token when one is configured
  std::function<Result<nlohmann::json>(const nlohmann::json& args)> handler;
};

// True for ipc://, inproc:// and tcp:// on 127.0.0.0/8, localhost or [::1].
bool IsLoopbackEndpoint(const std::string& endpoint);

// Reads a token file: its content with surrounding whitespace removed; an empty token
// is an error.
Result<std::string> ReadTokenFile(const std::string& path);

class AdminServer {
 public:
  static Result<std::unique_ptr<AdminServer>> Create(const AdminOptions& options);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // REQUIRES: before Start. A second registration of `name` replaces the first.
  void Register(const std::string& name, AdminCommand command);

  // Reads the token file, binds the endpoint and starts serving.
  Status Start();
  // Stops serving (a request in progress finishes first). Idempotent.
  void Stop();

  // The bound endpoint (resolved when the configured one used a wildcard port).
  const std::string& endpoint() const { return endpoint_; }

  // Handles one request document (what the socket thread does with each message).
  nlohmann::json Handle(const nlohmann::json& request);

  // The registered command `name`'s metadata, or null. REQUIRES: after Start.
  const AdminCommand* Find(const std::string& name) const;
  // True when a token file is configured (read at Start): mutating commands then need it.
  bool has_token() const { return !token_.empty(); }
  // Constant-time comparison with the configured token; false when none is configured.
  bool TokenMatches(const std::string& given) const;

 private:
  explicit AdminServer(const AdminOptions& options) : options_(options) {}
  void Run();

  const AdminOptions options_;
  std::map<std::string, AdminCommand> commands_;
  std::string token_;
  std::string endpoint_;
  zmq::context_t ctx_{1};
  zmq::socket_t socket_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex handle_mu_;  // one handler at a time, whoever calls Handle
};

// JSON text for a reply; invalid UTF-8 in strings (e.g. from a rejected frame) is
// replaced instead of throwing.
std::string DumpJson(const nlohmann::json& value);

}  // namespace ordersync
