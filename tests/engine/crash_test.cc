// Crash test: a child process runs the engine on a RocksDB directory and is killed with
// SIGKILL at random points mid-stream, several times, then restarted to finish. Every
// event the child reported durable must be in the store after each crash, and the final
// outbox must hold each expected command exactly once, numbered without gaps.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "adapters/producer/lifecycle_generator.h"
#include "engine/hash.h"
#include "engine/event_lookup.h"
#include "engine/keys.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

constexpr uint64_t kSeed = 424242;
constexpr size_t kOrders = 400;
constexpr int kCrashes = 6;

struct ChildRun {
  pid_t pid = -1;
  FILE* out = nullptr;
};

ChildRun StartChild(const std::string& dir, size_t start) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::string seed = std::to_string(kSeed), orders = std::to_string(kOrders), from = std::to_string(start);
    execl(ENGINE_CRASH_CHILD, ENGINE_CRASH_CHILD, dir.c_str(), seed.c_str(), orders.c_str(), from.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  return ChildRun{pid, fdopen(fds[0], "r")};
}

// Reads ack lines into `acked` until `limit` lines were read or the child says DONE.
// Returns true on DONE.
bool ReadAcks(ChildRun& run, size_t limit, std::map<size_t, int>* acked) {
  char line[128];
  for (size_t n = 0; n < limit && std::fgets(line, sizeof(line), run.out) != nullptr; ++n) {
    if (std::string(line) == "DONE\n") return true;
    unsigned long long index = 0;
    int outcome = 0;
    if (std::sscanf(line, "%llu %d", &index, &outcome) == 2) (*acked)[index] = outcome;
  }
  return false;
}

void Finish(ChildRun& run, bool kill_it) {
  if (kill_it) kill(run.pid, SIGKILL);
  int status = 0;
  waitpid(run.pid, &status, 0);
  std::fclose(run.out);
}

// Every acknowledged event left its event_id in its order's record (EventRecorded), in
// the same batch as its effects: so its presence proves the whole batch survived.
void ExpectAckedEventsDurable(const std::string& dir, const std::vector<EnvelopeSpec>& stream,
                              const std::map<size_t, int>& acked) {
  StorageOptions so;
  so.data_dir = dir;
  auto store = RocksDbStore::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const uint32_t partitions = testing::TestEngineOptions().partitions;
  const int64_t now = SystemClock::Default()->NowNanos();
  for (const auto& [index, outcome] : acked) {
    const EnvelopeSpec& e = stream[index];
    bool recorded = false;
    ASSERT_TRUE(EventRecorded(store->get(), partitions, e.order_id, e.event_id, now, &recorded).ok());
    ASSERT_TRUE(recorded) << "acked event " << e.event_id << " (outcome " << outcome << ") lost after SIGKILL";
  }
}

TEST(EngineCrashTest, AcknowledgedEventsSurviveSigkillAndCommandsAreNotDoubled) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/db";
  const std::vector<EnvelopeSpec> stream = testing::CrashTestStream(kSeed, kOrders);
  std::mt19937_64 rng(99);
  std::map<size_t, int> acked;
  int crashes = 0;
  bool done = false;
  while (!done) {
    size_t start = 0;
    while (acked.count(start) != 0) ++start;  // resend from the first unacknowledged event
    ChildRun run = StartChild(dir, start);
    if (crashes < kCrashes) {
      size_t limit = std::uniform_int_distribution<size_t>(50, stream.size() / kCrashes)(rng);
      done = ReadAcks(run, limit, &acked);
      Finish(run, /*kill_it=*/!done);
      if (!done) {
        ++crashes;
        ExpectAckedEventsDurable(dir, stream, acked);
        if (HasFatalFailure()) return;
      }
    } else {
      done = ReadAcks(run, SIZE_MAX, &acked);
      Finish(run, /*kill_it=*/false);
      ASSERT_TRUE(done) << "final run did not finish";
    }
  }
  EXPECT_EQ(crashes, kCrashes);
  EXPECT_EQ(acked.size(), stream.size());

  // The outbox equals the outbox of an uninterrupted in-order run: each command once.
  testing::EngineHarness reference;
  std::vector<GeneratedOrder> orders = testing::CrashTestOrders(kSeed, kOrders);
  reference.SendAll(InOrder(orders));
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> want, got;
  for (const auto& c : reference.Outbox()) want[c.order_id].emplace_back(c.order_cmd_seq, c.command_id);

  StorageOptions so;
  so.data_dir = dir;
  auto store = RocksDbStore::Open(so);
  ASSERT_TRUE(store.ok());
  std::set<std::string> ids;
  std::string value;
  for (auto it = (*store)->NewIterator(Table::kOutbox, "", ""); it->Valid(); it->Next()) {
    value.assign(it->value());
    const auto* c = GetErpCommand(value.data());
    EXPECT_TRUE(ids.insert(c->command_id()->str()).second) << "command twice: " << c->command_id()->str();
    got[c->order_id()->str()].emplace_back(c->order_cmd_seq(), c->command_id()->str());
  }
  for (auto& [order, list] : got) std::sort(list.begin(), list.end());
  for (auto& [order, list] : want) std::sort(list.begin(), list.end());
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace ordersync
