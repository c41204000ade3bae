// ClusterCollector on a real ClusterNode: one node on a real nats-server and a real etcd
// owns every partition and applies the events a front door publishes; a scrape then has
// every cluster family with the values the node and the log say, passes the real
// `promtool check metrics`, and a NATS outage shows as disconnected and a failed lag
// sample (the previous sample is kept, its timestamp unchanged).
#include "adapters/metrics/cluster_collector.h"

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/metrics/prom_text.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/hash.h"
#include "engine/log_record.h"
#include "tests/cluster/etcd_process.h"
#include "tests/cluster/nats_cluster.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr uint32_t kPartitions = 4;

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// The dispatcher's side, reduced to what the node needs: every partition may dispatch;
// commands stay in the outbox (the metrics under test do not depend on answers).
class IdleHost final : public OutboxListener, public PartitionHost {
 public:
  void OnCommandsDurable(std::vector<DurableCommand>& commands) override { commands.clear(); }
  Status OnPartitionAdopted(uint32_t, int64_t) override { return Status::OK(); }
  void OnPartitionReleased(uint32_t) override {}
};

std::string Serialize(const prometheus::Collectable& c) { return prometheus::TextSerializer().Serialize(c.Collect()); }

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) output->append(buf, n);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ClusterMetricsTest, ScrapeOfARunningNodeHasOwnershipRestoreCheckpointAndLagFamiliesAndPassesPromtool) {
  test::NatsCluster nats(1);
  ASSERT_TRUE(nats.status().ok()) << nats.status().ToString();
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.Start().ok());
  testing::TempDir dir;

  StorageOptions so;
  so.data_dir = dir.path() + "/node";
  so.block_cache_mb = 8;
  so.write_buffer_mb = 4;
  auto store = std::move(RocksDbStore::Open(so, [] { return WallNs(); })).value();
  NatsOptions no = nats.ClientOptions();
  no.request_timeout_ms = 1000;  // the outage below fails a sample after 1 s
  auto conn = std::move(NatsConnection::Connect(no)).value();
  JetStreamLogOptions lo;
  lo.partitions = kPartitions;
  lo.replicas = 1;
  auto log = std::move(JetStreamLog::Open(conn.get(), lo)).value();
  JetStreamCheckpointStoreOptions co;
  co.replicas = 1;
  auto checkpoints = std::move(JetStreamCheckpointStore::Open(conn.get(), co)).value();

  ClusterNodeOptions o;
  o.engine = testing::TestEngineOptions();
  o.engine.partitions = kPartitions;
  o.ownership.cluster.etcd_endpoints = {etcd.client_url()};
  o.ownership.cluster.name = "metrics-test";
  o.ownership.cluster.node_id = "m1";
  o.ownership.cluster.lease_ttl_s = 2;
  o.ownership.cluster.safety_margin_ms = 700;
  o.ownership.cluster.poll_interval_ms = 100;
  o.checkpoint_interval_ms = 200;
  IdleHost host;
  ClusterNode node(o, store.get(), log.get(), checkpoints.get(), &host, &host);
  auto collector = std::make_shared<ClusterCollector>(&node, log.get(), kPartitions);

  // Before the node runs: registered 0, nothing owned, no lag sample yet.
  PromSamples before = std::move(ParsePromText(Serialize(*collector))).value();
  EXPECT_EQ(before.Sum("ordersync_cluster_registered"), 0);
  EXPECT_EQ(before.Sum("ordersync_cluster_partitions"), kPartitions);
  EXPECT_EQ(before.Sum("ordersync_cluster_partitions_owned"), 0);
  EXPECT_EQ(before.Sum("ordersync_cluster_lag_sample_timestamp_seconds"), 0);
  EXPECT_EQ(before.Sum("ordersync_cluster_nats_connected"), 1);

  ASSERT_TRUE(node.Start().ok());
  ASSERT_TRUE(WaitFor([&] {
    size_t dispatching = 0;
    for (const auto& p : node.Partitions()) dispatching += p.dispatching ? 1 : 0;
    return dispatching == kPartitions;
  })) << "the node did not take every partition";

  // A front door publishes events of 20 orders.
  MilestoneBuilder builder;
  const auto stream = testing::CrashTestStream(3, 20);
  for (const auto& spec : stream) {
    const uint32_t p = PartitionOf(spec.order_id, kPartitions);
    LogRecordBuilder record;
    record.Begin(WallNs());
    record.AddEvent(p, WallNs(), false, builder.Build(spec));
    ASSERT_TRUE(log->PublishEvent(p, spec.event_id, std::string(record.Finish())).ok());
  }
  // Caught up: every partition applied its log's last message, and was checkpointed since.
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& p : node.Partitions()) {
      auto last = log->LastSequence(p.partition);
      if (!last.ok() || p.applied_sequence != *last || p.checkpoint_sequence != *last) return false;
    }
    return node.GetStats().records_applied > 0;  // (the stream re-sends some events: deduplicated)
  })) << [&] {
    std::string why = "the node did not apply and checkpoint the events:";
    for (const auto& p : node.Partitions()) {
      why += " p" + std::to_string(p.partition) + " applied " + std::to_string(p.applied_sequence) + " checkpoint " +
             std::to_string(p.checkpoint_sequence) + " last " + std::to_string(log->LastSequence(p.partition).value());
    }
    return why + " records_applied " + std::to_string(node.GetStats().records_applied);
  }();

  ASSERT_TRUE(collector->SampleOnce().ok());
  const std::string body = Serialize(*collector);
  PromSamples s = std::move(ParsePromText(body)).value();
  const ClusterNode::Stats stats = node.GetStats();
  EXPECT_EQ(s.Sum("ordersync_cluster_registered"), 1);
  EXPECT_GT(s.Sum("ordersync_cluster_lease_valid_seconds"), 0);
  EXPECT_LE(s.Sum("ordersync_cluster_lease_valid_seconds"), 2);  // the TTL
  EXPECT_GE(s.Sum("ordersync_cluster_lease_renewals_total"), 0);
  EXPECT_EQ(s.Sum("ordersync_cluster_leases_abandoned_total"), 0);
  EXPECT_EQ(s.Sum("ordersync_cluster_nats_connected"), 1);
  EXPECT_EQ(s.Sum("ordersync_cluster_partitions_owned"), kPartitions);
  EXPECT_EQ(s.Sum("ordersync_cluster_partitions_dispatching"), kPartitions);
  EXPECT_EQ(s.Sum("ordersync_cluster_ownership_changes_total", {{"change", "acquired"}}), kPartitions);
  EXPECT_EQ(s.Sum("ordersync_cluster_ownership_changes_total", {{"change", "stopped"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_cluster_ownership_changes_total", {{"change", "fenced"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_cluster_restore_max_seconds"), static_cast<double>(stats.max_restore_ms) / 1000.0);
  EXPECT_LE(s.Sum("ordersync_cluster_restore_last_seconds"), s.Sum("ordersync_cluster_restore_max_seconds"));
  EXPECT_EQ(s.Sum("ordersync_cluster_records_applied_total"), static_cast<double>(stats.records_applied));
  EXPECT_GT(stats.records_applied, 20u);
  EXPECT_GE(s.Sum("ordersync_cluster_checkpoints_total", {{"result", "stored"}}), kPartitions);
  EXPECT_EQ(s.Sum("ordersync_cluster_checkpoints_total", {{"result", "failed"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_cluster_restore_failures_total"), 0);
  EXPECT_TRUE(s.Has("ordersync_cluster_notes_total"));
  // Lag: one sample per owned partition, 0 everywhere (caught up), sampled just now.
  EXPECT_EQ(s.LabelValues("ordersync_cluster_log_lag_messages", "partition"),
            (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(s.Sum("ordersync_cluster_log_lag_messages"), 0);
  const double sampled_at = s.Sum("ordersync_cluster_lag_sample_timestamp_seconds");
  EXPECT_NEAR(sampled_at, static_cast<double>(WallNs()) / 1e9, 60);
  EXPECT_EQ(s.Sum("ordersync_cluster_lag_sample_errors_total"), 0);
  EXPECT_THAT(body, HasSubstr("# TYPE ordersync_cluster_ownership_changes_total counter"));
  EXPECT_THAT(body, HasSubstr("# TYPE ordersync_cluster_log_lag_messages gauge"));

  // The real promtool lint finds nothing.
  const std::string path = dir.path() + "/cluster_metrics.txt";
  std::ofstream(path) << body;
  std::string findings;
  EXPECT_EQ(RunCommand(std::string(PROMTOOL) + " check metrics < " + path, &findings), 0) << findings;
  EXPECT_EQ(findings, "") << "promtool findings:\n" << findings;

  // NATS goes away: the connection gauge says so, a sample fails (counted) and the last
  // good sample stays with its timestamp, so staleness is visible.
  nats.Kill(0);
  ASSERT_TRUE(WaitFor([&] { return !conn->connected(); }, 10s));
  EXPECT_FALSE(collector->SampleOnce().ok());
  PromSamples down = std::move(ParsePromText(Serialize(*collector))).value();
  EXPECT_EQ(down.Sum("ordersync_cluster_nats_connected"), 0);
  EXPECT_EQ(down.Sum("ordersync_cluster_lag_sample_errors_total"), 1);
  EXPECT_EQ(down.Sum("ordersync_cluster_lag_sample_timestamp_seconds"), sampled_at);
  collector->Stop();
  ASSERT_TRUE(nats.Restart(0).ok());  // lets the node hand over cleanly
  node.Stop();
}

TEST(ClusterMetricsTest, SamplerThreadSamplesAtStartAndStopWakesIt) {
  test::NatsCluster nats(1);
  ASSERT_TRUE(nats.status().ok()) << nats.status().ToString();
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.Start().ok());
  testing::TempDir dir;
  StorageOptions so;
  so.data_dir = dir.path() + "/node";
  auto store = std::move(RocksDbStore::Open(so, [] { return WallNs(); })).value();
  auto conn = std::move(NatsConnection::Connect(nats.ClientOptions())).value();
  JetStreamLogOptions lo;
  lo.partitions = kPartitions;
  lo.replicas = 1;
  auto log = std::move(JetStreamLog::Open(conn.get(), lo)).value();
  JetStreamCheckpointStoreOptions co;
  co.replicas = 1;
  auto checkpoints = std::move(JetStreamCheckpointStore::Open(conn.get(), co)).value();
  ClusterNodeOptions o;
  o.engine = testing::TestEngineOptions();
  o.engine.partitions = kPartitions;
  o.ownership.cluster.etcd_endpoints = {etcd.client_url()};
  o.ownership.cluster.name = "metrics-sampler";
  o.ownership.cluster.node_id = "m1";
  o.ownership.cluster.lease_ttl_s = 2;
  o.ownership.cluster.safety_margin_ms = 700;
  o.ownership.cluster.poll_interval_ms = 100;
  IdleHost host;
  ClusterNode node(o, store.get(), log.get(), checkpoints.get(), &host, &host);
  ASSERT_TRUE(node.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return node.Partitions().size() == kPartitions; }));

  ClusterCollectorOptions options;
  options.lag_sample_interval_ms = 3600 * 1000;  // only the first sample, at Start
  ClusterCollector collector(&node, log.get(), kPartitions, options);
  collector.Start();
  ASSERT_TRUE(WaitFor([&] {
    auto s = ParsePromText(Serialize(collector));
    return s.ok() && s->Sum("ordersync_cluster_lag_sample_timestamp_seconds") > 0;
  }, 10s));
  collector.Stop();  // wakes the sampler: were it to wait out the hour, the test would time out
  node.Stop();
}

}  // namespace
}  // namespace ordersync
