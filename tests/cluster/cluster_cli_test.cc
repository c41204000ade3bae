// `ordersync cluster status|drain|undrain` (the real binary) against a real etcd, with
// two OwnershipManagers in this process acting as the cluster's nodes, and status's log
// columns against a real nats-server holding a log and checkpoints.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/jetstream_log.h"
#include "adapters/cluster/ownership_manager.h"
#include "tests/cluster/etcd_process.h"
#include "tests/cluster/nats_cluster.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

CliRun Ordersync(const std::string& args) {
  CliRun r;
  const std::string cmd = std::string(ORDERSYNC_BIN) + " " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Confirms every stop at once.
class AutoStop : public OwnershipListener {
 public:
  void OnAcquired(uint32_t, int64_t) override {}
  void OnMustStop(uint32_t p, int64_t, StopReason) override { manager->ConfirmStopped(p); }
  OwnershipManager* manager = nullptr;
};

class ClusterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.Start().ok());
    config_ = etcd_.data_dir() + "/ordersync.toml";
    std::ofstream(config_) << "[engine]\npartitions = 8\n[cluster]\nname = \"cli\"\netcd_endpoints = [\""
                           << etcd_.client_url() << "\"]\n";
  }

  std::unique_ptr<OwnershipManager> StartNode(const std::string& id, AutoStop* listener) {
    OwnershipManagerOptions o;
    o.partitions = 8;
    o.cluster.etcd_endpoints = {etcd_.client_url()};
    o.cluster.name = "cli";
    o.cluster.node_id = id;
    o.cluster.lease_ttl_s = 2;
    o.cluster.safety_margin_ms = 700;
    o.cluster.request_timeout_ms = 400;
    o.cluster.poll_interval_ms = 100;
    o.ingress = "tcp://" + id;
    auto m = std::make_unique<OwnershipManager>(o, listener);
    listener->manager = m.get();
    EXPECT_TRUE(m->Start().ok());
    return m;
  }

  nlohmann::json Status() {
    CliRun r = Ordersync("--config " + config_ + " cluster status --json");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  bool WaitForStatus(const std::function<bool(const nlohmann::json&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(Status())) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  EtcdProcess etcd_;
  std::string config_;
};

TEST_F(ClusterCliTest, StatusJsonShowsMembersOwnersEpochsAndDrainMovesPartitions) {
  const nlohmann::json empty = Status();
  EXPECT_EQ(empty["cluster"], "cli");
  EXPECT_EQ(empty["partitions"], 8);
  EXPECT_TRUE(empty["members"].empty());
  EXPECT_EQ(empty["unowned"].size(), 8u);

  AutoStop la, lb;
  auto a = StartNode("a", &la);
  auto b = StartNode("b", &lb);
  ASSERT_TRUE(WaitForStatus([](const nlohmann::json& s) { return s["unowned"].empty() && s["moving"].empty(); }));
  nlohmann::json s = Status();
  ASSERT_EQ(s["members"].size(), 2u);
  EXPECT_EQ(s["members"][0]["node_id"], "a");
  EXPECT_EQ(s["members"][0]["ingress"], "tcp://a");
  EXPECT_EQ(s["members"][0]["draining"], false);
  EXPECT_EQ(s["members"][0]["owned"].get<int>() + s["members"][1]["owned"].get<int>(), 8);
  for (const auto& o : s["owners"]) {
    EXPECT_EQ(o["node_id"], o["assigned"]);
    EXPECT_GT(o["epoch"].get<int64_t>(), 0);
    EXPECT_EQ(a->GetSnapshot().owned.count(o["partition"]) + b->GetSnapshot().owned.count(o["partition"]), 1u);
  }
  // The text form says the same in words.
  CliRun text = Ordersync("--config " + config_ + " cluster status");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("members (2)"));
  EXPECT_THAT(text.out, HasSubstr("unowned: 0"));

  CliRun drain = Ordersync("--config " + config_ + " cluster drain b");
  EXPECT_EQ(drain.exit_code, 0) << drain.out;
  EXPECT_THAT(drain.out, HasSubstr("node b marked draining"));
  ASSERT_TRUE(WaitForStatus([](const nlohmann::json& s) {
    return s["unowned"].empty() && s["moving"].empty() && s["members"][1]["owned"] == 0;
  }));
  s = Status();
  EXPECT_EQ(s["members"][1]["draining"], true);
  EXPECT_EQ(s["draining"][0]["node_id"], "b");
  EXPECT_EQ(s["members"][0]["owned"], 8);
  EXPECT_TRUE(b->GetSnapshot().owned.empty());

  CliRun undrain = Ordersync("--config " + config_ + " cluster undrain b");
  EXPECT_EQ(undrain.exit_code, 0) << undrain.out;
  ASSERT_TRUE(WaitForStatus([](const nlohmann::json& s) {
    return s["unowned"].empty() && s["moving"].empty() && s["members"][1]["owned"] > 0;
  }));
  EXPECT_TRUE(Status()["draining"].empty());
  b->Stop();
  a->Stop();
}

