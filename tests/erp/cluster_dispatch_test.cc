// The ERP dispatcher in cluster mode (own_all_partitions = false): a real RocksDB store
// holding the outbox rows a follower's Adopt imported, the real ZeroMQ ERP simulator and
// the webhook HTTPS simulator on loopback, and a small recording DispatcherHost standing
// for the engine side (the follower's owner-input path). Checks: nothing is sent before
// AdoptPartition and only the adopted partition afterwards; commands handed over for
// partitions not adopted are dropped; answers arriving after ReleasePartition make no
// notes, and re-adopting sends the commands again, answered AlreadyPosted (one posting
// each); the owner's epoch reaches an HTTP ERP on every request and each attempt's
// journal note; a command an earlier owner posted and the next owner's follower re-issues
// is looked up on an ERP without idempotent create (SAP), not posted twice; a replay of a
// partition owned elsewhere is refused; and a single node (own_all_partitions) loads
// everything at start and stamps no epoch.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/erp/connectors/connector_test_util.h"
#include "adapters/erp/connectors/sim/erp_http_simulator.h"
#include "adapters/erp/dead_letters.h"
#include "adapters/erp/erp_simulator.h"
#include "adapters/erp/erp_test_util.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/dispatcher_host.h"
#include "engine/keys.h"
#include "tests/support/engine_harness.h"

namespace ordersync::testing {
namespace {

// The engine side of the dispatcher: records what the dispatcher tells it.
class RecordingHost final : public DispatcherHost {
 public:
  Status SubmitNotes(std::vector<CommandNote>&& notes) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (CommandNote& n : notes) notes_.push_back(std::move(n));
    return Status::OK();
  }
  Status SubmitTask(uint32_t, std::unique_ptr<PartitionTask>) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++tasks_;
    return Status::Unavailable("no worker here");
  }
  void SetTargetBlocked(std::string_view, bool, uint32_t) override {}

  std::vector<CommandNote> Notes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return notes_;
  }
  // Notes that take a command out of the outbox, by partition.
  std::map<uint32_t, size_t> Removals() const {
    std::map<uint32_t, size_t> out;
    for (const CommandNote& n : Notes()) out[n.partition] += n.removes_command ? 1 : 0;
    return out;
  }
  size_t tasks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tasks_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<CommandNote> notes_;
  size_t tasks_ = 0;
};

bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::string CommandIdOfNote(const CommandNote& n) {
  return n.command == nullptr ? "" : GetErpCommand(n.command->data())->command_id()->str();
}

class ClusterDispatchTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kPartitions = 4;

  void SetUp() override {
    StorageOptions so;
    so.data_dir = dir_.path() + "/db";
    so.block_cache_mb = 8;
    so.write_buffer_mb = 4;
    auto store = RocksDbStore::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  void TearDown() override {
    if (dispatcher_ != nullptr) dispatcher_->Stop();
    if (sim_ != nullptr) sim_->Stop();
    if (http_sim_ != nullptr) http_sim_->Stop();
  }

  // An outbox row as a follower's Adopt leaves it in the store (the checkpoint's outbox).
  void PutOutboxRow(uint32_t p, uint64_t outbox_seq, const std::string& command) {
    std::unique_ptr<StoreBatch> batch = store_->NewBatch();
    std::string key;
    SeqKey(&key, p, outbox_seq);
    batch->Put(Table::kOutbox, key, command);
    ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  }

  // Rows for `orders` orders of partition p, `per_order` commands each, outbox seqs from
  // 1; returns their command ids.
  std::set<std::string> PutOrders(uint32_t p, int orders, int per_order) {
    std::set<std::string> ids;
    uint64_t seq = 1;
    const CommandKind kinds[] = {CommandKind::CreateSalesOrder, CommandKind::ConfirmAllocation,
                                 CommandKind::PostGoodsIssue, CommandKind::CreateInvoice};
    for (int o = 0; o < orders; ++o) {
      const std::string order = "P" + std::to_string(p) + "-SO-" + std::to_string(o);
      for (int k = 0; k < per_order; ++k) {
        const std::string cmd = MakeErpCommand(order, static_cast<uint64_t>(k + 1), kinds[k]);
        ids.insert(CommandIdOf(cmd));
        PutOutboxRow(p, seq++, cmd);
      }
    }
    return ids;
  }

  void StartZmq(uint32_t latency_us, bool own_all = false) {
    ErpSimOptions so;
    so.endpoint = "tcp://127.0.0.1:*";
    so.latency_us = latency_us;
    auto sim = ErpSimulator::Start(so);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(sim).value();
    ErpTargetOptions t;
    t.endpoint = sim_->endpoint();
    t.rate_per_s = 100000;
    t.burst = 1000;
    t.max_in_flight = 64;
    t.timeout_ms = 5000;  // well past the simulator's latency: no attempt times out
    t.retry.initial_backoff_ms = 10;
    t.retry.max_backoff_ms = 100;
    StartDispatcher(t, own_all);
  }

  void StartDispatcher(ErpTargetOptions target, bool own_all) {
    target.circuit_breaker.consecutive_failures = 1000;  // the injected faults must not open it
    target.circuit_breaker.error_rate_pct = 0;
    target.circuit_breaker.cooldown_ms = 200;
    DispatcherOptions d;
    d.erp.targets = {target};
    d.erp.read_ahead_per_partition = 64;
    d.partitions = kPartitions;
    d.own_all_partitions = own_all;
    auto dispatcher = OutboxDispatcher::Create(d, store_.get());
    ASSERT_TRUE(dispatcher.ok()) << dispatcher.status().ToString();
    dispatcher_ = std::move(dispatcher).value();
    ASSERT_TRUE(dispatcher_->Start(&host_).ok());
  }

  // Hands a command to the dispatcher as a follower applying partition p would.
  void HandOver(uint32_t p, uint64_t outbox_seq, const std::string& command) {
    std::vector<DurableCommand> commands(1);
    commands[0].partition = p;
    commands[0].outbox_seq = outbox_seq;
    commands[0].bytes = std::make_shared<const std::string>(command);
    dispatcher_->OnCommandsDurable(commands);
  }

  std::set<std::string> LedgerIds() const {
    std::set<std::string> ids;
    for (const ErpPosting& p : sim_->Ledger()) ids.insert(p.command_id);
    return ids;
  }

  TempDir dir_;
  std::unique_ptr<RocksDbStore> store_;
  RecordingHost host_;
  std::unique_ptr<ErpSimulator> sim_;
  std::unique_ptr<ErpHttpSimulator> http_sim_;
  std::unique_ptr<OutboxDispatcher> dispatcher_;
};

TEST_F(ClusterDispatchTest, SendsNothingBeforeAdoptionThenOnlyTheAdoptedPartition) {
  const std::set<std::string> p0 = PutOrders(0, 3, 2);
  const std::set<std::string> p1 = PutOrders(1, 4, 3);
  const std::set<std::string> p2 = PutOrders(2, 2, 1);
  StartZmq(0);

  // A command handed over for a partition nobody adopted here is dropped, not sent.
  const std::string early = MakeErpCommand("P1-SO-early", 1, CommandKind::CreateSalesOrder);
  HandOver(1, 100, early);
  ASSERT_TRUE(WaitUntil([&] { return dispatcher_->Stats().dropped_not_owned == 1; }));
  EXPECT_EQ(sim_->Summary().received, 0u);
  EXPECT_TRUE(host_.Notes().empty());
  EXPECT_EQ(dispatcher_->Stats().partitions_adopted, 0u);

  ASSERT_TRUE(dispatcher_->AdoptPartition(1, 7).ok());
  EXPECT_EQ(dispatcher_->Stats().partitions_adopted, 1u);
  ASSERT_TRUE(WaitUntil([&] { return host_.Removals()[1] == p1.size(); }));
  EXPECT_EQ(LedgerIds(), p1);  // exactly partition 1's rows, each once
  for (const CommandNote& n : host_.Notes()) {
    EXPECT_EQ(n.partition, 1u);
    EXPECT_EQ(n.reason.rfind("epoch 7", 0), 0u) << n.reason;  // the attempt's journal line names the epoch
  }

  // After adoption, commands of the adopted partition are sent; of others, dropped.
  const std::string late = MakeErpCommand("P1-SO-late", 1, CommandKind::CreateSalesOrder);
  HandOver(1, 200, late);
  HandOver(0, 200, MakeErpCommand("P0-SO-late", 1, CommandKind::CreateSalesOrder));
  ASSERT_TRUE(WaitUntil([&] { return host_.Removals()[1] == p1.size() + 1; }));
  ASSERT_TRUE(WaitUntil([&] { return dispatcher_->Stats().dropped_not_owned == 2; }));
  std::set<std::string> expected = p1;
  expected.insert(CommandIdOf(late));
  EXPECT_EQ(LedgerIds(), expected);
  EXPECT_EQ(host_.Removals()[0], 0u);
  EXPECT_EQ(host_.Removals()[2], 0u);
  EXPECT_EQ(sim_->Summary().duplicates_received, 0u);
  (void)p0;
  (void)p2;
}

