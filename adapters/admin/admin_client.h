// AdminClient: one request to an AdminServer (admin_server.h), as the CLI makes it.
//
//   Result<nlohmann::json> r = AdminCall(endpoint, "dlq.list", args, token, timeout);
//   // Unavailable: nobody answered within `timeout` (no engine running there).
//   // InvalidArgument: the server answered {"ok": false, "error": ...}.
//
// Thread-safety: reentrant; each call uses its own context and socket.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/status.h"

namespace ordersync {

// How a CLI command finds a running engine: the admin endpoint ("" = the config's
// [admin] endpoint), how long to wait for its "ping", or `offline` to skip it.
struct AdminRouteOptions {
  std::string endpoint;
  int probe_timeout_ms = 1000;
  bool offline = false;
};

// True if an AdminServer at `endpoint` answers "ping" within `timeout`.
bool AdminAnswers(const std::string& endpoint, std::chrono::milliseconds timeout);

// Sends {"command", "args", "token"} (token left out when empty) and returns the
// reply's "result".
Result<nlohmann::json> AdminCall(const std::string& endpoint, const std::string& command,
                                 const nlohmann::json& args, const std::string& token,
                                 std::chrono::milliseconds timeout);

}  // namespace ordersync
