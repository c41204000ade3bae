// PartitionFollower: applying partitions from a log written by someone else (cluster
// mode's owner side), with real RocksDB stores and the segment-file log standing in for
// the shared log (it implements the same engine/event_log.h interface as the replicated
// one; its readers do not tail, which exercises the reopen path).
#include "engine/partition_follower.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/hash.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

constexpr uint32_t kLogGeneration = 1;
constexpr int64_t kNowNs = 1'700'000'000'000'000'000;  // the harness's ManualClock start

// A node's store and the shared log, in a temp dir.
struct Node {
  testing::TempDir dir;
  std::unique_ptr<RocksDbStore> store;

  Node() {
    StorageOptions so;
    so.data_dir = dir.path() + "/db";
    so.block_cache_mb = 8;
    so.write_buffer_mb = 4;
    auto s = RocksDbStore::Open(so, [] { return kNowNs; });
    if (!s.ok()) throw std::runtime_error(s.status().ToString());
    store = std::move(s).value();
  }
};

struct SharedLog {
  testing::TempDir dir;
  std::unique_ptr<SegmentLog> log;
  std::map<uint32_t, std::unique_ptr<LogStream>> streams;

  SharedLog() {
    StorageOptions so;
    so.data_dir = dir.path();
    auto l = OpenEventLog(so);
    if (!l.ok()) throw std::runtime_error(l.status().ToString());
    log = std::move(l).value();
  }

  // What a front door does: one event, one record, appended to its partition's stream.
  void Publish(uint32_t partition, std::string_view envelope) {
    auto& stream = streams[partition];
    if (stream == nullptr) stream = std::move(log->CreateStream(LogStreamId{kLogGeneration, partition})).value();
    LogRecordBuilder record;
    record.Begin(kNowNs);
    record.AddEvent(partition, kNowNs, /*replay=*/false, envelope);
    LogPosition end;
    ASSERT_TRUE(stream->Append(record.Finish(), Durability::kWal, &end).ok());
  }
};

class CollectingListener final : public OutboxListener {
 public:
  void OnCommandsDurable(std::vector<DurableCommand>& commands) override { received += commands.size(); }
  size_t received = 0;
};

using CommandKey = std::tuple<uint32_t, std::string, std::string, uint64_t>;  // partition, order, command id, seq

std::set<CommandKey> OutboxOf(StateStore* store) {
  std::set<CommandKey> out;
  std::string value;
  for (auto it = store->NewIterator(Table::kOutbox, "", ""); it->Valid(); it->Next()) {
    value.assign(it->value());
    const auto* c = GetErpCommand(value.data());
    out.emplace(PartitionOfKey(it->key()), c->order_id()->str(), c->command_id()->str(), c->order_cmd_seq());
  }
  return out;
}

void PollToEnd(PartitionFollower* follower, uint32_t partition) {
  size_t applied = 0;
  do {
    ASSERT_TRUE(follower->Poll(partition, 64, &applied).ok());
  } while (applied > 0);
}

TEST(PartitionFollowerTest, FollowersReachTheEnginesOutboxFromTheSameEvents) {
  constexpr uint64_t kSeed = 7;
  const auto stream = testing::CrashTestStream(kSeed, 150);
  // Submitted one at a time, so the engine applies them in exactly this order.
  testing::EngineHarness engine;
  for (const auto& spec : stream) engine.Send(spec);
  engine.Checkpoint();
  const std::set<CommandKey> want = OutboxOf(&engine.store());
  ASSERT_FALSE(want.empty());

  const EngineOptions options = testing::TestEngineOptions();
  SharedLog shared;
  MilestoneBuilder builder;
  for (const auto& spec : stream) shared.Publish(PartitionOf(spec.order_id, options.partitions), builder.Build(spec));

  Node node;
  CollectingListener listener;
  PartitionFollower follower(options, node.store.get(), shared.log.get(), kLogGeneration, &listener);
  for (uint32_t p = 0; p < options.partitions; ++p) {
    ASSERT_TRUE(follower.Adopt(p, "").ok());
    PollToEnd(&follower, p);
    std::string snapshot;
    ASSERT_TRUE(follower.Checkpoint(p, &snapshot).ok());
  }
  EXPECT_EQ(OutboxOf(node.store.get()), want);
  EXPECT_EQ(listener.received, want.size()) << "every command is handed over once, when its record is applied";
}

