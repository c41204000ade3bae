// `ordersync cluster`: partition ownership of a cluster, read from and written to etcd
// ([cluster] etcd_endpoints and name; docs/cluster.md).
//
//   ordersync cluster status [--json] [--etcd URL]... [--nats URL]...
//       members (lease, draining flag, partitions owned), every partition's owner and
//       fencing epoch next to the member the assignment gives it, and the partitions
//       that are unowned or moving; from the replicated log (NATS: [cluster] nats_urls,
//       stream, subject_prefix) each partition's last log sequence, the sequence its
//       stored checkpoint covers and their difference: records not yet in a checkpoint
//   ordersync cluster drain NODE [--etcd URL]...
//       puts draining/NODE: the node stays a member but is left out of the assignment,
//       so every node stops and releases what moves and the others take it over
//   ordersync cluster undrain NODE [--etcd URL]...
//       deletes draining/NODE
//   ordersync cluster export-state --data-dir DIR [--nats URL]... [--json]
//       the cluster's state from JetStream into a new local store (cluster_export_command.h)
//
// Exit codes: 0 fine (status: also when partitions are unowned, and when the log could
// not be read — the etcd part is printed and the log columns say why they are missing),
// 1 etcd error (unreachable: the endpoints tried and why), 2 usage.
//
// Thread-safety: the command runs on the main thread.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/cli/cluster_export_command.h"
#include "adapters/config/app_config.h"

namespace ordersync {

struct ClusterCommandOptions {
  std::string action;  // status | drain | undrain | export-state
  std::string node;    // drain, undrain
  bool json = false;
  std::vector<std::string> etcd;  // overrides [cluster] etcd_endpoints
  std::vector<std::string> nats;  // status: overrides [cluster] nats_urls
  ClusterExportOptions export_state;  // export-state (cluster_export_command.h)
};

CLI::App* AddClusterSubcommand(CLI::App& app, ClusterCommandOptions* options);

int RunClusterCommand(const AppConfig& config, const ClusterCommandOptions& options, std::ostream& out,
                      std::ostream& err);

}  // namespace ordersync
