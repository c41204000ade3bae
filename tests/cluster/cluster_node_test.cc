// Three ClusterNodes in one process (each its own RocksDB store, NATS connection and etcd
// lease) on three real nats-server processes (R3) and a real etcd. Events go to the
// replicated log as front doors publish them; each node's "ERP" is a shared ledger that
// is idempotent by command id, as the real ERPs' keys are (docs/erp-apis), and answers
// every command at once through the node's SubmitNotes. Then one node is cut off from
// etcd while events keep coming: its partitions stop on it before its lease can expire
// and resume on the others from their checkpoints and the log.
//
// Checked: every command a single owner would have issued (a reference follower reading
// a copy of the same records) is posted, none that it would not; each order's commands
// are first posted in order_cmd_seq order; and no partition is dispatched by two nodes at
// the same time.
#include "adapters/cluster/cluster_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/jetstream_event_log.h"
#include "adapters/cluster/jetstream_log.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/coding.h"
#include "engine/failpoint.h"
#include "engine/hash.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "tests/cluster/etcd_process.h"
#include "tests/cluster/nats_cluster.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint32_t kPartitions = 8;

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = 60s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

std::unique_ptr<RocksDbStore> OpenStore(const std::string& dir) {
  StorageOptions so;
  so.data_dir = dir;
  so.block_cache_mb = 8;
  so.write_buffer_mb = 4;
  auto s = RocksDbStore::Open(so, [] { return WallNs(); });
  if (!s.ok()) throw std::runtime_error(s.status().ToString());
  return std::move(s).value();
}

// The ERP: idempotent by command id. Records the order of first postings per order and
// which node dispatched which partition when.
class Ledger {
 public:
  // True when this call posted it (first time), false for AlreadyPosted.
  bool Post(const std::string& node, uint32_t partition, const ErpCommand& c) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string id = c.command_id()->str();
    ++received_;
    if (!posted_.insert(id).second) return false;
    by_order_[c.order_id()->str()].push_back(c.order_cmd_seq());
    (void)node;
    (void)partition;
    return true;
  }
  void Dispatching(const std::string& node, uint32_t p, bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& who = dispatching_[p];
    if (on) {
      if (!who.empty() && who != node) overlaps_.push_back("partition " + std::to_string(p) + ": " + node +
                                                           " started while " + who + " dispatched it");
      who = node;
    } else if (who == node) {
      who.clear();
    }
  }
  std::set<std::string> posted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return posted_;
  }
  std::map<std::string, std::vector<uint64_t>> by_order() const {
    std::lock_guard<std::mutex> lock(mu_);
    return by_order_;
  }
  std::vector<std::string> overlaps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return overlaps_;
  }
  size_t received() const {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> posted_;
  std::map<std::string, std::vector<uint64_t>> by_order_;
  std::map<uint32_t, std::string> dispatching_;
  std::vector<std::string> overlaps_;
  size_t received_ = 0;
};

// One node: its store, connection, log, checkpoint store, and a dispatcher stand-in that
// posts to the ledger and answers through SubmitNotes. (The real OutboxDispatcher is the
// serve wiring's; here the point is the partition runtime.)
class Node final : public OutboxListener, public PartitionHost {
 public:
  Node(std::string id, const std::string& dir, test::NatsCluster* nats, const std::string& etcd_url, Ledger* ledger)
      : id_(std::move(id)), ledger_(ledger) {
    store_ = OpenStore(dir + "/" + id_);
    NatsOptions no = nats->ClientOptions();
    no.name = id_;
    conn_ = std::move(NatsConnection::Connect(no)).value();
    JetStreamLogOptions lo;
    lo.partitions = kPartitions;
    lo.replicas = 3;
    log_ = std::move(JetStreamLog::Open(conn_.get(), lo)).value();
    checkpoints_ = std::move(JetStreamCheckpointStore::Open(conn_.get(), JetStreamCheckpointStoreOptions{})).value();
    ClusterNodeOptions o;
    o.engine = testing::TestEngineOptions();
    o.engine.partitions = kPartitions;
    o.ownership.cluster.etcd_endpoints = {etcd_url};
    o.ownership.cluster.name = "node-test";
    o.ownership.cluster.node_id = id_;
    o.ownership.cluster.lease_ttl_s = 2;
    o.ownership.cluster.safety_margin_ms = 700;
    o.ownership.cluster.poll_interval_ms = 100;
    o.checkpoint_interval_ms = 300;
    node_ = std::make_unique<ClusterNode>(o, store_.get(), log_.get(), checkpoints_.get(), this, this);
  }
  ~Node() override { node_->Stop(); }  // (its callbacks use node_ until it stopped)