TEST_F(ClusterDispatchTest, LateAnswersAfterReleaseMakeNoNotesAndReadoptionPostsOnce) {
  const std::set<std::string> p0 = PutOrders(0, 10, 1);
  StartZmq(/*latency_us=*/1'500'000);  // long enough to release first, even on a loaded machine
  ASSERT_TRUE(dispatcher_->AdoptPartition(0, 5).ok());
  // Every command is on its way (the simulator posted it and holds the answer).
  ASSERT_TRUE(WaitUntil([&] { return sim_->Summary().received == p0.size(); }));
  ASSERT_TRUE(dispatcher_->ReleasePartition(0).ok());
  EXPECT_EQ(dispatcher_->Stats().partitions_adopted, 0u);
  ASSERT_TRUE(WaitUntil([&] { return dispatcher_->Stats().late_answers_ignored == p0.size(); }));
  EXPECT_TRUE(host_.Notes().empty());  // no note, no dead letter, no journal line
  EXPECT_EQ(dispatcher_->Stats().targets.at(0).in_flight, 0u);
  std::vector<DeadLetterRecord> letters;
  DeadLetterFilter all;
  all.all = true;
  ASSERT_TRUE(ListDeadLetters(store_.get(), all, 0, &letters).ok());
  EXPECT_TRUE(letters.empty());

  // The next owner (here: this node again, later epoch) sends them again; the ERP
  // answers AlreadyPosted and holds one posting per command.
  ASSERT_TRUE(dispatcher_->AdoptPartition(0, 9).ok());
  ASSERT_TRUE(WaitUntil([&] { return host_.Removals()[0] == p0.size(); }));
  for (const CommandNote& n : host_.Notes()) {
    EXPECT_EQ(n.outcome, "AlreadyPosted") << CommandIdOfNote(n);
    EXPECT_EQ(n.reason.rfind("epoch 9", 0), 0u) << n.reason;
  }
  const ErpSimSummary s = sim_->Summary();
  EXPECT_EQ(s.postings, p0.size());
  EXPECT_EQ(s.duplicates_received, p0.size());
  EXPECT_EQ(LedgerIds(), p0);
  EXPECT_EQ(sim_->Ledger().size(), p0.size());
}

TEST_F(ClusterDispatchTest, ReadoptionWhileOldAttemptsAreInFlightWaitsForThem) {
  const std::set<std::string> p2 = PutOrders(2, 8, 2);
  StartZmq(/*latency_us=*/1'200'000);
  ASSERT_TRUE(dispatcher_->AdoptPartition(2, 3).ok());
  ASSERT_TRUE(WaitUntil([&] { return sim_->Summary().received == 8; }));  // the first command of each order
  ASSERT_TRUE(dispatcher_->ReleasePartition(2).ok());
  ASSERT_TRUE(dispatcher_->AdoptPartition(2, 4).ok());  // before the old answers arrive
  ASSERT_TRUE(WaitUntil([&] { return host_.Removals()[2] == p2.size(); }));
  const DispatcherStats st = dispatcher_->Stats();
  EXPECT_EQ(st.late_answers_ignored, 8u);
  EXPECT_EQ(st.targets.at(0).in_flight, 0u);
  // One attempt of a command at a time: the old ones answered (ignored), then each was
  // sent once more; the ERP posted every command once.
  const ErpSimSummary s = sim_->Summary();
  EXPECT_EQ(s.postings, p2.size());
  EXPECT_EQ(s.duplicates_received, 8u);
  EXPECT_EQ(s.out_of_order_arrivals, 0u);
  EXPECT_EQ(LedgerIds(), p2);
}