TEST_F(ClusterCliTest, UnreachableEtcdIsAClearErrorAndUsageErrorsAreCaught) {
  const std::string dead = "http://127.0.0.1:" + std::to_string(EtcdProcess::FreePort());
  CliRun r = Ordersync("--config " + config_ + " cluster status --etcd " + dead);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("etcd unreachable"));
  EXPECT_THAT(r.out, HasSubstr(dead));
  // --etcd is repeatable, and the request fails over from the dead endpoint to the live one.
  r = Ordersync("--config " + config_ + " cluster drain x --etcd " + dead + " --etcd " + etcd_.client_url());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("node x marked draining (it is not a running member"));
  r = Ordersync("--config " + config_ + " cluster undrain x");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = Ordersync("--config " + config_ + " cluster drain 'a/b'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("may use only"));
  r = Ordersync("cluster drain");
  EXPECT_EQ(r.exit_code, 2);
  r = Ordersync("cluster --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("drain"));
  EXPECT_THAT(r.out, HasSubstr("undrain"));
  r = Ordersync("--config " + config_ + " cluster status --nats");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = Ordersync("--config " + config_ + " config show");
  EXPECT_THAT(r.out, HasSubstr("[cluster]"));
  EXPECT_THAT(r.out, HasSubstr("lease_ttl_s = 6"));
}

TEST_F(ClusterCliTest, StatusShowsEachPartitionsLastLogSequenceCheckpointAndLagFromNats) {
  test::NatsCluster nats(1);
  ASSERT_TRUE(nats.status().ok()) << nats.status().ToString();
  auto conn = std::move(NatsConnection::Connect(nats.ClientOptions())).value();
  JetStreamLogOptions lo;
  lo.partitions = 8;
  lo.replicas = 1;
  auto log = std::move(JetStreamLog::Open(conn.get(), lo)).value();
  JetStreamCheckpointStoreOptions co;
  co.replicas = 1;
  auto checkpoints = std::move(JetStreamCheckpointStore::Open(conn.get(), co)).value();
  // Partition 2: three events, a checkpoint covering the first; partition 5: one event, no
  // checkpoint; the others: nothing.
  std::vector<uint64_t> seq2;
  for (const char* id : {"e1", "e2", "e3"}) seq2.push_back(log->PublishEvent(2, id, "record").value().sequence);
  const uint64_t seq5 = log->PublishEvent(5, "e4", "record").value().sequence;
  ASSERT_TRUE(checkpoints->Put(2, 7, seq2[0], "state").ok());
  // An owner so that the etcd part is not empty.
  AutoStop la;
  auto a = StartNode("a", &la);
  ASSERT_TRUE(WaitForStatus([](const nlohmann::json& s) { return s["unowned"].empty(); }));

  const std::string nats_option = " --nats " + nats.url(0);
  CliRun r = Ordersync("--config " + config_ + " cluster status --json" + nats_option);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json s = nlohmann::json::parse(r.out);
  EXPECT_TRUE(s["log"]["error"].is_null()) << s["log"].dump();
  EXPECT_EQ(s["log"]["stream"], "ORDERSYNC");
  EXPECT_EQ(s["log"]["nats_urls"][0], nats.url(0));
  const nlohmann::json& p2 = s["owners"][2];
  EXPECT_EQ(p2["log_last_sequence"], seq2[2]);
  EXPECT_EQ(p2["checkpoint_covered_sequence"], seq2[0]);
  EXPECT_EQ(p2["checkpoint_epoch"], 7);
  EXPECT_EQ(p2["lag"], seq2[2] - seq2[0]);
  const nlohmann::json& p5 = s["owners"][5];
  EXPECT_EQ(p5["log_last_sequence"], seq5);
  EXPECT_EQ(p5["checkpoint_covered_sequence"], 0);
  EXPECT_TRUE(p5["checkpoint_epoch"].is_null());
  EXPECT_EQ(p5["lag"], seq5);
  EXPECT_EQ(s["owners"][0]["log_last_sequence"], 0);
  EXPECT_EQ(s["owners"][0]["lag"], 0);
  EXPECT_EQ(s["owners"][2]["node_id"], "a");  // the etcd part as before

  // The text form: the header says what LAG means; partition 2's row has its numbers.
  r = Ordersync("--config " + config_ + " cluster status" + nats_option);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("LAG = LAST - COVERED: records not yet in a checkpoint"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\n +2 +a +[0-9]+ +a +" + std::to_string(seq2[2]) + " +" +
                                              std::to_string(seq2[0]) + " +" + std::to_string(seq2[2] - seq2[0]) +
                                              "\n"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("\n +5 +a +[0-9]+ +a +" + std::to_string(seq5) + " +none +" +
                                              std::to_string(seq5) + "\n"));

  // NATS unreachable: the etcd part still prints (exit 0), the log columns say why not.
  const std::string dead = "nats://127.0.0.1:" + std::to_string(EtcdProcess::FreePort());
  r = Ordersync("--config " + config_ + " cluster status --json --nats " + dead);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["owners"][2]["node_id"], "a");
  EXPECT_TRUE(s["owners"][2]["lag"].is_null());
  EXPECT_THAT(s["log"]["error"].get<std::string>(), HasSubstr("No server available"));
  r = Ordersync("--config " + config_ + " cluster status --nats " + dead);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("LAST, COVERED and LAG unknown: "));
  EXPECT_THAT(r.out, HasSubstr("unowned: 0"));
  a->Stop();
}

}  // namespace
}  // namespace ordersync
