// `ordersync reconcile`: what ordersync holds as acknowledged by one ERP target in a
// period, against the ERP's own record of its documents (docs/reconcile.md): an export
// file, or for HTTP targets (netsuite, sap_s4, d365_bc, oracle_fusion) a query through the
// target's own API with the connector's settings and credentials (--source api).
//
//   ordersync reconcile --target erp --export erp-may.csv --from 2024-05-01 --to 2024-06-01
//                       [--margin-s 900] [--json] [--repair [--yes]]
//   ordersync reconcile --target s4 --source api --from 2024-05-01 --to 2024-06-01
//                       [--page-size 500] [--max-pages 10000] ...
//
// With --source api and a running engine, this command queries the ERP itself and hands
// the documents to the engine as a JSON-lines export in a private temporary directory.
//
// Prints the differences (missing_in_erp, unknown_to_ordersync, mismatch, pending) as a
// table or JSON. --repair lists the missing commands it would re-drive (a dry run);
// --repair --yes re-drives them with their original command ids through the outbox, the
// path of `dlq replay`. Runs in the engine when its admin endpoint answers (reconcile.run),
// else on the data dir directly (read-only; read-write for --repair --yes, the engine
// must be stopped, and the next `serve` posts them).
//
// Exit codes: 0 clean (pending allowed), 3 differences found, 1 error, 2 usage.
//
// Thread-safety: the command runs on the main thread.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "adapters/admin/admin_client.h"
#include "adapters/config/app_config.h"

namespace ordersync {

struct ReconcileCommandOptions {
  bool chosen = false;
  std::string target;
  std::string export_file;
  std::string source;  // "export" | "api"; "": export when --export is given
  uint32_t page_size = 500;
  uint32_t max_pages = 10000;
  std::string from, to;
  int64_t margin_s = -1;  // -1: [reconcile] margin_s
  bool json = false;
  bool repair = false;
  bool yes = false;
  AdminRouteOptions route;
  std::string data_dir;
};

CLI::App* AddReconcileSubcommand(CLI::App& app, ReconcileCommandOptions* options);

int RunReconcileCommand(const AppConfig& config, const ReconcileCommandOptions& options, std::ostream& out,
                        std::ostream& err);

}  // namespace ordersync