TEST_F(ClusterDispatchTest, ReplayOfAPartitionOwnedElsewhereIsRefused) {
  // A dead letter of partition 3 (left by an earlier owner on this store).
  DeadLetterRecord r;
  r.partition = 3;
  r.command = MakeErpCommand("P3-SO-1", 1, CommandKind::CreateSalesOrder);
  r.command_id = CommandIdOf(r.command);
  r.order_id = "P3-SO-1";
  r.target = "erp";
  r.order_cmd_seq = 1;
  r.reason = std::string(kReasonRejected);
  r.message = "customer blocked";
  std::string key;
  DeadLetterKey(&key, 3, r.order_id, 1);
  std::unique_ptr<StoreBatch> batch = store_->NewBatch();
  batch->Put(Table::kDeadLetters, key, EncodeDeadLetter(r));
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  StartZmq(0);

  DeadLetterFilter filter;
  filter.order_id = "P3-SO-1";
  Result<ReplayReport> refused = dispatcher_->Replay(filter);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("partition 3 is owned by another node"), std::string::npos)
      << refused.status().ToString();
  EXPECT_EQ(host_.tasks(), 0u);

  // Adopted here, the replay goes to the host as a task (this host has no worker).
  ASSERT_TRUE(dispatcher_->AdoptPartition(3, 2).ok());
  Result<ReplayReport> here = dispatcher_->Replay(filter);
  ASSERT_TRUE(here.ok()) << here.status().ToString();
  EXPECT_EQ(host_.tasks(), 1u);
}

TEST_F(ClusterDispatchTest, AdoptionArgumentsAreChecked) {
  StartZmq(0);
  EXPECT_FALSE(dispatcher_->AdoptPartition(kPartitions, 1).ok());
  ASSERT_TRUE(dispatcher_->AdoptPartition(1, 10).ok());
  EXPECT_TRUE(dispatcher_->AdoptPartition(1, 11).ok());   // renewed under a later epoch
  EXPECT_FALSE(dispatcher_->AdoptPartition(1, 10).ok());  // a stale epoch
  EXPECT_TRUE(dispatcher_->ReleasePartition(2).ok());     // not adopted: nothing to do
  EXPECT_TRUE(dispatcher_->ReleasePartition(1).ok());
  dispatcher_->Stop();
  EXPECT_FALSE(dispatcher_->AdoptPartition(1, 12).ok());  // not running
}

// --- HTTP: the epoch header ---

class ClusterDispatchHttpTest : public ClusterDispatchTest {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Make());
    ASSERT_TRUE(pki_->ok) << "openssl could not make the test PKI";
  }
  static void TearDownTestSuite() {
    pki_->Remove();
    delete pki_;
  }

  // The webhook simulator; every third posting request answers 503 (retried).
  void StartWebhook(bool own_all) {
    ErpHttpSimOptions so;
    so.api = "webhook";
    so.transient_error_every = 3;
    StartHttp(so, "/hooks/erp");
    StartDispatcher(target_, own_all);
  }

  // The simulator of `so.api` over HTTPS and target_ for it (named "erp", as the commands).
  void StartHttp(ErpHttpSimOptions so, const std::string& path = "") {
    so.cert_file = pki_->server_cert;
    so.key_file = pki_->server_key;
    so.threads = 8;
    auto sim = ErpHttpSimulator::Start(so);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    http_sim_ = std::move(sim).value();
    target_ = ErpTargetOptions();
    target_.name = "erp";
    target_.kind = so.api;
    target_.rate_per_s = 100000;
    target_.burst = 1000;
    target_.max_in_flight = 16;
    target_.timeout_ms = 5000;
    target_.retry.initial_backoff_ms = 10;
    target_.retry.max_backoff_ms = 100;
    target_.http.transport.base_url = http_sim_->base_url() + path;
    target_.http.transport.ca_file = pki_->ca_cert;
    target_.http.document.customer = "C-1000";
  }

  ErpTargetOptions target_;

  std::set<std::string> PutHttpOrders(uint32_t p, int orders) {
    std::set<std::string> ids;
    uint64_t seq = 1;
    for (int o = 0; o < orders; ++o) {
      const std::string order = "H" + std::to_string(p) + "-SO-" + std::to_string(o);
      const TestCommand a = MakeTestCommand(order, CommandKind::CreateSalesOrder, order, 1);
      const TestCommand b = MakeTestCommand(order, CommandKind::ConfirmAllocation, order, 2);
      PutOutboxRow(p, seq++, a.buffer);
      PutOutboxRow(p, seq++, b.buffer);
      ids.insert(a.command_id);
      ids.insert(b.command_id);
    }
    return ids;
  }

  static TestPki* pki_;
};
TestPki* ClusterDispatchHttpTest::pki_ = nullptr;

