// `ordersync demo`: a live demonstration of the engine on its effective config. It opens a
// fresh store (temp dir unless --data-dir), feeds generated order lifecycles — shuffled,
// with exact and business duplicates — through the real engine, prints a progress line
// per second and ends with a summary of what happened and where to look next.
//
// Thread-safety: call once, from the main thread.
#pragma once

#include <cstdint>
#include <string>

#include "adapters/config/app_config.h"

namespace ordersync {

struct DemoOptions {
  int seconds = 15;                 // how long to feed events
  uint64_t events_per_second = 0;   // 0: as fast as the engine accepts them
  std::string data_dir;             // empty: a temp dir, removed at the end
};

// Returns the process exit code.
int RunDemo(const AppConfig& config, const DemoOptions& options);

}  // namespace ordersync
