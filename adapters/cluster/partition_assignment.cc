#include "adapters/cluster/partition_assignment.h"

#include "engine/hash.h"

namespace ordersync {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t RendezvousWeight(uint32_t partition, std::string_view node_id) {
  return SplitMix64(HashBytes(node_id) ^ SplitMix64(partition));
}

std::vector<std::string> AssignPartitions(uint32_t partitions, std::span<const ClusterMember> members) {
  std::vector<std::string> owner(partitions);
  for (uint32_t p = 0; p < partitions; ++p) {
    uint64_t best = 0;
    const std::string* chosen = nullptr;
    for (const ClusterMember& m : members) {
      if (m.draining || m.node_id.empty()) continue;
      const uint64_t w = RendezvousWeight(p, m.node_id);
      if (chosen == nullptr || w > best || (w == best && m.node_id < *chosen)) {
        best = w;
        chosen = &m.node_id;
      }
    }
    if (chosen != nullptr) owner[p] = *chosen;
  }
  return owner;
}

}  // namespace ordersync