TEST_F(ClusterDispatchHttpTest, EpochHeaderReachesTheErpOnEveryAttempt) {
  const std::set<std::string> ids = PutHttpOrders(0, 6);
  PutHttpOrders(1, 2);  // not adopted: never sent
  StartWebhook(/*own_all=*/false);
  ASSERT_TRUE(dispatcher_->AdoptPartition(0, 42).ok());
  ASSERT_TRUE(WaitUntil([&] { return host_.Removals()[0] == ids.size(); }));
  const ErpHttpSimSummary s = http_sim_->Summary();
  EXPECT_GT(s.base.transient_errors, 0u);  // there were retries
  EXPECT_GT(s.http_requests, ids.size());
  // Every request, first attempts and retries alike, carried the owner's epoch.
  EXPECT_EQ(s.requests_by_epoch, (std::map<uint64_t, uint64_t>{{42, s.http_requests}}));
  EXPECT_EQ(s.duplicate_postings, 0u);
  std::set<std::string> posted;
  for (const ErpPosting& p : http_sim_->Ledger()) posted.insert(p.command_id);
  EXPECT_EQ(posted, ids);
  EXPECT_EQ(http_sim_->Ledger().size(), ids.size());
  // Each attempt's journal note (answers, re-sends) names the epoch.
  for (const CommandNote& n : host_.Notes()) EXPECT_EQ(n.reason.rfind("epoch 42", 0), 0u) << n.reason;
}

// An owner sent a command and died before its note reached the log; the next owner's
// follower re-issues the command while catching up. On an ERP without an idempotent
// create (SAP), the new owner's first attempt must look it up, not post a second document.
TEST_F(ClusterDispatchHttpTest, ACommandAnEarlierOwnerPostedIsLookedUpNotPostedTwice) {
  ErpHttpSimOptions so;
  so.api = "sap_s4";
  StartHttp(so);
  const TestCommand order = MakeTestCommand("SAP-SO-1", CommandKind::CreateSalesOrder, "SAP-SO-1", 1);
  StartDispatcher(target_, /*own_all=*/false);
  ASSERT_TRUE(dispatcher_->AdoptPartition(0, 3).ok());
  HandOver(0, 1, order.buffer);
  ASSERT_TRUE(WaitUntil([&] { return host_.Removals()[0] == 1; }));
  ASSERT_EQ(http_sim_->Summary().base.postings, 1u);
  dispatcher_->Stop();  // the old owner is gone; its note never reached the log

  RecordingHost next_host;
  DispatcherOptions d;
  d.erp.targets = {target_};
  d.partitions = kPartitions;
  d.own_all_partitions = false;
  auto next = OutboxDispatcher::Create(d, store_.get());
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE((*next)->Start(&next_host).ok());
  ASSERT_TRUE((*next)->AdoptPartition(0, 4).ok());
  std::vector<DurableCommand> replayed(1);
  replayed[0].partition = 0;
  replayed[0].outbox_seq = 1;
  replayed[0].bytes = std::make_shared<const std::string>(order.buffer);
  (*next)->OnCommandsDurable(replayed);
  ASSERT_TRUE(WaitUntil([&] { return next_host.Removals()[0] == 1; }));
  (*next)->Stop();
  const std::vector<CommandNote> notes = next_host.Notes();
  ASSERT_FALSE(notes.empty());
  EXPECT_EQ(notes.back().outcome, "AlreadyPosted") << notes.back().reason;
  const ErpHttpSimSummary s = http_sim_->Summary();
  EXPECT_EQ(s.base.postings, 1u);
  EXPECT_EQ(s.duplicate_postings, 0u);
  EXPECT_GE(s.lookups, 1u);
  EXPECT_EQ(s.requests_by_epoch.count(4), 1u);
}

TEST_F(ClusterDispatchHttpTest, SingleNodeLoadsEverythingAtStartAndSendsNoEpoch) {
  std::set<std::string> ids = PutHttpOrders(0, 3);
  for (const std::string& id : PutHttpOrders(2, 3)) ids.insert(id);
  StartWebhook(/*own_all=*/true);
  ASSERT_TRUE(WaitUntil([&] { return host_.Removals()[0] + host_.Removals()[2] == ids.size(); }));
  EXPECT_EQ(dispatcher_->Stats().partitions_adopted, kPartitions);
  const ErpHttpSimSummary s = http_sim_->Summary();
  EXPECT_TRUE(s.requests_by_epoch.empty());
  EXPECT_EQ(s.base.postings, ids.size());
  for (const CommandNote& n : host_.Notes()) EXPECT_EQ(n.reason.find("epoch"), std::string::npos) << n.reason;
  EXPECT_FALSE(dispatcher_->AdoptPartition(1, 1).ok());  // it owns every partition already
}

}  // namespace
}  // namespace ordersync::testing