TEST(PartitionFollowerTest, NewOwnerFromASnapshotPlusTheTailWritesTheSameCheckpointAsTheOldOwner) {
  const EngineOptions options = testing::TestEngineOptions();
  SharedLog shared;
  MilestoneBuilder builder;
  std::map<uint32_t, size_t> per_partition;
  for (const auto& spec : testing::CrashTestStream(11, 200)) {
    const uint32_t p = PartitionOf(spec.order_id, options.partitions);
    shared.Publish(p, builder.Build(spec));
    ++per_partition[p];
  }
  uint32_t moved = 0;
  for (const auto& [p, n] : per_partition) moved = n > per_partition[moved] ? p : moved;
  const size_t half = per_partition[moved] / 2;

  Node old_owner_node;
  PartitionFollower old_owner(options, old_owner_node.store.get(), shared.log.get(), kLogGeneration, nullptr);
  ASSERT_TRUE(old_owner.Adopt(moved, "").ok());
  size_t applied = 0;
  ASSERT_TRUE(old_owner.Poll(moved, half, &applied).ok());
  ASSERT_EQ(applied, half);
  std::string handed_over;
  PartitionSnapshotInfo info;
  ASSERT_TRUE(old_owner.Checkpoint(moved, &handed_over, &info).ok());
  EXPECT_EQ(info.checkpoint, old_owner.applied(moved));
  PollToEnd(&old_owner, moved);
  std::string old_final;
  ASSERT_TRUE(old_owner.Checkpoint(moved, &old_final).ok());

  Node new_owner_node;
  PartitionFollower new_owner(options, new_owner_node.store.get(), shared.log.get(), kLogGeneration, nullptr);
  ASSERT_TRUE(new_owner.Adopt(moved, handed_over).ok());
  EXPECT_EQ(new_owner.applied(moved), info.checkpoint);
  PollToEnd(&new_owner, moved);
  EXPECT_EQ(new_owner.applied(moved), old_owner.applied(moved));
  std::string new_final;
  ASSERT_TRUE(new_owner.Checkpoint(moved, &new_final).ok());
  EXPECT_EQ(new_final, old_final) << "replay from the snapshot is deterministic";
}

TEST(PartitionFollowerTest, RecordsAppendedAfterCatchingUpAreAppliedByTheNextPoll) {
  const EngineOptions options = testing::TestEngineOptions();
  SharedLog shared;
  MilestoneBuilder builder;
  const auto accepted = testing::Accepted("O-TAIL", "e-1", {{1, "SKU-A", 5, "EA", 100}});
  const uint32_t p = PartitionOf("O-TAIL", options.partitions);
  shared.Publish(p, builder.Build(accepted));
  Node node;
  CollectingListener listener;
  PartitionFollower follower(options, node.store.get(), shared.log.get(), kLogGeneration, &listener);
  ASSERT_TRUE(follower.Adopt(p, "").ok());
  PollToEnd(&follower, p);
  const size_t after_first = listener.received;
  EXPECT_GT(after_first, 0u);

  shared.Publish(p, builder.Build(testing::Cancelled("O-TAIL", "e-2")));
  size_t applied = 0;
  ASSERT_TRUE(follower.Poll(p, 64, &applied).ok());
  EXPECT_EQ(applied, 1u);
  EXPECT_GT(listener.received, after_first) << "the cancellation issues a command";
  EXPECT_EQ(follower.AppendOwnerInputs(p, {}, kNowNs).code(), Status::Code::kInvalidArgument)
      << "a follower adopted without an owner stream only reads";
}

TEST(PartitionFollowerTest, RecordOfAnotherPartitionInTheStreamIsCorruption) {
  const EngineOptions options = testing::TestEngineOptions();
  SharedLog shared;
  MilestoneBuilder builder;
  auto stream = std::move(shared.log->CreateStream(LogStreamId{kLogGeneration, 2})).value();
  LogRecordBuilder record;
  record.Begin(kNowNs);
  record.AddEvent(/*partition=*/3, kNowNs, false, builder.Build(testing::Accepted("O-X", "e-x", {})));
  LogPosition end;
  ASSERT_TRUE(stream->Append(record.Finish(), Durability::kWal, &end).ok());
  Node node;
  PartitionFollower follower(options, node.store.get(), shared.log.get(), kLogGeneration, nullptr);
  ASSERT_TRUE(follower.Adopt(2, "").ok());
  size_t applied = 0;
  Status s = follower.Poll(2, 64, &applied);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("record of partition 3"), std::string::npos) << s.ToString();
  EXPECT_EQ(applied, 0u);
}

TEST(PartitionFollowerTest, AdoptRefusesASnapshotOfAnotherLogAndAPartitionFollowedTwice) {
  const EngineOptions options = testing::TestEngineOptions();
  SharedLog shared;
  Node node;
  PartitionFollower follower(options, node.store.get(), shared.log.get(), kLogGeneration, nullptr);
  ASSERT_TRUE(follower.Adopt(1, "").ok());
  std::string snapshot;
  ASSERT_TRUE(follower.Checkpoint(1, &snapshot).ok());
  EXPECT_EQ(follower.Adopt(1, snapshot).code(), Status::Code::kInvalidArgument);

  Node other;
  PartitionFollower next_generation(options, other.store.get(), shared.log.get(), kLogGeneration + 1, nullptr);
  Status s = next_generation.Adopt(1, snapshot);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_FALSE(next_generation.Follows(1));
  EXPECT_EQ(next_generation.Adopt(options.partitions, "").code(), Status::Code::kInvalidArgument);
  follower.Release(1);
  EXPECT_FALSE(follower.Follows(1));
  EXPECT_TRUE(follower.Adopt(1, snapshot).ok()) << "adopting again after a release";
}

}  // namespace
}  // namespace ordersync
