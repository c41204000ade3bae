// `ordersync cluster export-state --data-dir DIR`: the whole cluster's partition state as
// one node's store would hold it, in a fresh local RocksDB at DIR — for fault_checker
// --data-dir, `ordersync trace`, `ordersync status` and inspection after a cluster run.
//
// For every partition 0..[engine] partitions-1: the latest checkpoint in the JetStream
// checkpoint store (KV bucket `<subject_prefix>_checkpoints`, chunk stream `<stream>_CKPT`,
// named as serve's cluster mode names them) is adopted read-only by a PartitionFollower
// on DIR (a partition never checkpointed starts empty), the partition's log tail after
// the sequence that checkpoint covers is applied from the replicated log (stream
// [cluster] stream), and a local checkpoint is written. Nothing is published: no op, no
// checkpoint, no purge; the cluster is only read. Commands the tail issues land in DIR's
// outbox table (nothing is dispatched).
//
// What it shows is the log as it stands: run it after the nodes stopped (or accept that
// records appended meanwhile may or may not be included). The quarantine is each
// ingress node's own (in its local store) and is not exported.
//
// DIR must not exist or be empty (the export never merges into or overwrites a store).
// Exit codes: 0 exported, 1 NATS / store error (what failed and why; DIR may then hold a
// partial store), 2 usage (DIR not empty).
//
// Thread-safety: runs on the main thread.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/config/app_config.h"

namespace ordersync {

struct ClusterExportOptions {
  std::string data_dir;                 // required: the new store
  std::vector<std::string> nats_urls;   // overrides [cluster] nats_urls
  bool json = false;                    // one JSON object instead of the text summary
};

// Adds `export-state` under `cluster`; its callback sets *action = "export-state".
CLI::App* AddClusterExportSubcommand(CLI::App* cluster, ClusterExportOptions* options, std::string* action);

int RunClusterExport(const AppConfig& config, const ClusterExportOptions& options, std::ostream& out,
                     std::ostream& err);

}  // namespace ordersync
