// Process-wide logging on spdlog, configured from [log] (LogOptions). Records go to
// stderr so stdout stays free for command output (config show, --print-config).
//
//   text: 2024-05-01T12:00:00.123Z [info] ordersync 0.1.0 starting
//   json: {"ts":"2024-05-01T12:00:00.123Z","level":"info","msg":"ordersync 0.1.0 starting"}
//
// Timestamps are UTC. Use spdlog's free functions (spdlog::info(...)) afterwards.
//
// Thread-safety: call SetUpLogging once, early in main, before other threads start;
// the loggers it installs are thread-safe (_mt sinks).
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

#include "adapters/config/app_config.h"

namespace ordersync {

// Installs a logger writing to stderr as spdlog's default logger.
// REQUIRES: options hold values the config loader accepts (unknown level means info).
void SetUpLogging(const LogOptions& options);

// A logger named "ordersync" writing to `sink` with the level and format of `options`.
// SetUpLogging uses it with a stderr sink; tests pass an ostream sink.
std::shared_ptr<spdlog::logger> MakeLogger(const LogOptions& options, spdlog::sink_ptr sink);

}  // namespace ordersync
