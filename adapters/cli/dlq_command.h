// `ordersync dlq list|show|replay|purge`: operate the ERP dead-letter queue.
//
// Path: the command first asks the admin endpoint ([admin] endpoint, or
// --admin-endpoint) whether an engine answers. If one does, the operation runs inside it
// ("via admin endpoint ..."). If none does, or --data-dir names a data dir, list/show
// read the data dir directly (RocksDbStore::OpenReadOnly), and replay/purge open it
// read-write, which RocksDB only allows while no engine runs on it; replay then starts
// an Engine (without dispatcher) so its workers put the commands back into the outbox,
// where the next `serve` finds them. The path taken is printed to stderr.
//
// Exit codes: 0 success; 1 the operation failed (e.g. nothing answered and the data dir
// is locked by an engine without admin endpoint).
//
// Thread-safety: call once, from the main thread.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "adapters/admin/admin_client.h"
#include "adapters/config/app_config.h"
#include "adapters/erp/dead_letters.h"

namespace ordersync {

struct DlqCommandOptions {
  std::string action;  // list | show | replay | purge
  DeadLetterFilter filter;
  std::string id;  // show
  bool json = false;
  AdminRouteOptions route;
  std::string data_dir;  // --data-dir: use this data dir directly (implies route.offline)
};

// Adds `dlq` with list/show/replay/purge to `app`; the chosen action lands in
// options->action ("" if `dlq` was not used).
CLI::App* AddDlqSubcommand(CLI::App& app, DlqCommandOptions* options);

int RunDlqCommand(const AppConfig& config, const DlqCommandOptions& options, std::ostream& out, std::ostream& err);

// "90", "90s", "15m", "2h", "7d" -> seconds; -1 if malformed.
int64_t ParseDurationSeconds(const std::string& text);

// The admin token from config.admin.token_file ("" if none or unreadable).
std::string AdminTokenOf(const AppConfig& config);

}  // namespace ordersync
