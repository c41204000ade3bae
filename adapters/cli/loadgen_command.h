// `ordersync loadgen`: drives a running `ordersync serve` with N simulated warehouse
// producers (adapters/ingress/loadgen.h): prints a progress line per second and a final
// summary (events/s, outcomes, retries, ack latency p50/p99/p99.9), optionally as JSON.
//
// Thread-safety: call once, from the main thread.
#pragma once

#include <ostream>
#include <string>

#include "adapters/config/app_config.h"
#include "adapters/ingress/loadgen.h"

namespace ordersync {

struct LoadgenCommandOptions {
  LoadgenOptions load;
  std::string endpoint;            // "" = from [ingress] of the config (0.0.0.0 -> 127.0.0.1)
  std::string json_file;           // write the summary here as JSON
  std::string curve_server_key;    // the server's .pub file
  std::string curve_key;           // this producer's .key file
  bool quiet = false;              // no progress lines
};

// Exit codes: 0 every event answered as expected; 1 unanswered or unexpected answers (or
// a key could not be read); 2 no endpoint to connect to.
int RunLoadgenCommand(const AppConfig& config, LoadgenCommandOptions options, std::ostream& out,
                      std::ostream& err);

}  // namespace ordersync
