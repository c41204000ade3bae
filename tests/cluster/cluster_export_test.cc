// `ordersync cluster export-state` (the real binary) against three real nats-server
// processes: events published as front doors publish them, one partition with a stored
// checkpoint and a log tail after it, the others with a log only; the exported store holds
// every event's order, and a non-empty directory or unreachable NATS is refused.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/jetstream_event_log.h"
#include "adapters/cluster/jetstream_log.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/event_lookup.h"
#include "engine/hash.h"
#include "engine/partition_follower.h"
#include "tests/cluster/nats_cluster.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout (stderr separately below)
  std::string err;
};

CliRun Ordersync(const std::string& args, const std::string& err_file) {
  CliRun r;
  const std::string cmd = std::string(ORDERSYNC_BIN) + " " + args + " 2>" + err_file;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(ClusterExportStateTest, RefusesUnreachableNatsWithExitOne) {
  testing::TempDir dir;
  const std::string config = dir.path() + "/ordersync.toml";
  std::ofstream(config) << "[cluster]\nnats_urls = [\"nats://127.0.0.1:1\"]\n";
  CliRun r = Ordersync("--config " + config + " cluster export-state --data-dir " + dir.path() + "/out",
                       dir.path() + "/err");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot connect to NATS"));
}

TEST(ClusterExportStateTest, ExportsTheCheckpointPlusTheLogTailOfEveryPartitionIntoANewStore) {
  test::NatsCluster cluster(3);
  ASSERT_TRUE(cluster.status().ok()) << cluster.status().ToString();
  auto conn = NatsConnection::Connect(cluster.ClientOptions());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  const EngineOptions options = testing::TestEngineOptions();
  JetStreamLogOptions lo;  // the defaults serve's cluster mode uses: ORDERSYNC, ordersync.*
  lo.partitions = options.partitions;
  lo.replicas = 3;
  auto log = JetStreamLog::Open(conn->get(), lo);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  JetStreamCheckpointStoreOptions co;  // as ClusterRuntime names them from the defaults
  co.chunk_stream = "ORDERSYNC_CKPT";
  co.bucket = "ordersync_checkpoints";
  auto checkpoints = JetStreamCheckpointStore::Open(conn->get(), co);
  ASSERT_TRUE(checkpoints.ok()) << checkpoints.status().ToString();

  // Events of several orders, one record each, as front doors publish them.
  const std::vector<EnvelopeSpec> stream = testing::CrashTestStream(11, 12);
  ASSERT_GT(stream.size(), 20u);
  MilestoneBuilder builder;
  const int64_t now = WallNs();
  auto publish = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const uint32_t p = PartitionOf(stream[i].order_id, options.partitions);
      LogRecordBuilder record;
      record.Begin(now);
      record.AddEvent(p, now, false, builder.Build(stream[i]));
      auto ack = (*log)->PublishEvent(p, stream[i].event_id, record.Finish());
      ASSERT_TRUE(ack.ok()) << ack.status().ToString();
    }
  };
  const size_t half = stream.size() / 2;
  publish(0, half);

  // An owner of one partition checkpoints it (epoch 7) after the first half.
  testing::TempDir dir;
  const uint32_t owned = PartitionOf(stream.front().order_id, options.partitions);
  {
    StorageOptions so;
    so.data_dir = dir.path() + "/owner";
    auto owner_store = RocksDbStore::Open(so);
    ASSERT_TRUE(owner_store.ok());
    JetStreamEventLog::Options ro;
    ro.read_wait_ms = 100;
    JetStreamEventLog event_log(log->get(), ro);
    PartitionFollower owner(options, owner_store->get(), &event_log, 0, nullptr);
    ASSERT_TRUE(owner.Adopt(owned, "").ok());
    size_t applied = 0;
    do {
      ASSERT_TRUE(owner.Poll(owned, 256, &applied).ok());
    } while (applied > 0);
    std::string snapshot;
    PartitionSnapshotInfo info;
    ASSERT_TRUE(owner.Checkpoint(owned, &snapshot, &info).ok());
    ASSERT_TRUE((*checkpoints)->Put(owned, 7, info.checkpoint.offset, snapshot).ok());
  }
  publish(half, stream.size());  // the tail after the checkpoint, and the others' logs

  const std::string config = dir.path() + "/ordersync.toml";
  std::ofstream(config) << "[engine]\npartitions = " << options.partitions << "\n[cluster]\nnats_urls = [\""
                        << cluster.url(0) << "\", \"" << cluster.url(1) << "\"]\nreplicas = 3\n";
  const std::string out_dir = dir.path() + "/export";
  CliRun r = Ordersync("--config " + config + " cluster export-state --json --data-dir " + out_dir,
                       dir.path() + "/err");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["partitions_with_checkpoint"], 1);
  const nlohmann::json& p = j["partitions"][owned];
  EXPECT_EQ(p["checkpoint"]["epoch"], 7);
  EXPECT_GT(p["tail_records"].get<uint64_t>(), 0u) << "the second half of the owned partition's events";
  EXPECT_EQ(j["malformed_skipped"], 0);

  {
    StorageOptions so;
    so.data_dir = out_dir;
    auto exported = RocksDbStore::OpenReadOnly(so);
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    std::set<std::string> orders;
    for (const EnvelopeSpec& e : stream) {
      bool recorded = false;
      ASSERT_TRUE(EventRecorded(exported->get(), options.partitions, e.order_id, e.event_id, WallNs(), &recorded).ok());
      EXPECT_TRUE(recorded) << e.event_id << " of " << e.order_id;
      orders.insert(e.order_id);
    }
    EXPECT_GT(orders.size(), 5u);
  }

  // Into a store that exists: refused, nothing touched.
  CliRun again = Ordersync("--config " + config + " cluster export-state --data-dir " + out_dir, dir.path() + "/err");
  EXPECT_EQ(again.exit_code, 2) << again.out << again.err;
  EXPECT_THAT(again.err, HasSubstr("is not empty"));
}

}  // namespace
}  // namespace ordersync
