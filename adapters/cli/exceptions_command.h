// `ordersync exceptions list|replay`: the engine's exception queue (events parked too
// long or refused by a business rule). replay re-submits the recorded events with
// InboundEvent.replay = true and removes each record once its new outcome is durable
// (adapters/erp/exception_queue.h). Same path rules as `ordersync dlq`: through the
// admin endpoint of a running engine, else on the data dir directly (read-only for
// list; for replay an Engine is opened on it). The path taken is printed to stderr.
//
// Exit codes: 0 success; 1 failure.
//
// Thread-safety: call once, from the main thread.
#pragma once

#include <ostream>

#include <CLI/CLI.hpp>

#include "adapters/admin/admin_client.h"
#include "adapters/config/app_config.h"
#include "adapters/erp/exception_queue.h"

namespace ordersync {

struct ExceptionsCommandOptions {
  std::string action;  // list | replay
  ExceptionFilter filter;
  bool json = false;
  AdminRouteOptions route;
};

// Adds `exceptions` with list/replay to `app`; the chosen action lands in
// options->action ("" if `exceptions` was not used).
CLI::App* AddExceptionsSubcommand(CLI::App& app, ExceptionsCommandOptions* options);

int RunExceptionsCommand(const AppConfig& config, const ExceptionsCommandOptions& options, std::ostream& out,
                         std::ostream& err);

}  // namespace ordersync
