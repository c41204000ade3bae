// Partition assignment: which live cluster member should own each logical partition.
// Rendezvous (highest-random-weight) hashing: partition p goes to the eligible member
// whose Weight(p, node_id) is largest. Every node computes the same answer from the same
// membership, nothing is stored, and when a member joins or leaves only the partitions
// that move to or from it change hands (about partitions/members of them).
//
// Eligible = present in `members` and not draining. Weight is a stable 64-bit hash
// (FNV-1a of the node id, mixed with the partition by splitmix64), so it never changes
// across builds, platforms or restarts; ties (practically impossible) go to the smaller
// node id.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ordersync {

struct ClusterMember {
  std::string node_id;
  bool draining = false;
};

uint64_t RendezvousWeight(uint32_t partition, std::string_view node_id);

// owner[p] for p in 0..partitions-1: an eligible member's node_id, or "" for every
// partition when no member is eligible. Duplicate node ids count once.
std::vector<std::string> AssignPartitions(uint32_t partitions, std::span<const ClusterMember> members);

}  // namespace ordersync
