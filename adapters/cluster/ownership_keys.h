// The ownership keys in etcd and the operations on them that every node and the
// `ordersync cluster` commands share (docs/cluster.md "Ownership"):
//
//   /ordersync/<cluster>/members/<node_id>   JSON {node_id, ingress, admin, started_at,
//                                            lease}; attached to the node's lease
//   /ordersync/<cluster>/draining/<node_id>  JSON {since}; no lease (survives restarts)
//   /ordersync/<cluster>/owners/<p>          JSON {node_id, lease, acquired_at};
//                                            attached to the owner's lease, created only
//                                            if absent; epoch = its create_revision
//
// <p> is the decimal partition number. The fencing epoch of an ownership is the
// create_revision of its owners/<p> key: etcd revisions are global and only grow, and the
// key can only be created after the previous owner's key was deleted (released or its
// lease expired), so every later owner of p has a larger epoch.
//
// Thread-safety: pure functions and functions on an EtcdClient (thread-safe).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/cluster/etcd_client.h"
#include "engine/status.h"

namespace ordersync {

class OwnershipKeys {
 public:
  explicit OwnershipKeys(std::string_view cluster_name);
  const std::string& prefix() const { return prefix_; }  // "/ordersync/<cluster>/"
  std::string Member(std::string_view node_id) const { return prefix_ + "members/" + std::string(node_id); }
  std::string Draining(std::string_view node_id) const { return prefix_ + "draining/" + std::string(node_id); }
  std::string Owner(uint32_t partition) const { return prefix_ + "owners/" + std::to_string(partition); }

 private:
  std::string prefix_;
};

struct MemberInfo {
  std::string node_id;
  std::string ingress;     // how producers reach this node (informational)
  std::string admin;       // its admin endpoint (informational)
  int64_t started_at_ms = 0;  // wall clock, ms since the epoch
  int64_t lease = 0;
};

struct PartitionOwner {
  std::string node_id;
  int64_t epoch = 0;   // create_revision of owners/<p>
  int64_t lease = 0;
  int64_t acquired_at_ms = 0;
  std::string value;   // the exact bytes stored (what a release compares against)
};

// Everything under the cluster prefix, read at one etcd revision.
struct ClusterView {
  int64_t revision = 0;
  std::vector<MemberInfo> members;          // sorted by node_id
  std::map<std::string, int64_t> draining;  // node_id -> since (ms since the epoch)
  std::map<uint32_t, PartitionOwner> owners;
  // Keys under the prefix this version does not understand (reported, not fatal).
  std::vector<std::string> unknown_keys;
};

// One range read of the cluster prefix.
Result<ClusterView> ReadClusterView(EtcdClient* client, const OwnershipKeys& keys);

std::string EncodeMemberInfo(const MemberInfo& m);
// The owners/<p> value this node writes; unique per (node, lease).
std::string EncodeOwnerValue(std::string_view node_id, int64_t lease, int64_t acquired_at_ms);

// Result of an acquisition attempt.
struct AcquireResult {
  bool acquired = false;
  int64_t epoch = 0;           // when acquired
  PartitionOwner current;      // when not acquired: who holds it
};

// Creates owners/<p> = `value` with `lease` if the key does not exist. A retried txn
// whose first application went through finds its own value (same bytes and lease) and
// counts as acquired with that key's epoch.
Result<AcquireResult> TryAcquirePartition(EtcdClient* client, const OwnershipKeys& keys,
                                          uint32_t partition, std::string_view value, int64_t lease);

// Deletes owners/<p> only if its value is still `value` (this node's, this lease).
// OK when deleted or already gone; InvalidArgument ("refused: ... now owned by X at
// epoch E") when someone else's value is there, which is left untouched.
Status ReleasePartition(EtcdClient* client, const OwnershipKeys& keys, uint32_t partition,
                        std::string_view value);

// Marks / unmarks a node as draining (no lease: the flag outlives the node's restarts).
Status SetDraining(EtcdClient* client, const OwnershipKeys& keys, std::string_view node_id, bool draining);

// Cluster and node names: letters, digits, '-', '_', '.' (no '/'), 1..128 bytes.
bool ValidClusterName(std::string_view name);

}  // namespace ordersync
