// `ordersync serve`: runs the engine with an already loaded and validated config.
// main.cc loads the config and sets up logging before calling RunServe.
//
// Thread-safety: call once, from the main thread.
#pragma once

#include <string>

#include "adapters/config/app_config.h"

namespace ordersync {

// Logs the effective key settings (data dir, partitions/workers, durability, routing, ...)
// at info level, so every run's log starts with what it was started with.
void LogStartupBanner(const AppConfig& config);

// Runs until the engine stops; returns the process exit code. `config_path` is re-read on
// SIGHUP to apply new rate limits ("" = the built-in default).
int RunServe(const AppConfig& config, const std::string& config_path = "");

}  // namespace ordersync
