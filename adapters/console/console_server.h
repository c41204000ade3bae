// ConsoleServer: the operations console — a web page served by `serve` for the people who
// run ordersync: live overview, order trace, exceptions, dead letters (replay / purge),
// quarantine. HTTP (cpp-httplib) on ConsoleOptions::listen, loopback by default.
//
//   GET  /                     the page (static files compiled in: console_assets.h)
//   GET  /api/session          {"actions_enabled", "token_header", "version", ...}
//   GET  /api/overview         ConsoleSampler::Snapshot (live figures + history)
//   GET  /api/orders/<id>      admin "trace"             (as `ordersync trace --json`)
//   GET  /api/exceptions?...   admin "exceptions.list"   (order, class, limit)
//   GET  /api/exception?id=    admin "exceptions.show"
//   POST /api/exceptions/replay     admin "exceptions.replay"  (*)
//   GET  /api/dlq?...          admin "dlq.list"          (order, target, reason,
//                                                         older_than_s, newer_than_s, limit)
//   GET  /api/dlq/show?id=     admin "dlq.show"
//   POST /api/dlq/replay       admin "dlq.replay"        (*)
//   POST /api/dlq/purge        admin "dlq.purge"         (*)
//   GET  /api/quarantine?...   admin "quarantine.list"   (reason, source, order, limit)
//   GET  /api/quarantine/show?id=   admin "quarantine.show"
//
// Every operation is the admin endpoint's registered command, run in process through
// AdminServer::Handle — one implementation each, whichever door it is asked through.
// Answers: 200 with the command's result, or an error status with {"error": "..."}.
//
// Security (ConsoleGuard): reading needs nothing; (*) needs the admin token
// ([admin] token_file) in the X-Ordersync-Token header, compared in constant time, on a
// same-origin JSON POST; with no token configured the console is read-only. Listening
// off loopback without a token is refused. Each action, allowed or refused, is logged
// at warn level with who (X-Ordersync-Operator, peer address) and what.
//
// Thread-safety: Start/Stop from one thread; requests are served on the HTTP library's
// worker threads (the admin handlers serialise themselves).
#pragma once

#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/admin/admin_server.h"
#include "adapters/console/console_guard.h"
#include "adapters/console/console_options.h"
#include "adapters/console/console_sampler.h"
#include "engine/status.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ordersync {

struct ConsoleContext {
  // The started admin server whose commands the console runs. Must outlive Stop.
  AdminServer* admin = nullptr;
  // The overview's figures from two scrapes (StatusJson in serve).
  ConsoleSampler::FiguresFn figures;
  std::string version;
};

class ConsoleServer {
 public:
  // Binds options.listen and starts serving. InvalidArgument for a bad listen address or
  // an off-loopback one without a token; IOError when it cannot be bound.
  static Result<std::unique_ptr<ConsoleServer>> Start(const ConsoleOptions& options, ConsoleContext context);
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  void Stop();  // idempotent
  // http://host:port/ as bound (the real port when 0 was asked for).
  const std::string& url() const { return url_; }
  bool actions_enabled() const { return context_.admin->has_token(); }

 private:
  ConsoleServer(const ConsoleOptions& options, ConsoleContext context, bool loopback);
  void AddRoutes();
  // Runs admin command `name` with `args` and writes the answer.
  void Run(const std::string& name, const nlohmann::json& args, httplib::Response& res) const;
  // The same for a mutating command: checks origin, token and body first, logs who/what.
  void RunAction(const std::string& name, const httplib::Request& req, httplib::Response& res) const;

  const ConsoleOptions options_;
  const ConsoleContext context_;
  const ConsoleGuard guard_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<ConsoleSampler> sampler_;
  std::thread thread_;
  std::string url_;
};

}  // namespace ordersync
