// Crash tests: a child process runs the engine on a data directory (RocksDB checkpoints
// and the event log) and is killed with SIGKILL — at random points mid-stream, at each
// failpoint of the commit protocol (engine/failpoint.h), and after a simulated power loss
// that drops every log byte not fdatasync'ed — then restarted to finish. Every event the
// child reported durable must be in the state recovered after each crash, and the final
// outbox must hold each expected command exactly once, numbered without gaps. Replaying
// the same log twice must give byte-identical checkpoints.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "adapters/producer/lifecycle_generator.h"
#include "adapters/storage/segment_log.h"
#include "engine/hash.h"
#include "engine/event_lookup.h"
#include "engine/keys.h"
#include "tests/support/crash_acks.h"
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

struct ChildOptions {
  uint32_t checkpoint_events = 0;  // 0: the test options' default
  std::string durability = "wal";
  std::string sync_trace;           // the power-loss test's fdatasync trace
  std::string failpoints;           // ORDERSYNC_FAILPOINTS for the child
  bool erp_acks = false;            // the child answers AckedByTheErp() commands (CommandNotes)
};

ChildRun StartChild(const std::string& dir, size_t start, const ChildOptions& o = {}) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    if (!o.failpoints.empty()) setenv("ORDERSYNC_FAILPOINTS", o.failpoints.c_str(), 1);
    if (o.erp_acks) setenv("CRASH_CHILD_ACKS", "1", 1);
    std::string seed = std::to_string(kSeed), orders = std::to_string(kOrders), from = std::to_string(start);
    std::string checkpoint = std::to_string(o.checkpoint_events == 0 ? testing::TestEngineOptions().checkpoint_interval_events
                                                                     : o.checkpoint_events);
    if (o.sync_trace.empty()) {
      execl(ENGINE_CRASH_CHILD, ENGINE_CRASH_CHILD, dir.c_str(), seed.c_str(), orders.c_str(), from.c_str(),
            checkpoint.c_str(), o.durability.c_str(), nullptr);
    } else {
      execl(ENGINE_CRASH_CHILD, ENGINE_CRASH_CHILD, dir.c_str(), seed.c_str(), orders.c_str(), from.c_str(),
            checkpoint.c_str(), o.durability.c_str(), o.sync_trace.c_str(), nullptr);
    }
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

// Waits for the child; returns its wait status.
int Finish(ChildRun& run, bool kill_it) {
  if (kill_it) kill(run.pid, SIGKILL);
  int status = 0;
  waitpid(run.pid, &status, 0);
  std::fclose(run.out);
  return status;
}

// Recovers the data directory as the next start would (checkpoint + log replay + the
// startup checkpoint), then stops, so the store shows everything recovered.
RecoveryReport Recover(const std::string& dir) {
  StorageOptions so;
  so.data_dir = dir;
  auto store = RocksDbStore::Open(so);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  auto log = OpenEventLog(so);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  auto engine = Engine::Open(testing::TestEngineOptions(), store->get(), log->get());
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  RecoveryReport report = (*engine)->recovery();
  (*engine)->Stop();
  return report;
}

