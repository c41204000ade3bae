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

#include "adapters/erp/erp_simulator.h"

namespace ordersync {

struct ErpSimCommandOptions {
  ErpSimOptions sim;
  std::string summary_path;
  int report_every_s = 5;
};

// Adds `erp-sim` and its options to `app` (default endpoint tcp://127.0.0.1:7200, where
// the default config's target "erp" points). Returns the subcommand.
CLI::App* AddErpSimSubcommand(CLI::App& app, ErpSimCommandOptions* options);

int RunErpSim(const ErpSimCommandOptions& options);

}  // namespace ordersync