  ClusterNode* node() { return node_.get(); }
  const std::string& id() const { return id_; }

  void OnCommandsDurable(std::vector<DurableCommand>& commands) override {
    std::vector<CommandNote> notes;
    for (DurableCommand& c : commands) notes.push_back(Answer(c.partition, c.outbox_seq, c.bytes));
    commands.clear();
    node_->SubmitNotes(std::move(notes)).PermitUncheckedError();
  }
  // The dispatcher's start of a partition: send what the restored outbox holds.
  Status OnPartitionAdopted(uint32_t p, int64_t) override {
    ledger_->Dispatching(id_, p, true);
    std::vector<CommandNote> notes;
    auto it = store_->NewIterator(Table::kOutbox, "", "");
    for (; it->Valid(); it->Next()) {
      if (it->key().size() != 10 || PartitionOfKey(it->key()) != p) continue;
      const uint64_t seq = DecodeBigEndian64(it->key().data() + 2);
      notes.push_back(Answer(p, seq, std::make_shared<const std::string>(it->value())));
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
    ++adoptions_;
    return node_->SubmitNotes(std::move(notes));
  }
  void OnPartitionReleased(uint32_t p) override { ledger_->Dispatching(id_, p, false); }
  int adoptions() const { return adoptions_.load(); }

 private:
  CommandNote Answer(uint32_t p, uint64_t seq, CommandBytes bytes) {
    const bool first = ledger_->Post(id_, p, *GetErpCommand(bytes->data()));
    CommandNote note;
    note.partition = p;
    note.outbox_seq = seq;
    note.removes_command = true;
    note.at_ns = WallNs();
    note.attempts = 1;
    note.command = std::move(bytes);
    note.outcome = first ? "Posted" : "AlreadyPosted";
    return note;
  }

  std::string id_;
  Ledger* ledger_;
  std::unique_ptr<RocksDbStore> store_;
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> log_;
  std::unique_ptr<JetStreamCheckpointStore> checkpoints_;
  std::unique_ptr<ClusterNode> node_;
  std::atomic<int> adoptions_{0};
};

class KeepingListener final : public OutboxListener {
 public:
  void OnCommandsDurable(std::vector<DurableCommand>& commands) override {
    for (DurableCommand& c : commands) ids.insert(GetErpCommand(c.bytes->data())->command_id()->str());
  }
  std::set<std::string> ids;
};

std::set<uint32_t> DispatchedPartitions(const std::vector<Node*>& nodes) {
  std::set<uint32_t> all;
  for (Node* n : nodes) {
    for (const auto& i : n->node()->Partitions()) {
      if (i.dispatching) all.insert(i.partition);
    }
  }
  return all;
}

// Three running nodes a, b, c on three nats-servers and etcd, each partition dispatched
// by one of them; `front` is the front doors' log, `reference` a copy of every record
// published through Publish.
class ClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(nats_.status().ok()) << nats_.status().ToString();
    ASSERT_TRUE(etcd_.Start().ok());
    conn_ = std::move(NatsConnection::Connect(nats_.ClientOptions())).value();
    JetStreamLogOptions lo;
    lo.partitions = kPartitions;
    lo.replicas = 3;
    front_ = std::move(JetStreamLog::Open(conn_.get(), lo)).value();
    JetStreamLogOptions ro = lo;
    ro.stream = "REFERENCE";
    ro.prefix = "reference";
    ro.replicas = 1;
    reference_ = std::move(JetStreamLog::Open(conn_.get(), ro)).value();
    ASSERT_TRUE(nats_.WaitStreamCurrent(lo.stream, 3, 30000).ok());
    for (const char* id : {"a", "b", "c"}) {
      nodes_.push_back(std::make_unique<Node>(id, dir_.path(), &nats_, etcd_.client_url(), &ledger_));
      Status s = nodes_.back()->node()->Start();
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    all_ = {nodes_[0].get(), nodes_[1].get(), nodes_[2].get()};
    ASSERT_TRUE(WaitFor([&] {
      for (Node* n : all_) {
        if (n->node()->Partitions().empty()) return false;
      }
      return DispatchedPartitions(all_).size() == kPartitions;
    })) << "not every partition is dispatched, or a node has none";
  }
  void TearDown() override {
    Failpoints::Clear();
    for (auto& n : nodes_) n->node()->Stop();
  }