// Every acknowledged event left its event_id in its order's record (EventRecorded), in
// the same log record as its effects: so its presence after recovery proves the whole
// group commit survived.
void ExpectAckedEventsDurable(const std::string& dir, const std::vector<EnvelopeSpec>& stream,
                              const std::map<size_t, int>& acked) {
  Recover(dir);
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

// How many acknowledged events are not in the recovered state.
size_t CountLostAckedEvents(const std::string& dir, const std::vector<EnvelopeSpec>& stream,
                            const std::map<size_t, int>& acked) {
  Recover(dir);
  StorageOptions so;
  so.data_dir = dir;
  auto store = RocksDbStore::Open(so);
  EXPECT_TRUE(store.ok());
  size_t lost = 0;
  const int64_t now = SystemClock::Default()->NowNanos();
  for (const auto& [index, outcome] : acked) {
    bool recorded = false;
    EXPECT_TRUE(EventRecorded(store->get(), testing::TestEngineOptions().partitions, stream[index].order_id,
                              stream[index].event_id, now, &recorded)
                    .ok());
    lost += recorded ? 0 : 1;
  }
  return lost;
}

// Runs the stream to its end (resending what was not acknowledged) and checks that the
// outbox equals the outbox of an uninterrupted in-order run: each command once.
// Finishes the stream, then checks the outbox: every command of the stream exactly once
// — or, with `erp_acks`, every command the stand-in ERP did not answer still there, each
// once, and nothing else (an answered one may remain when its note was lost to a crash:
// it is re-sent and the ERP answers AlreadyPosted).
void FinishAndExpectEachCommandOnce(const std::string& dir, const std::vector<EnvelopeSpec>& stream,
                                    std::map<size_t, int>* acked, bool erp_acks = false) {
  size_t start = 0;
  while (acked->count(start) != 0) ++start;
  ChildOptions o;
  o.erp_acks = erp_acks;
  ChildRun run = StartChild(dir, start, o);
  const bool done = ReadAcks(run, SIZE_MAX, acked);
  Finish(run, /*kill_it=*/false);
  ASSERT_TRUE(done) << "final run did not finish";
  EXPECT_EQ(acked->size(), stream.size());

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
  if (!erp_acks) {
    EXPECT_EQ(got, want);
    return;
  }
  std::set<std::string> wanted_ids;
  size_t unanswered = 0;
  for (const auto& [order, list] : want) {
    for (const auto& [seq, id] : list) {
      wanted_ids.insert(id);
      if (testing::AckedByTheErp(id)) continue;
      ++unanswered;
      EXPECT_EQ(ids.count(id), 1u) << "unanswered command lost from the outbox: " << id;
    }
  }
  for (const std::string& id : ids) EXPECT_EQ(wanted_ids.count(id), 1u) << "unknown command " << id;
  EXPECT_LT(ids.size(), wanted_ids.size()) << "no answer removed a command: the ack path did not run";
  EXPECT_GE(ids.size(), unanswered);
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
  FinishAndExpectEachCommandOnce(dir, stream, &acked);
}

// One crash at a named point of the commit protocol, then recovery and a clean finish.
struct FailpointCase {
  const char* name;
  std::string failpoints;     // ORDERSYNC_FAILPOINTS
  uint32_t checkpoint_events;  // small, so checkpoints happen mid-stream
};

class EngineFailpointCrashTest : public ::testing::TestWithParam<FailpointCase> {};

TEST_P(EngineFailpointCrashTest, AcknowledgedEventsSurviveACrashAtThePoint) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/db";
  const std::vector<EnvelopeSpec> stream = testing::CrashTestStream(kSeed, kOrders);
  std::map<size_t, int> acked;
  ChildOptions o;
  o.failpoints = GetParam().failpoints;
  o.checkpoint_events = GetParam().checkpoint_events;
  ChildRun run = StartChild(dir, 0, o);
  const bool done = ReadAcks(run, SIZE_MAX, &acked);
  const int status = Finish(run, /*kill_it=*/false);
  ASSERT_FALSE(done) << "the stream finished before " << o.failpoints << " was hit";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child did not die at " << o.failpoints;
  ASSERT_LT(acked.size(), stream.size());
  ExpectAckedEventsDurable(dir, stream, acked);
  if (HasFatalFailure()) return;
  FinishAndExpectEachCommandOnce(dir, stream, &acked);
}

INSTANTIATE_TEST_SUITE_P(
    CommitProtocol, EngineFailpointCrashTest,
    ::testing::Values(FailpointCase{"AfterLogAppendBeforeResults", "worker.after_log_append=crash@12", 100000},
                      FailpointCase{"AfterResultsBeforeHandOver", "worker.after_results=crash@12", 100000},
                      FailpointCase{"TornLogAppend", "log.mid_append=torn@12", 100000},
                      FailpointCase{"DuringCheckpoint", "checkpoint.before_write=crash@3", 250},
                      FailpointCase{"AfterCheckpointBeforeTruncation", "checkpoint.before_truncate=crash@3", 250}),
    [](const ::testing::TestParamInfo<FailpointCase>& info) { return std::string(info.param.name); });

// A crash right after a group commit that carried ERP answers (CommandNotes) reached the
// log, before the worker went on: acknowledged events survive, answered commands leave
// the outbox at most once, unanswered ones are never lost.
TEST(EngineAckCrashTest, CrashAfterAckNotesAreLoggedLosesNoUnansweredCommand) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/db";
  const std::vector<EnvelopeSpec> stream = testing::CrashTestStream(kSeed, kOrders);
  std::map<size_t, int> acked;
  ChildOptions o;
  o.failpoints = "acks.after_append=crash@5";
  o.checkpoint_events = 250;
  o.erp_acks = true;
  ChildRun run = StartChild(dir, 0, o);
  const bool done = ReadAcks(run, SIZE_MAX, &acked);
  const int status = Finish(run, /*kill_it=*/false);
  ASSERT_FALSE(done) << "the stream finished before " << o.failpoints << " was hit";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child did not die at " << o.failpoints;
  ExpectAckedEventsDurable(dir, stream, acked);
  if (HasFatalFailure()) return;
  FinishAndExpectEachCommandOnce(dir, stream, &acked, /*erp_acks=*/true);
}

