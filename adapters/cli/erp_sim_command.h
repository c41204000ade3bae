// `ordersync erp-sim`: runs the ERP simulator (adapters/erp/erp_simulator.h) until
// SIGINT/SIGTERM, printing a progress line every --report-every-s seconds. SIGUSR1 turns
// rejections off (the replay phase of a fault run); SIGUSR2 flushes the ledger and
// writes the summary. On exit the ledger is flushed and the JSON summary is written to
// --summary FILE (and printed to stdout).
//
// Thread-safety: call once, from the main thread, before other threads start.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "adapters/erp/connectors/sim/erp_http_simulator.h"
#include "adapters/erp/erp_simulator.h"

namespace ordersync {

struct ErpSimCommandOptions {
  ErpSimOptions sim;
  // --api netsuite|sap_s4|d365_bc|oracle_fusion|webhook: serve that ERP's HTTP API
  // (adapters/erp/connectors/sim/erp_http_simulator.h) instead of the ZeroMQ ROUTER; the
  // fault flags above apply to it as well. "zmq" (default): today's simulator.
  std::string api = "zmq";
  ErpHttpSimOptions http;
  std::string password_file, client_secret_file, jwt_public_key_file;
  std::string summary_path;
  std::string export_path;  // --export: the ERP export (docs/reconcile.md), on SIGUSR2 and exit
  int report_every_s = 5;
};

// Adds `erp-sim` and its options to `app` (default endpoint tcp://127.0.0.1:7200, where
// the default config's target "erp" points). Returns the subcommand.
CLI::App* AddErpSimSubcommand(CLI::App& app, ErpSimCommandOptions* options);

int RunErpSim(const ErpSimCommandOptions& options);

}  // namespace ordersync
