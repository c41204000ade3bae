// Moving one partition's state from one store to another (what a new owner does in
// cluster mode), on real RocksDB stores and a real engine.
#include "engine/partition_snapshot.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "engine/keys.h"
#include "engine/order_state.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using TableContents = std::map<std::pair<int, std::string>, std::string>;

// Everything `store` holds for `partition`, per table (the quarantine excluded).
TableContents ReadPartition(StateStore* store, uint32_t partition) {
  TableContents out;
  std::string lower;
  std::string upper;
  PartitionRange(partition, &lower, &upper);
  for (size_t t = 0; t < kTableCount; ++t) {
    if (static_cast<Table>(t) == Table::kQuarantine) continue;
    auto it = store->NewIterator(static_cast<Table>(t), lower, upper);
    for (; it->Valid(); it->Next()) out[{static_cast<int>(t), std::string(it->key())}] = std::string(it->value());
    EXPECT_TRUE(it->status().ok());
  }
  return out;
}

// The orders of the crash-test stream, grouped by partition.
std::map<uint32_t, std::set<std::string>> OrdersByPartition(const Engine& engine, uint64_t seed, size_t orders) {
  std::map<uint32_t, std::set<std::string>> out;
  for (const GeneratedOrder& o : testing::CrashTestOrders(seed, orders)) {
    out[engine.PartitionFor(o.order_id)].insert(o.order_id);
  }
  return out;
}

std::optional<OrderState> StoredOrder(StateStore* store, uint32_t partition, const std::string& order_id) {
  std::string key;
  std::string value;
  OrderKey(&key, partition, order_id);
  if (!store->Get(Table::kOrders, key, &value).ok()) return std::nullopt;
  OrderState state;
  int64_t expire_at = 0;
  if (!DecodeOrderState(value, &state, &expire_at).ok()) return std::nullopt;
  return state;
}

uint32_t BusiestPartition(const std::map<uint32_t, std::set<std::string>>& by_partition) {
  uint32_t best = 0;
  size_t most = 0;
  for (const auto& [p, orders] : by_partition) {
    if (orders.size() > most) {
      most = orders.size();
      best = p;
    }
  }
  return best;
}

TEST(PartitionSnapshotTest, ImportedPartitionRecoversTheSameOrdersOutboxAndCheckpointInAnotherStore) {
  constexpr uint64_t kSeed = 41;
  constexpr size_t kOrders = 120;
  testing::EngineHarness source;
  for (const auto& r : source.SendAll(testing::CrashTestStream(kSeed, kOrders))) {
    ASSERT_NE(r.outcome, EventOutcome::kStoreError) << r.reason;
  }
  const auto by_partition = OrdersByPartition(source.engine(), kSeed, kOrders);
  const uint32_t moved = BusiestPartition(by_partition);
  source.engine().Stop();  // nothing writes the partition while it is exported

  std::string snapshot;
  PartitionSnapshotInfo exported;
  ASSERT_TRUE(ExportPartitionSnapshot(&source.store(), moved, &snapshot, &exported).ok());
  EXPECT_EQ(exported.partition, moved);
  EXPECT_GT(exported.entries, by_partition.at(moved).size());  // orders, dedup ids, outbox, journal, meta
  EXPECT_EQ(exported.bytes, snapshot.size());
  ASSERT_TRUE(exported.has_checkpoint);

  testing::EngineHarness target;
  target.engine().Stop();
  // Whatever the target held for the partition before is replaced, not merged.
  {
    auto batch = target.store().NewBatch();
    std::string key;
    OrderKey(&key, moved, "STALE-ORDER");
    batch->Put(Table::kOrders, key, "stale");
    ASSERT_TRUE(target.store().Write(batch.get(), Durability::kWal).ok());
  }
  const LogPosition none_of_this_log{0, 0, 0};
  PartitionSnapshotInfo imported;
  ASSERT_TRUE(ImportPartitionSnapshot(&target.store(), moved, snapshot, Durability::kWal, &none_of_this_log,
                                      &imported)
                  .ok());
  EXPECT_EQ(imported.entries, exported.entries);

  TableContents want = ReadPartition(&source.store(), moved);
  TableContents got = ReadPartition(&target.store(), moved);
  std::string checkpoint_key;
  MetaCheckpointKey(&checkpoint_key, moved);
  const auto checkpoint_entry = std::make_pair(static_cast<int>(Table::kMeta), checkpoint_key);
  ASSERT_EQ(want.count(checkpoint_entry), 1u);
  ASSERT_EQ(got.count(checkpoint_entry), 1u);
  want.erase(checkpoint_entry);  // rebased: the only entry that differs
  got.erase(checkpoint_entry);
  EXPECT_EQ(got, want);

  // An engine on the target recovers the partition as the source left it.
  target.Restart();
  for (const std::string& order : by_partition.at(moved)) {
    const auto before = StoredOrder(&source.store(), moved, order);  // the source is stopped
    const auto after = target.Order(order);
    ASSERT_TRUE(before.has_value()) << order;
    ASSERT_TRUE(after.has_value()) << order;
    EXPECT_EQ(after->accepted, before->accepted) << order;
    EXPECT_EQ(after->cancelled, before->cancelled) << order;
    EXPECT_EQ(after->facts.size(), before->facts.size()) << order;
    EXPECT_EQ(after->lines.size(), before->lines.size()) << order;
    EXPECT_EQ(after->next_cmd_seq, before->next_cmd_seq) << order;
  }
  EXPECT_FALSE(target.Order("STALE-ORDER").has_value());
  size_t moved_commands = 0;
  for (const auto& c : target.Outbox()) {
    EXPECT_EQ(c.partition, moved) << "only the moved partition has state on the target";
    ++moved_commands;
  }
  EXPECT_EQ(moved_commands, testing::OutboxCommandsOf(&source.store(), moved));
  EXPECT_GT(moved_commands, 0u);
}

