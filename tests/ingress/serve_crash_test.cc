// Crash test through the ingress: a producer (AckClient: window, Lazy Pirate resends)
// streams disordered, duplicated lifecycles into a real `ordersync serve` process, which is
// killed with SIGKILL several times mid-stream and restarted on the same data dir (on a
// new ephemeral port). The producer resends every batch it has no ack for. In the end
// every event must have been answered Accepted or Duplicate, every event_id must be in the
// dedup table, and the outbox must equal that of one uninterrupted in-order run: each
// command exactly once, numbered without gaps.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "adapters/ingress/ack_client.h"
#include "engine/hash.h"
#include "engine/event_lookup.h"
#include "engine/keys.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

constexpr uint64_t kSeed = 777;
constexpr size_t kOrders = 300;
constexpr int kKills = 3;

class ServeProcess {
 public:
  ServeProcess(const std::string& config, const std::string& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execl(ORDERSYNC_BIN, ORDERSYNC_BIN, "--config", config.c_str(), "serve", nullptr);
      _exit(127);
    }
  }
  // The acknowledged endpoint from the log, once serve runs ("" if it never did).
  std::string WaitForEndpoint() {
    const std::regex endpoint("acknowledged endpoint (tcp://[0-9.]+:[0-9]+)");
    for (int i = 0; i < 1200; ++i) {
      std::ifstream in(log_);
      std::stringstream text;
      text << in.rdbuf();
      std::smatch m;
      const std::string s = text.str();
      if (std::regex_search(s, m, endpoint)) return m[1];
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  }
  int Signal(int sig) {
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    return status;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

TEST(IngressCrashTest, ProducerResendingUnackedBatchesGetsEveryEventAppliedOnceAcrossSigkill) {
  testing::TempDir tmp;
  const std::string data = tmp.path() + "/data";
  const std::string config = tmp.path() + "/ordersync.toml";
  std::ofstream(config) << "[engine]\npartitions = 8\nworkers = 2\n"
                        << "[storage]\ndata_dir = \"" << data << "\"\nblock_cache_mb = 8\nwrite_buffer_mb = 4\n"
                        << "[ingress]\nack_endpoint = \"tcp://127.0.0.1:*\"\npull_endpoint = \"\"\n"
                        << "[metrics]\nenabled = false\n[admin]\nendpoint = \"\"\n";

  const std::vector<EnvelopeSpec> stream = testing::CrashTestStream(kSeed, kOrders);
  zmq::context_t context(1);
  auto serve = std::make_unique<ServeProcess>(config, tmp.path() + "/serve0.log");
  std::string endpoint = serve->WaitForEndpoint();
  ASSERT_FALSE(endpoint.empty()) << "serve did not start";

  AckClientOptions options;
  options.endpoint = endpoint;
  options.batch_events = 40;
  options.max_in_flight_batches = 4;
  options.ack_timeout_ms = 3000;
  AckClient client(context, options);
  MilestoneBuilder builder;
  for (size_t i = 0; i < stream.size(); ++i) client.Enqueue(std::string(builder.Build(stream[i])), i);

  std::map<size_t, int> final;  // event index -> status
  std::vector<std::string> wrong;
  auto on_final = [&](const FinalResult& f) {
    final[f.cookie] = static_cast<int>(f.status);
    if (f.status != IngressVerdict::kAccepted && f.status != IngressVerdict::kDuplicate) {
      wrong.push_back(stream[f.cookie].event_id + ": " + std::string(IngressVerdictName(f.status)) + " " + std::string(f.reason));
    }
  };
  int kills = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  while (!client.idle() && std::chrono::steady_clock::now() < deadline) {
    client.Poll(20, on_final);
    // Kill at 1/4, 2/4 and 3/4 of the answers: batches are in flight, some already
    // durable but not acknowledged.
    if (kills < kKills && final.size() >= stream.size() * (kills + 1) / (kKills + 1)) {
      serve->Signal(SIGKILL);
      ++kills;
      serve = std::make_unique<ServeProcess>(config, tmp.path() + "/serve" + std::to_string(kills) + ".log");
      endpoint = serve->WaitForEndpoint();
      ASSERT_FALSE(endpoint.empty()) << "serve did not restart";
      client.Reconnect(endpoint);  // resends every unacknowledged batch
    }
  }
  const int status = serve->Signal(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "serve did not stop cleanly";
  ASSERT_TRUE(client.idle()) << client.outstanding() << " events never answered";
  EXPECT_EQ(kills, kKills);
  EXPECT_EQ(final.size(), stream.size());
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " events not accepted, e.g. " << wrong.front();
  EXPECT_GT(client.stats().batches_resent, 0u) << "no batch was in flight at a kill: the test proved nothing";

  // The store: every event's id recorded (its batch was durable), every command once.
  StorageOptions so;
  so.data_dir = data;
  auto store = RocksDbStore::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::string key, value;
  const int64_t now = SystemClock::Default()->NowNanos();
  for (const EnvelopeSpec& e : stream) {
    bool recorded = false;
    ASSERT_TRUE(EventRecorded(store->get(), 8, e.order_id, e.event_id, now, &recorded).ok());
    ASSERT_TRUE(recorded) << "event " << e.event_id << " not in state";
  }
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> got, want;
  std::set<std::string> ids;
  for (auto it = (*store)->NewIterator(Table::kOutbox, "", ""); it->Valid(); it->Next()) {
    value.assign(it->value());
    const auto* c = GetErpCommand(value.data());
    EXPECT_TRUE(ids.insert(c->command_id()->str()).second) << "command twice: " << c->command_id()->str();
    got[c->order_id()->str()].emplace_back(c->order_cmd_seq(), c->command_id()->str());
  }
  store->reset();
  testing::EngineHarness reference;
  reference.SendAll(InOrder(testing::CrashTestOrders(kSeed, kOrders)));
  for (const auto& c : reference.Outbox()) want[c.order_id].emplace_back(c.order_cmd_seq, c.command_id);
  for (auto& [order, list] : got) std::sort(list.begin(), list.end());
  for (auto& [order, list] : want) std::sort(list.begin(), list.end());
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace ordersync
