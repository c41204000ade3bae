// A partition changes owner over the real replicated log (three nats-server processes,
// R3): front-door events on JetStream, the old owner's PartitionFollower applying them,
// its checkpoint stored in the JetStream checkpoint store, and a new owner on another
// store adopting that checkpoint and replaying the tail — reaching the old owner's state
// byte for byte.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/jetstream_event_log.h"
#include "adapters/cluster/jetstream_log.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/hash.h"
#include "engine/keys.h"
#include "engine/partition_follower.h"
#include "tests/cluster/nats_cluster.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

constexpr int64_t kNowNs = 1'700'000'000'000'000'000;

std::unique_ptr<RocksDbStore> OpenStore(const std::string& dir) {
  StorageOptions so;
  so.data_dir = dir;
  so.block_cache_mb = 8;
  so.write_buffer_mb = 4;
  auto s = RocksDbStore::Open(so, [] { return kNowNs; });
  if (!s.ok()) throw std::runtime_error(s.status().ToString());
  return std::move(s).value();
}

class CountingListener final : public OutboxListener {
 public:
  void OnCommandsDurable(std::vector<DurableCommand>& commands) override { handed += commands.size(); }
  size_t handed = 0;
};

void PollToEnd(PartitionFollower* follower, uint32_t partition) {
  size_t applied = 0;
  do {
    Status s = follower->Poll(partition, 256, &applied);
    ASSERT_TRUE(s.ok()) << s.ToString();
  } while (applied > 0);
}

// Three nats-server processes, the partition log (R3) on them, one connection.
class PartitionHandoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.status().ok()) << cluster_.status().ToString();
    auto conn = NatsConnection::Connect(cluster_.ClientOptions());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    JetStreamLogOptions lo;
    lo.partitions = options_.partitions;
    lo.replicas = 3;
    auto log = JetStreamLog::Open(conn_.get(), lo);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    ASSERT_TRUE(cluster_.WaitStreamCurrent(lo.stream, 3, 30000).ok());
  }

  // The engine's view of the log for an owner of fencing epoch `epoch`.
  std::unique_ptr<JetStreamEventLog> EventLogOfEpoch(uint64_t epoch) {
    JetStreamEventLog::Options o;
    o.epoch = epoch;
    o.read_wait_ms = 100;
    return std::make_unique<JetStreamEventLog>(log_.get(), o);
  }

  const EngineOptions options_ = testing::TestEngineOptions();
  test::NatsCluster cluster_{3};
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> log_;
  testing::TempDir dir_;
};

TEST_F(PartitionHandoverTest, NewOwnerAdoptsTheStoredCheckpointAndReachesTheOldOwnersStateOverJetStream) {
  const EngineOptions& options = options_;
  auto event_log_owner = EventLogOfEpoch(1);
  JetStreamEventLog& event_log = *event_log_owner;
  auto checkpoints = JetStreamCheckpointStore::Open(conn_.get(), JetStreamCheckpointStoreOptions{});
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status().ToString();

  // The events of one partition, as front doors publish them (one record each).
  const auto stream = testing::CrashTestStream(5, 120);
  const uint32_t moved = PartitionOf(stream.front().order_id, options.partitions);
  std::vector<std::pair<std::string, std::string>> events;  // event_id, record
  MilestoneBuilder builder;
  for (const auto& spec : stream) {
    if (PartitionOf(spec.order_id, options.partitions) != moved) continue;
    LogRecordBuilder record;
    record.Begin(kNowNs);
    record.AddEvent(moved, kNowNs, false, builder.Build(spec));
    events.emplace_back(spec.event_id, std::string(record.Finish()));
  }
  ASSERT_GT(events.size(), 20u);
  const size_t half = events.size() / 2;
  auto publish = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      auto ack = log_->PublishEvent(moved, events[i].first, events[i].second);
      ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    }
  };
  publish(0, half);

  auto old_store = OpenStore(dir_.path() + "/old");
  CountingListener old_commands;
  PartitionFollower old_owner(options, old_store.get(), &event_log, /*log_generation=*/0, &old_commands);
  ASSERT_TRUE(old_owner.Adopt(moved, "").ok());
  PollToEnd(&old_owner, moved);
  std::string snapshot;
  PartitionSnapshotInfo info;
  ASSERT_TRUE(old_owner.Checkpoint(moved, &snapshot, &info).ok());
  ASSERT_GT(info.checkpoint.offset, 0u) << "the checkpoint covers a JetStream sequence";
  auto put = (*checkpoints)->Put(moved, /*epoch=*/1, info.checkpoint.offset, snapshot);
  ASSERT_TRUE(put.ok()) << put.status().ToString();

  publish(half, events.size());  // the old owner has not applied these when it hands over

  auto stored = (*checkpoints)->Get(moved);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->covered_seq, info.checkpoint.offset);
  auto new_store = OpenStore(dir_.path() + "/new");
  CountingListener new_commands;
  PartitionFollower new_owner(options, new_store.get(), &event_log, 0, &new_commands);
  ASSERT_TRUE(new_owner.Adopt(moved, stored->blob).ok());
  PollToEnd(&new_owner, moved);
  PollToEnd(&old_owner, moved);  // for comparison: the old owner applies the tail too
  EXPECT_EQ(new_owner.applied(moved), old_owner.applied(moved));

  std::string old_final;
  std::string new_final;
  ASSERT_TRUE(old_owner.Checkpoint(moved, &old_final).ok());
  ASSERT_TRUE(new_owner.Checkpoint(moved, &new_final).ok());
  EXPECT_EQ(new_final, old_final) << "same snapshot + same log = same state";
  EXPECT_GT(new_commands.handed, 0u) << "the tail issues commands on the new owner";
  EXPECT_LE(new_commands.handed, old_commands.handed);
}