TEST(EngineCrashTest, TornAppendIsCutAndReportedOnRecovery) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/db";
  ChildOptions o;
  o.failpoints = "log.mid_append=torn@8";
  o.checkpoint_events = 100000;
  std::map<size_t, int> acked;
  ChildRun run = StartChild(dir, 0, o);
  ReadAcks(run, SIZE_MAX, &acked);
  Finish(run, /*kill_it=*/false);
  const RecoveryReport report = Recover(dir);
  EXPECT_GT(report.torn_bytes, 0u);
  EXPECT_GT(report.replayed_events, 0u);
}

// Power loss in fsync mode: every byte of the event log that was not fdatasync'ed is
// dropped (the child traces the durable size of each log file after each fdatasync; the
// test truncates the files to it). Checkpoints are written with sync in fsync mode, so
// RocksDB keeps only synced data too. Every acknowledged event must survive.
void RunPowerLoss(const std::string& durability, size_t* acked_count, size_t* lost) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/db";
  const std::string trace = tmp.path() + "/synced";
  const std::vector<EnvelopeSpec> stream = testing::CrashTestStream(kSeed, kOrders);
  std::map<size_t, int> acked;
  ChildOptions o;
  o.durability = durability;
  o.sync_trace = trace;
  o.checkpoint_events = 100000;  // the log holds everything since the start
  ChildRun run = StartChild(dir, 0, o);
  ReadAcks(run, stream.size() / 2, &acked);
  Finish(run, /*kill_it=*/true);
  // The power goes: each log file keeps what its last fdatasync made durable.
  std::map<std::string, uint64_t> durable;
  {
    std::ifstream in(trace);
    std::string path;
    uint64_t bytes = 0;
    while (in >> path >> bytes) durable[path] = std::max(durable[path], bytes);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/eventlog")) {
    auto it = durable.find(entry.path().string());
    std::filesystem::resize_file(entry.path(), it == durable.end() ? 0 : it->second);
  }
  *acked_count = acked.size();
  *lost = CountLostAckedEvents(dir, stream, acked);
}

TEST(EnginePowerLossTest, FsyncModeKeepsEveryAcknowledgedEventWhenUnsyncedBytesAreDropped) {
  size_t acked = 0, lost = 0;
  RunPowerLoss("fsync", &acked, &lost);
  EXPECT_GT(acked, 100u);
  EXPECT_EQ(lost, 0u);
}

// The same power loss in wal mode loses acknowledged events: the simulation has teeth.
TEST(EnginePowerLossTest, WalModeLosesAcknowledgedEventsWhenUnsyncedBytesAreDropped) {
  size_t acked = 0, lost = 0;
  RunPowerLoss("wal", &acked, &lost);
  EXPECT_GT(acked, 100u);
  EXPECT_GT(lost, 0u);
}

// All key/value pairs of every table, for byte comparison.
std::vector<std::pair<std::string, std::string>> DumpStore(const std::string& dir) {
  StorageOptions so;
  so.data_dir = dir;
  auto store = RocksDbStore::OpenReadOnly(so);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t t = 0; t < kTableCount; ++t) {
    for (auto it = (*store)->NewIterator(static_cast<Table>(t), "", ""); it->Valid(); it->Next()) {
      out.emplace_back(std::string(TableName(static_cast<Table>(t))) + "/" + std::string(it->key()),
                       std::string(it->value()));
    }
  }
  return out;
}

TEST(EngineReplayTest, ReplayingTheSameLogTwiceGivesByteIdenticalCheckpoints) {
  testing::TempDir tmp;
  const std::string dir = tmp.path() + "/db";
  ChildOptions o;
  o.failpoints = "worker.after_results=crash@40";
  o.checkpoint_events = 100000;  // everything after the first checkpoint is in the log
  std::map<size_t, int> acked;
  ChildRun run = StartChild(dir, 0, o);
  ReadAcks(run, SIZE_MAX, &acked);
  Finish(run, /*kill_it=*/false);
  ASSERT_GT(acked.size(), 0u);
  const std::string first = tmp.path() + "/first", second = tmp.path() + "/second";
  std::filesystem::copy(dir, first, std::filesystem::copy_options::recursive);
  std::filesystem::copy(dir, second, std::filesystem::copy_options::recursive);
  const RecoveryReport a = Recover(first);
  const RecoveryReport b = Recover(second);
  EXPECT_GT(a.replayed_events, 100u);
  EXPECT_EQ(a.replayed_events, b.replayed_events);
  const auto dump_a = DumpStore(first);
  const auto dump_b = DumpStore(second);
  ASSERT_FALSE(dump_a.empty());
  ASSERT_EQ(dump_a.size(), dump_b.size());
  for (size_t i = 0; i < dump_a.size(); ++i) {
    ASSERT_EQ(dump_a[i].first, dump_b[i].first) << "entry " << i;
    ASSERT_EQ(dump_a[i].second, dump_b[i].second) << "value of " << dump_a[i].first;
  }
}

}  // namespace
}  // namespace ordersync