TEST(PartitionSnapshotTest, DamagedOrForeignSnapshotIsRefusedAndChangesNothing) {
  testing::EngineHarness source;
  source.Send(testing::Accepted("O-1", "e-1", {{1, "SKU-A", 5, "EA", 100}}));
  const uint32_t p = source.engine().PartitionFor("O-1");
  source.engine().Stop();
  std::string snapshot;
  ASSERT_TRUE(ExportPartitionSnapshot(&source.store(), p, &snapshot).ok());
  ASSERT_TRUE(VerifyPartitionSnapshot(snapshot, p).ok());

  testing::EngineHarness target;
  target.Send(testing::Accepted("O-1", "e-1", {{1, "SKU-A", 7, "EA", 100}}));
  target.engine().Stop();
  const TableContents before = ReadPartition(&target.store(), p);
  ASSERT_FALSE(before.empty());

  std::string flipped = snapshot;
  flipped[flipped.size() / 2] ^= 0x5a;
  Status s = ImportPartitionSnapshot(&target.store(), p, flipped, Durability::kWal);
  EXPECT_TRUE((s.code() == Status::Code::kCorruption)) << s.ToString();
  EXPECT_NE(s.message().find("checksum"), std::string::npos) << s.ToString();

  s = ImportPartitionSnapshot(&target.store(), p + 1, snapshot, Durability::kWal);
  EXPECT_TRUE((s.code() == Status::Code::kCorruption)) << s.ToString();
  EXPECT_NE(s.message().find("holds partition"), std::string::npos) << s.ToString();

  s = ImportPartitionSnapshot(&target.store(), p, snapshot.substr(0, 10), Durability::kWal);
  EXPECT_TRUE((s.code() == Status::Code::kCorruption)) << s.ToString();

  std::string wrong_version = snapshot;
  wrong_version[4] = 9;
  s = VerifyPartitionSnapshot(wrong_version, p);
  EXPECT_TRUE((s.code() == Status::Code::kCorruption));
  EXPECT_NE(s.message().find("unknown version 9"), std::string::npos) << s.ToString();

  EXPECT_EQ(ReadPartition(&target.store(), p), before);
}

TEST(PartitionSnapshotTest, EmptyPartitionRoundTripsAndClearsTheTarget) {
  testing::EngineHarness empty;
  empty.engine().Stop();
  std::string snapshot;
  PartitionSnapshotInfo info;
  ASSERT_TRUE(ExportPartitionSnapshot(&empty.store(), 3, &snapshot, &info).ok());

  testing::EngineHarness target;
  target.engine().Stop();
  auto batch = target.store().NewBatch();
  std::string key;
  OrderKey(&key, 3, "SOMETHING");
  batch->Put(Table::kOrders, key, "x");
  ASSERT_TRUE(target.store().Write(batch.get(), Durability::kWal).ok());
  ASSERT_TRUE(ImportPartitionSnapshot(&target.store(), 3, snapshot, Durability::kWal).ok());
  const TableContents after = ReadPartition(&target.store(), 3);
  EXPECT_EQ(after, ReadPartition(&empty.store(), 3));
}

}  // namespace
}  // namespace ordersync