  // Publishes stream_[from, to) to the front log and the reference copy.
  void Publish(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const auto& spec = stream_[i];
      const uint32_t p = PartitionOf(spec.order_id, kPartitions);
      LogRecordBuilder record;
      record.Begin(WallNs());
      record.AddEvent(p, WallNs(), false, builder_.Build(spec));
      const std::string bytes(record.Finish());
      ASSERT_TRUE(front_->PublishEvent(p, spec.event_id, bytes).ok());
      ASSERT_TRUE(reference_->PublishEvent(p, spec.event_id, bytes).ok());
    }
  }

  // Cuts node `id` off from etcd: every request of it fails from now on.
  static void CutOffFromEtcd(const std::string& id) {
    Failpoints::Arm("cluster.etcd_request", [id](void* arg) {
      auto* fp = static_cast<EtcdRequestFailpoint*>(arg);
      if (fp->node_id == id) fp->fail = true;
    });
  }

  test::NatsCluster nats_{3};
  EtcdProcess etcd_;
  testing::TempDir dir_;
  Ledger ledger_;
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> front_;
  std::unique_ptr<JetStreamLog> reference_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Node*> all_;
  MilestoneBuilder builder_;
  const std::vector<EnvelopeSpec> stream_ = testing::CrashTestStream(7, 120);
};

