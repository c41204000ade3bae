// AdminOptions: the admin endpoint (adapters/admin/admin_server.h), through which the CLI
// operates a running engine (dlq, exceptions, ...). The TOML [admin] table maps onto it.
// Not reloadable.
//
// Thread-safety: plain values.
#pragma once

#include <string>

namespace ordersync {

struct AdminOptions {
  // ZeroMQ endpoint of the admin REP socket; "" disables it. Keep it on loopback (or
  // ipc://): anyone who can reach it can read the dead-letter queue. Default:
  // "tcp://127.0.0.1:7199".
  std::string endpoint = "tcp://127.0.0.1:7199";
  // File holding the token that mutating commands (replay, purge) must present. Required
  // when `endpoint` is not on loopback or ipc://; when set, it is checked on loopback too.
  // Default: "" (none).
  std::string token_file;
};

}  // namespace ordersync