class KeepingListener final : public OutboxListener {
 public:
  void OnCommandsDurable(std::vector<DurableCommand>& commands) override {
    for (DurableCommand& c : commands) kept.push_back(std::move(c));
  }
  std::vector<DurableCommand> kept;
};

TEST_F(PartitionHandoverTest, AnswersTheOldOwnerLoggedReachTheNewOwnerAndTheOldOwnerIsFencedOff) {
  const EngineOptions& options = options_;
  auto old_log_owner = EventLogOfEpoch(1);
  auto new_log_owner = EventLogOfEpoch(2);
  JetStreamEventLog& old_log = *old_log_owner;
  JetStreamEventLog& new_log = *new_log_owner;
  const uint32_t partition = PartitionOf("O-FENCE-1", options.partitions);
  MilestoneBuilder builder;
  for (int i = 0; i < 6; ++i) {
    // Orders of the same partition: "O-FENCE-1" and others that hash alike.
    std::string order;
    for (int n = 1;; ++n) {
      order = "O-FENCE-" + std::to_string(i * 1000 + n);
      if (PartitionOf(order, options.partitions) == partition) break;
    }
    LogRecordBuilder record;
    record.Begin(kNowNs);
    const std::string event_id = "ev-" + order;
    record.AddEvent(partition, kNowNs, false, builder.Build(testing::Accepted(order, event_id, {{1, "SKU-A", 2, "EA", 100}})));
    ASSERT_TRUE(log_->PublishEvent(partition, event_id, record.Finish()).ok());
  }

  auto old_store = OpenStore(dir_.path() + "/old");
  KeepingListener dispatched;
  PartitionFollower old_owner(options, old_store.get(), &old_log, 0, &dispatched);
  auto old_stream = old_log.CreateStream(LogStreamId{0, partition});
  ASSERT_TRUE(old_stream.ok()) << old_stream.status().ToString();
  ASSERT_TRUE(old_owner.Adopt(partition, "", std::move(old_stream).value()).ok());
  PollToEnd(&old_owner, partition);
  ASSERT_EQ(dispatched.kept.size(), 6u) << "one sales order per order";
  std::string handed_over;
  ASSERT_TRUE(old_owner.Checkpoint(partition, &handed_over).ok());

  // The ERP answers four of the six; the old owner logs the answers, then loses the
  // partition before its next checkpoint.
  std::vector<CommandNote> notes;
  for (size_t i = 0; i < 4; ++i) {
    CommandNote note;
    note.partition = partition;
    note.outbox_seq = dispatched.kept[i].outbox_seq;
    note.removes_command = true;
    note.at_ns = kNowNs + 1;
    note.attempts = 1;
    note.command = dispatched.kept[i].bytes;
    note.outcome = "Posted";
    note.erp_document_id = "SO-" + std::to_string(i);
    notes.push_back(std::move(note));
  }
  ASSERT_TRUE(old_owner.AppendOwnerInputs(partition, notes, kNowNs + 2).ok());

  auto new_store = OpenStore(dir_.path() + "/new");
  KeepingListener new_dispatched;
  PartitionFollower new_owner(options, new_store.get(), &new_log, 0, &new_dispatched);
  auto new_stream = new_log.CreateStream(LogStreamId{0, partition});
  ASSERT_TRUE(new_stream.ok()) << new_stream.status().ToString();
  ASSERT_TRUE(new_owner.Adopt(partition, handed_over, std::move(new_stream).value()).ok());
  PollToEnd(&new_owner, partition);
  std::string ignored;
  ASSERT_TRUE(new_owner.Checkpoint(partition, &ignored).ok());
  EXPECT_EQ(testing::OutboxCommandsOf(new_store.get(), partition), 2u) << "the four answered commands are gone on the new owner";

  // The new owner logs an answer of its own; from then on the old owner's appends are
  // refused by the server.
  CommandNote mine;
  mine.partition = partition;
  mine.outbox_seq = dispatched.kept[4].outbox_seq;
  mine.removes_command = true;
  mine.at_ns = kNowNs + 3;
  mine.command = dispatched.kept[4].bytes;
  mine.outcome = "Posted";
  ASSERT_TRUE(new_owner.AppendOwnerInputs(partition, {mine}, kNowNs + 4).ok());
  CommandNote stale = mine;
  stale.outbox_seq = dispatched.kept[5].outbox_seq;
  stale.command = dispatched.kept[5].bytes;
  const Status fenced = old_owner.AppendOwnerInputs(partition, {stale}, kNowNs + 5);
  EXPECT_FALSE(fenced.ok()) << "a stale owner's op must be refused";
  PollToEnd(&new_owner, partition);
  ASSERT_TRUE(new_owner.Checkpoint(partition, &ignored).ok());
  EXPECT_EQ(testing::OutboxCommandsOf(new_store.get(), partition), 1u) << "the fenced answer was not logged";
}

}  // namespace
}  // namespace ordersync