TEST_F(ClusterNodeTest, CutOffNodesPartitionsResumeElsewhereWithEveryCommandPostedOnceInOrder) {
  const std::vector<ClusterNode::PartitionInfo> cut_had = nodes_[2]->node()->Partitions();
  ASSERT_FALSE(cut_had.empty());
  const size_t third = stream_.size() / 3;
  Publish(0, third);

  // Cut c off from etcd while events keep coming.
  CutOffFromEtcd("c");
  Publish(third, 2 * third);
  ASSERT_TRUE(WaitFor([&] { return nodes_[2]->node()->Partitions().empty(); }, 15s)) << "c did not stop";
  ASSERT_TRUE(WaitFor([&] { return DispatchedPartitions({all_[0], all_[1]}).size() == kPartitions; }))
      << "a and b did not take every partition over";
  Publish(2 * third, stream_.size());

  // The reference: one follower per partition of the copy, no answers.
  auto ref_store = OpenStore(dir_.path() + "/reference");
  JetStreamEventLog::Options ref_options;
  ref_options.read_wait_ms = 100;
  JetStreamEventLog ref_log(reference_.get(), ref_options);
  KeepingListener expected;
  EngineOptions ref_engine = testing::TestEngineOptions();
  ref_engine.partitions = kPartitions;
  PartitionFollower reference_follower(ref_engine, ref_store.get(), &ref_log, 0, &expected);
  for (uint32_t p = 0; p < kPartitions; ++p) {
    ASSERT_TRUE(reference_follower.Adopt(p, "").ok());
    size_t applied = 0;
    do {
      ASSERT_TRUE(reference_follower.Poll(p, 1024, &applied).ok());
    } while (applied > 0);
  }
  ASSERT_GT(expected.ids.size(), 100u);

  ASSERT_TRUE(WaitFor([&] { return ledger_.posted().size() >= expected.ids.size(); }))
      << ledger_.posted().size() << " of " << expected.ids.size() << " commands posted";
  EXPECT_EQ(ledger_.posted(), expected.ids) << "posted exactly the commands one owner issues";
  for (const auto& [order, seqs] : ledger_.by_order()) {
    for (size_t i = 0; i < seqs.size(); ++i) {
      EXPECT_EQ(seqs[i], i + 1) << "order " << order << ": first postings out of order_cmd_seq order";
    }
  }
  EXPECT_TRUE(ledger_.overlaps().empty()) << ledger_.overlaps().front();

  // The cut-off node heals and gets partitions back (new epochs); a clean stop of all.
  Failpoints::Clear();
  ASSERT_TRUE(WaitFor([&] { return !nodes_[2]->node()->Partitions().empty(); })) << "c did not rejoin";
  for (const auto& had : cut_had) {
    for (Node* n : all_) {
      for (const auto& now : n->node()->Partitions()) {
        if (now.partition == had.partition) EXPECT_GT(now.epoch, had.epoch) << "partition " << had.partition;
      }
    }
  }
  const ClusterNode::Stats cut_stats = nodes_[2]->node()->GetStats();
  EXPECT_GE(cut_stats.partitions_stopped, cut_had.size());
  for (auto& n : nodes_) n->node()->Stop();
  EXPECT_TRUE(ledger_.overlaps().empty()) << ledger_.overlaps().front();
  std::printf("posted %zu commands (%zu answers incl. re-sends); restore max %llu ms on a, %llu ms on b\n",
              ledger_.posted().size(), ledger_.received(),
              static_cast<unsigned long long>(nodes_[0]->node()->GetStats().max_restore_ms),
              static_cast<unsigned long long>(nodes_[1]->node()->GetStats().max_restore_ms));
}

// The apply thread of c is blocked in a checkpoint write (as a write into a cut-off
// network blocks until the NATS request timeout, longer than the safety margin) when c
// is cut off from etcd. c must still stop dispatching its partitions before its lease can
// expire at the server: before a or b starts dispatching any of them.
TEST_F(ClusterNodeTest, CutOffNodeStopsDispatchingWhileItsApplyThreadIsBlockedInAWrite) {
  const std::vector<ClusterNode::PartitionInfo> cut_had = nodes_[2]->node()->Partitions();
  ASSERT_FALSE(cut_had.empty());
  std::atomic<bool> blocked{false};
  std::atomic<bool> unblock{false};
  Failpoints::Arm("cluster.checkpoint_put", [&](void* arg) {
    auto* fp = static_cast<ClusterWriteFailpoint*>(arg);
    if (fp->node_id != "c" || unblock.load()) return;
    blocked.store(true);
    const auto deadline = Clock::now() + 30s;
    while (!unblock.load() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  });
  // Events for every partition, so that c applies some and comes to checkpoint them.
  Publish(0, stream_.size() / 2);
  ASSERT_TRUE(WaitFor([&] { return blocked.load(); }, 30s)) << "c's apply thread never reached a checkpoint";

  CutOffFromEtcd("c");
  ASSERT_TRUE(WaitFor([&] { return DispatchedPartitions({all_[0], all_[1]}).size() == kPartitions; }))
      << "a and b did not take every partition over";
  EXPECT_TRUE(blocked.load() && !unblock.load()) << "c's apply thread was still blocked throughout";
  EXPECT_TRUE(ledger_.overlaps().empty()) << ledger_.overlaps().front();
  unblock.store(true);

  Publish(stream_.size() / 2, stream_.size());
  Failpoints::Clear();
  ASSERT_TRUE(WaitFor([&] { return !nodes_[2]->node()->Partitions().empty(); })) << "c did not rejoin";
  for (auto& n : nodes_) n->node()->Stop();
  EXPECT_TRUE(ledger_.overlaps().empty()) << ledger_.overlaps().front();
}

}  // namespace
}  // namespace ordersync
