// Ownership: which partitions the dispatcher sends for. With own_all_partitions (a single
// node) it owns every partition from Start; in cluster mode it owns a partition between
// AdoptPartition and ReleasePartition (see outbox_dispatcher.h, "Cluster mode").
// Everything here runs on the dispatcher thread (see dispatcher_impl.h).
#include <spdlog/spdlog.h>

#include "adapters/erp/dispatcher_impl.h"
#include "engine/coding.h"
#include "engine/keys.h"

namespace ordersync {

Result<uint64_t> OutboxDispatcher::Impl::LoadOutbox(std::optional<uint32_t> partition) {
  std::string lower, upper;
  if (partition) PartitionRange(*partition, &lower, &upper);
  auto it = store_->NewIterator(Table::kOutbox, lower, upper);
  uint64_t loaded = 0;
  for (; it->Valid(); it->Next()) {
    if (it->key().size() != 10) continue;
    const uint32_t p = PartitionOfKey(it->key());
    if (p >= options_.partitions || (partition && p != *partition)) continue;
    Staged s;
    s.pos = DecodeBigEndian64(it->key().data() + 2);
    s.bytes = std::make_shared<const std::string>(it->value());
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(s.bytes->data()), s.bytes->size());
    s.trusted = VerifyErpCommandBuffer(verifier);  // else dead-lettered as corrupt at admission
    s.from_last_run = true;
    Stage(p, std::move(s));
    ++loaded;
  }
  ORDERSYNC_RETURN_IF_ERROR(it->status());
  return loaded;
}

Result<uint64_t> OutboxDispatcher::Impl::LoadBlocks(std::optional<uint32_t> partition) {
  std::vector<OrderBlockRecord> blocks;
  ORDERSYNC_RETURN_IF_ERROR(ListOrderBlocks(store_, &blocks));
  uint64_t loaded = 0;
  for (OrderBlockRecord& b : blocks) {
    if (b.partition >= options_.partitions || (partition && b.partition != *partition)) continue;
    if (b.state == OrderBlockRecord::State::kReplayed) partitions_[b.partition].replayed_orders.push_back(b.order_id);
    std::string order_id = b.order_id;
    blocks_[order_id] = std::move(b);
    ++loaded;
  }
  return loaded;
}

Status OutboxDispatcher::Impl::Adopt(uint32_t p, uint64_t epoch) {
  if (options_.own_all_partitions) {
    return Status::InvalidArgument("AdoptPartition: this dispatcher owns every partition (own_all_partitions)");
  }
  if (p >= options_.partitions) {
    return Status::InvalidArgument("AdoptPartition: partition " + std::to_string(p) + " is out of range (" +
                                   std::to_string(options_.partitions) + " partitions)");
  }
  PartitionState& ps = partitions_[p];
  if (ps.owned) {
    if (epoch < ps.epoch) {
      return Status::InvalidArgument("AdoptPartition: partition " + std::to_string(p) + " is adopted at epoch " +
                                     std::to_string(ps.epoch) + ", later than " + std::to_string(epoch));
    }
    ps.epoch = epoch;  // the same ownership, renewed under a later epoch
    return Status::OK();
  }
  // Commands handed over before the adoption belong to an earlier ownership: dropped
  // (the outbox table and the follower's replay bring back what is still due).
  TakeInbox();
  ps.cursor = 0;
  ps.staged.clear();
  ps.staged_per_target.assign(targets_.size(), 0);
  Result<uint64_t> blocks = LoadBlocks(p);
  Result<uint64_t> loaded = blocks.ok() ? LoadOutbox(p) : Result<uint64_t>(blocks.status());
  if (!loaded.ok()) {
    // Nothing half-adopted: the caller may try again.
    ps.staged.clear();
    ps.staged_per_target.assign(targets_.size(), 0);
    ps.replayed_orders.clear();
    std::erase_if(blocks_, [p](const auto& kv) { return kv.second.partition == p; });
    return Status::IOError("AdoptPartition " + std::to_string(p) + ": reading the store failed: " +
                           loaded.status().ToString());
  }
  ps.owned = true;
  ps.epoch = epoch;
  spdlog::info("erp dispatcher: partition {} adopted at epoch {}: {} command(s) from its outbox, {} order block(s)", p,
               epoch, *loaded, *blocks);
  return Status::OK();
}

Status OutboxDispatcher::Impl::Release(uint32_t p) {
  if (options_.own_all_partitions) {
    return Status::InvalidArgument("ReleasePartition: this dispatcher owns every partition (own_all_partitions)");
  }
  if (p >= options_.partitions) {
    return Status::InvalidArgument("ReleasePartition: partition " + std::to_string(p) + " is out of range");
  }
  PartitionState& ps = partitions_[p];
  if (!ps.owned) return Status::OK();
  // The notes and dead letters made so far reached the host (HandleControl flushed them)
  // while this node still owned the partition.
  ps.owned = false;
  const size_t staged = ps.staged.size();
  ps.staged.clear();
  ps.staged_per_target.assign(targets_.size(), 0);
  size_t forgotten = 0;
  const uint64_t orphans_before = orphans_;
  for (auto& [order_id, queue] : ps.orders) {
    for (Entry* e = queue.head; e != nullptr;) {
      Entry* next = e->next_in_order;
      Forget(e);
      ++forgotten;
      e = next;
    }
  }
  ps.orders.clear();
  ps.replayed_orders.clear();
  std::erase_if(blocks_, [p](const auto& kv) { return kv.second.partition == p; });
  ps.cursor = 0;
  spdlog::info(
      "erp dispatcher: partition {} released (epoch {}): {} staged command(s) dropped, {} in the window forgotten "
      "({} in flight: their answers will be ignored)",
      p, ps.epoch, staged, forgotten, orphans_ - orphans_before);
  ps.epoch = 0;
  return Status::OK();
}

void OutboxDispatcher::Impl::Forget(Entry* e) {
  e->next_in_order = nullptr;
  if (e->st != St::kInFlight) {
    RemoveEntry(e);  // its ready / backoff references go stale with it
    return;
  }
  // The attempt is on its way: keep the target's in-flight slot (and the command's
  // by_command_ entry) until it ends, but take the command out of its partition.
  PartitionState& ps = partitions_[e->partition];
  --ps.per_target[e->target];
  --ps.window;
  e->orphaned = true;
  ++orphans_;
}

void OutboxDispatcher::Impl::FreeOrphan(Entry* e) {
  Target& t = *targets_[e->target];
  if (e->st == St::kInFlight) {
    --t.in_flight;
    t.breaker.OnAbandoned();  // no verdict on the ERP from an attempt nobody waits for
  }
  auto it = by_command_.find(e->command_id);
  if (it != by_command_.end() && it->second == e) by_command_.erase(it);
  --orphans_;
  pool_.Release(e);
}

bool OutboxDispatcher::Impl::OrphanInFlight(const Entry& e) const {
  if (orphans_ == 0) return false;
  auto it = by_command_.find(e.command_id);
  return it != by_command_.end() && it->second != &e && it->second->orphaned;
}

}  // namespace ordersync
