// ConsoleOptions: the operations console, a web page served by `serve` (adapters/console/
// console_server.h). The TOML [console] table maps onto it. Not reloadable.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>

namespace ordersync {

struct ConsoleOptions {
  // Serve the console. Default: true.
  bool enabled = true;
  // host:port of the HTTP listener; port 0 picks a free port (the log says which).
  // Anything but loopback (127.0.0.0/8, localhost, [::1]) needs [admin] token_file,
  // else serve refuses to start. Default: "127.0.0.1:7180".
  std::string listen = "127.0.0.1:7180";
  // Seconds between two samples of the engine's figures (the overview's rates and
  // charts). Default: 2.
  uint32_t sample_interval_s = 2;
  // Seconds of samples kept for the overview's charts. Default: 600 (10 minutes).
  uint32_t history_s = 600;
};

}  // namespace ordersync
