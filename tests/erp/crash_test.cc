// The outbox survives kill -9 of the engine with commands in flight: a child process
// (erp_feeder) runs engine + dispatcher on a data dir and posts to an in-process ERP
// simulator; the test SIGKILLs it mid-stream, restarts it on the same directory, and
// checks that the ERP saw every command posted exactly once, in per-order sequence,
// however often it was delivered.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include <gtest/gtest.h>

#include "tests/erp/fanout_fixture.h"

namespace ordersync::testing {
namespace {

constexpr size_t kOrders = 300;
constexpr uint64_t kSeed = 11;

pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The commands the engine issues for the feeder's stream, from a plain engine run.
std::set<std::string> ExpectedCommandIds() {
  EngineHarness h;
  h.SendAll(FeederChunk(kSeed, "SO-", kOrders, 0));
  std::set<std::string> ids;
  for (const OutboxCommand& c : h.Outbox()) ids.insert(c.command_id);
  return ids;
}

TEST(ErpCrashTest, OutboxSurvivesKill9WithCommandsInFlight) {
  const std::set<std::string> expected = ExpectedCommandIds();
  ASSERT_GT(expected.size(), kOrders);

  ErpSimOptions so;
  so.endpoint = "tcp://127.0.0.1:*";
  so.latency = "uniform";
  so.latency_us = 2000;      // keeps commands in flight
  so.ambiguous_rate = 0.02;  // some posted commands never get their answer
  auto sim = ErpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  TempDir dir;
  const std::vector<std::string> base = {ERP_FEEDER, "--data-dir", dir.path() + "/db", "--erp", (*sim)->endpoint(),
                                         "--orders", std::to_string(kOrders), "--seed", std::to_string(kSeed)};

  pid_t child = Spawn(base);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(FanOut::WaitFor([&] { return (*sim)->Summary().postings >= expected.size() / 3; },
                              std::chrono::seconds(60)));
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  const uint64_t posted_at_kill = (*sim)->Summary().postings;
  ASSERT_LT(posted_at_kill, expected.size()) << "the child finished before it was killed";

  // Restart on the same directory; the stream is fed again (duplicates are absorbed).
  std::vector<std::string> again = base;
  again.push_back("--exit-when-drained");
  child = Spawn(again);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(FanOut::WaitFor(
      [&] {
        int st = 0;
        if (waitpid(child, &st, WNOHANG) != child) return false;
        status = st;
        return true;
      },
      std::chrono::seconds(90)));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  const ErpSimSummary s = (*sim)->Summary();
  std::set<std::string> posted;
  for (const ErpPosting& p : (*sim)->Ledger()) {
    EXPECT_TRUE(posted.insert(p.command_id).second) << "posted twice: " << p.command_id;
  }
  EXPECT_EQ(posted, expected);
  EXPECT_EQ(s.out_of_order_arrivals, 0u);
  EXPECT_EQ(s.sequence_gaps, 0u);
  // Re-deliveries after the crash (and after lost answers) were answered AlreadyPosted.
  RecordProperty("duplicates_received", static_cast<int>(s.duplicates_received));
  std::cout << "posted " << s.postings << " (" << posted_at_kill << " before kill -9), duplicates received "
            << s.duplicates_received << ", ambiguous " << s.ambiguous_injected << "\n";
}

}  // namespace
}  // namespace ordersync::testing
