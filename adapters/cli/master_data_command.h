// `ordersync master-data`: the master data the intake checks use ([master_data],
// docs/master-data.md).
//
//   ordersync master-data status [--json]     a running engine's versions, counts, last
//                                             reload and errors (admin endpoint); without
//                                             one, the configured files as they load now
//   ordersync master-data check FILE [--kind customers|items|prices] [--json]
//                                             parse a file as a reload would: records, or
//                                             every error with file:line: column
//   ordersync master-data reload              a running engine loads the files now (as
//                                             SIGHUP does)
//
// Exit codes: 0 fine, 1 a file is refused (check, offline status) or the reload failed,
// 2 usage.
//
// Thread-safety: the command runs on the main thread.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "adapters/admin/admin_client.h"
#include "adapters/config/app_config.h"

namespace ordersync {

struct MasterDataCommandOptions {
  std::string action;  // status | check | reload
  std::string file;    // check
  std::string kind;    // check: customers | items | prices ("" = guess)
  bool json = false;
  AdminRouteOptions route;
};

CLI::App* AddMasterDataSubcommand(CLI::App& app, MasterDataCommandOptions* options);

int RunMasterDataCommand(const AppConfig& config, const MasterDataCommandOptions& options, std::ostream& out,
                         std::ostream& err);

}  // namespace ordersync
