// `ordersync demo`: a live demonstration of the whole pipeline in one process. It starts
// the components `serve` runs (Pipeline: RocksDB store, engine, ingress, ERP dispatcher,
// metrics) on loopback ephemeral ports, an ERP simulator that the dispatcher posts to
// (demo_erp.h: our ZeroMQ protocol, or with --erp the HTTP API of NetSuite, SAP S/4HANA,
// Business Central, Oracle Fusion or a webhook), and the warehouse load generator (adapters/ingress/
// loadgen.h) as producers over real ZeroMQ — with duplicates, out-of-order delivery and
// malformed frames, and a scheduled ERP outage. It prints one progress line per second,
// waits (bounded) for the outbox to drain, and ends with a plain-words summary and the
// exact commands to inspect the run; the data dir is kept for them.
//
// Thread-safety: call once, from the main thread (it starts and joins its own threads).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "adapters/config/app_config.h"

namespace ordersync {

struct DemoOptions {
  double seconds = 30;          // how long the producers send
  double rate = 600;            // events/s over all producers
  uint32_t producers = 4;       // producer threads (one ZeroMQ socket each)
  uint32_t outage_seconds = 5;  // ERP outage length, starting a third of the way in; 0 = none
  double erp_reject_rate = 0;   // share of commands the simulated ERP rejects (-> DLQ)
  double drain_timeout_s = 60;  // most to wait for the outbox to drain after the producers stop
  double linger_s = 0;          // keep everything (and the metrics endpoint) up this long after the summary
  std::string data_dir;         // "" = a fresh /tmp/ordersync-demo-XXXXXX (kept)
  uint64_t seed = 0;            // 0 = from the clock (order ids differ per run)
  std::string erp = "zmq";      // zmq, or the HTTP API of netsuite, sap_s4, d365_bc, oracle_fusion, webhook
  bool verbose = false;         // log at the config's [log] level instead of errors only
  std::string config_path;      // the --config file, repeated in the printed commands ("" = built-in)
};

// Adds `demo` with its options to `app`.
CLI::App* AddDemoSubcommand(CLI::App& app, DemoOptions* options);

// Returns the process exit code: 0 when the run went as expected; 1 when a component
// could not start or a guarantee was visibly broken (an unexpected answer, an ERP
// duplicate or out-of-order posting).
int RunDemo(const AppConfig& config, const DemoOptions& options);

}  // namespace ordersync
