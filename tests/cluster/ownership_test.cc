// OwnershipManager against a real etcd: three managers in one process (each its own
// etcd clients, lease and threads), a listener per node that records every OnAcquired /
// OnMustStop with a steady-clock time and confirms stops at once. After each scenario
// the recorded history is checked: a partition is never owned by two nodes at once
// (each node's [acquired, stopped] intervals of p are disjoint from the others'), and
// each later owner of p has a larger epoch.
#include "adapters/cluster/ownership_manager.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "adapters/cluster/partition_assignment.h"
#include "engine/failpoint.h"
#include "tests/cluster/etcd_process.h"

namespace ordersync {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint32_t kPartitions = 16;

}  // namespace

void PrintTo(StopReason reason, std::ostream* os) { *os << StopReasonName(reason); }

namespace {

struct Event {
  std::string node;
  bool acquired = false;
  uint32_t partition = 0;
  int64_t epoch = 0;
  StopReason reason = StopReason::kShutdown;
  Clock::time_point at;
};

class History {
 public:
  void Add(Event e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<Event> Events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Event> events_;
};

class Node : public OwnershipListener {
 public:
  Node(std::string id, const std::string& etcd_url, History* history, uint32_t ttl_s = 2)
      : id_(std::move(id)), history_(history), manager_(MakeOptions(id_, etcd_url, ttl_s), this) {}

  static OwnershipManagerOptions MakeOptions(const std::string& id, const std::string& url, uint32_t ttl_s) {
    OwnershipManagerOptions o;
    o.partitions = kPartitions;
    o.cluster.etcd_endpoints = {url};
    o.cluster.name = "test";
    o.cluster.node_id = id;
    o.cluster.lease_ttl_s = ttl_s;
    o.cluster.safety_margin_ms = 700;
    o.cluster.request_timeout_ms = 400;
    o.cluster.poll_interval_ms = 100;
    o.ingress = "tcp://" + id + ":5555";
    return o;
  }

  void OnAcquired(uint32_t p, int64_t epoch) override {
    history_->Add({id_, true, p, epoch, StopReason::kShutdown, Clock::now()});
    std::lock_guard<std::mutex> lock(mu_);
    owned_[p] = epoch;
  }
  void OnMustStop(uint32_t p, int64_t epoch, StopReason reason) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      owned_.erase(p);
    }
    history_->Add({id_, false, p, epoch, reason, Clock::now()});
    manager_.ConfirmStopped(p);
  }
  std::map<uint32_t, int64_t> Owned() const {
    std::lock_guard<std::mutex> lock(mu_);
    return owned_;
  }

  const std::string& id() const { return id_; }
  OwnershipManager& manager() { return manager_; }

 private:
  const std::string id_;
  History* history_;
  mutable std::mutex mu_;
  std::map<uint32_t, int64_t> owned_;
  OwnershipManager manager_;
};

bool WaitFor(const std::function<bool()>& done, Clock::duration timeout = 15s) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// The nodes' owned sets are disjoint, cover every partition, match the rendezvous
// assignment over `expected_members`, and agree with owners/<p> in etcd.
bool Converged(const std::vector<Node*>& nodes, const std::vector<std::string>& expected_members,
               EtcdClient* client, std::string* why) {
  std::vector<ClusterMember> members;
  for (const std::string& id : expected_members) members.push_back({id, false});
  const std::vector<std::string> want = AssignPartitions(kPartitions, members);
  std::map<uint32_t, std::pair<std::string, int64_t>> have;
  for (Node* n : nodes) {
    for (const auto& [p, epoch] : n->Owned()) {
      if (have.count(p)) {
        *why = "partition " + std::to_string(p) + " owned twice";
        return false;
      }
      have[p] = {n->id(), epoch};
    }
  }
  for (uint32_t p = 0; p < kPartitions; ++p) {
    if (!have.count(p) || have[p].first != want[p]) {
      *why = "partition " + std::to_string(p) + " not yet with " + want[p];
      return false;
    }
  }
  Result<ClusterView> view = ReadClusterView(client, OwnershipKeys("test"));
  if (!view.ok()) return false;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    auto it = view->owners.find(p);
    if (it == view->owners.end() || it->second.node_id != have[p].first || it->second.epoch != have[p].second) {
      *why = "etcd disagrees on partition " + std::to_string(p);
      return false;
    }
  }
  return true;
}

// No partition has two owners at any time; later owners have larger epochs.
void ExpectSafeHistory(const std::vector<Event>& events) {
  struct Interval {
    std::string node;
    int64_t epoch;
    Clock::time_point from, to;
  };
  std::map<uint32_t, std::vector<Interval>> intervals;
  std::map<std::pair<std::string, uint32_t>, size_t> open;  // (node, p) -> index
  for (const Event& e : events) {
    auto& list = intervals[e.partition];
    if (e.acquired) {
      ASSERT_FALSE(open.count({e.node, e.partition})) << e.node << " acquired " << e.partition << " twice";
      open[{e.node, e.partition}] = list.size();
      list.push_back({e.node, e.epoch, e.at, Clock::time_point::max()});
    } else {
      auto it = open.find({e.node, e.partition});
      ASSERT_NE(it, open.end()) << e.node << " stopped " << e.partition << " it did not own";
      EXPECT_EQ(list[it->second].epoch, e.epoch);
      list[it->second].to = e.at;
      open.erase(it);
    }
  }
  for (const auto& [p, list] : intervals) {
    for (size_t i = 1; i < list.size(); ++i) {  // in acquisition order
      EXPECT_GT(list[i].epoch, list[i - 1].epoch) << "partition " << p;
      EXPECT_LE(list[i - 1].to, list[i].from)
          << "partition " << p << ": " << list[i].node << " acquired it while " << list[i - 1].node
          << " still owned it";
    }
  }
}

class OwnershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.Start().ok());
    EtcdClientOptions o;
    o.endpoints = {etcd_.client_url()};
    client_ = std::make_unique<EtcdClient>(o);
  }
  void TearDown() override { Failpoints::Clear(); }

  std::unique_ptr<Node> StartNode(const std::string& id) {
    auto node = std::make_unique<Node>(id, etcd_.client_url(), &history_);
    Status started = node->manager().Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return node;
  }

  void ExpectConverged(const std::vector<Node*>& nodes, const std::vector<std::string>& members) {
    std::string why;
    EXPECT_TRUE(WaitFor([&] { return Converged(nodes, members, client_.get(), &why); })) << why;
  }

  EtcdProcess etcd_;
  std::unique_ptr<EtcdClient> client_;
  History history_;
};

TEST_F(OwnershipTest, ThreeManagersConvergeToAFullDisjointAssignmentWithEpochs) {
  auto a = StartNode("a");
  auto b = StartNode("b");
  auto c = StartNode("c");
  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "b", "c"});
  Result<ClusterView> view = ReadClusterView(client_.get(), OwnershipKeys("test"));
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->members.size(), 3u);
  EXPECT_EQ(view->members[0].ingress, "tcp://a:5555");
  EXPECT_EQ(view->members[0].lease, a->manager().GetSnapshot().lease_id);
  std::set<int64_t> epochs;
  for (const auto& [p, owner] : view->owners) epochs.insert(owner.epoch);
  EXPECT_EQ(epochs.size(), kPartitions);  // one create revision per key
  c->manager().Stop();
  b->manager().Stop();
  a->manager().Stop();
  ExpectSafeHistory(history_.Events());
}

TEST_F(OwnershipTest, CleanStopHandsTheLeaversPartitionsToOthersWithLargerEpochs) {
  auto a = StartNode("a");
  auto b = StartNode("b");
  auto c = StartNode("c");
  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "b", "c"});
  const std::map<uint32_t, int64_t> had = c->Owned();
  ASSERT_FALSE(had.empty());
  const size_t before = history_.Events().size();
  c->manager().Stop();
  EXPECT_TRUE(c->Owned().empty());
  ExpectConverged({a.get(), b.get()}, {"a", "b"});
  for (const auto& [p, old_epoch] : had) {
    const auto a_owned = a->Owned();
    const int64_t now = a_owned.count(p) ? a_owned.at(p) : b->Owned().at(p);
    EXPECT_GT(now, old_epoch) << "partition " << p;
  }
  const std::vector<Event> events = history_.Events();
  for (size_t i = before; i < events.size(); ++i) {
    if (events[i].node == "c") EXPECT_EQ(events[i].reason, StopReason::kShutdown);
  }
  EXPECT_TRUE(client_->Get(OwnershipKeys("test").Member("c"))->kvs.empty());
  a->manager().Stop();
  b->manager().Stop();
  ExpectSafeHistory(history_.Events());
}

TEST_F(OwnershipTest, CutOffNodeStopsBeforeItsLeaseExpiresAtTheServerAndOthersTakeOver) {
  auto a = StartNode("a");
  auto b = StartNode("b");
  auto c = StartNode("c");
  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "b", "c"});
  const std::map<uint32_t, int64_t> had = c->Owned();
  ASSERT_FALSE(had.empty());
  const OwnershipManager::Snapshot before = c->manager().GetSnapshot();
  Result<EtcdLeaseTtl> granted = client_->TimeToLive(before.lease_id);
  ASSERT_TRUE(granted.ok());
  EXPECT_EQ(granted->granted_s, before.lease_ttl_s);  // valid_until uses the server's TTL

  const size_t before_cut = history_.Events().size();
  // Cut c off from etcd: every request it makes fails as if the network were down.
  Failpoints::Arm("cluster.etcd_request", [](void* arg) {
    auto* fp = static_cast<EtcdRequestFailpoint*>(arg);
    if (fp->node_id == "c") fp->fail = true;
  });
  // Watch c's lease from outside until the server has expired it.
  Clock::time_point expired_at{};
  ASSERT_TRUE(WaitFor([&] {
    Result<EtcdLeaseTtl> ttl = client_->TimeToLive(before.lease_id);
    if (ttl.ok() && ttl->remaining_s == -1) expired_at = Clock::now();
    return expired_at != Clock::time_point{};
  }, 10s));
  const OwnershipManager::Snapshot cut = c->manager().GetSnapshot();
  EXPECT_FALSE(cut.registered);
  EXPECT_EQ(cut.leases_abandoned, 1u);
  EXPECT_TRUE(c->Owned().empty());
  // Every partition c had was stopped for lease risk, before valid_until (which cannot
  // be later than the server's expiry) and before the server expired the lease.
  size_t stops = 0;
  const std::vector<Event> events = history_.Events();
  for (size_t i = before_cut; i < events.size(); ++i) {
    const Event& e = events[i];
    if (e.node != "c" || e.acquired) continue;
    ++stops;
    EXPECT_EQ(e.reason, StopReason::kLeaseAtRisk);
    EXPECT_LT(e.at, cut.valid_until);
    const auto ahead_ms = std::chrono::duration_cast<std::chrono::milliseconds>(expired_at - e.at).count();
    RecordProperty("stop_ahead_of_observed_expiry_ms_p" + std::to_string(e.partition), int(ahead_ms));
    EXPECT_LT(e.at, expired_at);
  }
  EXPECT_EQ(stops, had.size());
  EXPECT_LE(cut.valid_until, expired_at);

  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "b"});
  for (const auto& [p, old_epoch] : had) {
    const auto a_owned = a->Owned();
    const int64_t now = a_owned.count(p) ? a_owned.at(p) : b->Owned().at(p);
    EXPECT_GT(now, old_epoch) << "partition " << p;
  }
  // The network heals: c registers with a new lease and gets its share back, at new epochs.
  Failpoints::Clear();
  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "b", "c"});
  EXPECT_NE(c->manager().GetSnapshot().lease_id, before.lease_id);
  for (const auto& [p, epoch] : c->Owned()) EXPECT_GT(epoch, had.count(p) ? had.at(p) : 0) << p;
  a->manager().Stop();
  b->manager().Stop();
  c->manager().Stop();
  ExpectSafeHistory(history_.Events());
}

TEST_F(OwnershipTest, DrainMovesEveryPartitionOffTheNodeAndUndrainBringsThemBack) {
  auto a = StartNode("a");
  auto b = StartNode("b");
  auto c = StartNode("c");
  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "b", "c"});
  const OwnershipKeys keys("test");
  const size_t before = history_.Events().size();
  ASSERT_TRUE(SetDraining(client_.get(), keys, "b", true).ok());
  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "c"});
  EXPECT_TRUE(b->Owned().empty());
  EXPECT_TRUE(b->manager().GetSnapshot().registered);  // still a member, just owns nothing
  const std::vector<Event> events = history_.Events();
  for (size_t i = before; i < events.size(); ++i) {
    if (events[i].node == "b") EXPECT_EQ(events[i].reason, StopReason::kDraining);
  }
  ASSERT_TRUE(SetDraining(client_.get(), keys, "b", false).ok());
  ExpectConverged({a.get(), b.get(), c.get()}, {"a", "b", "c"});
  a->manager().Stop();
  b->manager().Stop();
  c->manager().Stop();
  ExpectSafeHistory(history_.Events());
}

TEST_F(OwnershipTest, EtcdDownStopsEveryOwnerWithoutCrashing) {
  auto a = StartNode("a");
  auto b = StartNode("b");
  ExpectConverged({a.get(), b.get()}, {"a", "b"});
  const size_t before = history_.Events().size();
  etcd_.Stop();
  EXPECT_TRUE(WaitFor([&] { return a->Owned().empty() && b->Owned().empty(); }, 10s));
  const std::vector<Event> events = history_.Events();
  EXPECT_EQ(events.size(), before + kPartitions);
  for (size_t i = before; i < events.size(); ++i) {
    EXPECT_FALSE(events[i].acquired);
    EXPECT_EQ(events[i].reason, StopReason::kLeaseAtRisk);
  }
  a->manager().Stop();  // bounded: every etcd call times out
  b->manager().Stop();
  ExpectSafeHistory(history_.Events());
}

TEST_F(OwnershipTest, SecondProcessWithTheSameNodeIdIsRefused) {
  auto a = StartNode("a");
  ASSERT_TRUE(a->manager().GetSnapshot().registered);
  History other;
  Node twin("a", etcd_.client_url(), &other);
  Status st = twin.manager().Start();  // waits one TTL for a previous run's key, then refuses
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("registered by another live process"), std::string::npos) << st.ToString();
  EXPECT_TRUE(other.Events().empty());
  // The first one is untouched, and once it has left the id can be used again.
  EXPECT_EQ(client_->Get(OwnershipKeys("test").Member("a"))->kvs.at(0).lease, a->manager().GetSnapshot().lease_id);
  a->manager().Stop();
  EXPECT_TRUE(twin.manager().Start().ok());
  twin.manager().Stop();
}

TEST(OwnershipStartTest, UnreachableEtcdOrBadOptionsGiveAClearErrorAndNothingRuns) {
  History history;
  Node node("n1", "http://127.0.0.1:" + std::to_string(EtcdProcess::FreePort()), &history);
  Status st = node.manager().Start();
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("etcd unreachable"), std::string::npos) << st.ToString();
  node.manager().Stop();  // nothing to stop

  OwnershipManagerOptions bad = Node::MakeOptions("", "http://127.0.0.1:1", 2);
  OwnershipManager no_id(bad, &node);
  EXPECT_NE(no_id.Start().message().find("cluster.node_id"), std::string::npos);
  bad = Node::MakeOptions("n/1", "http://127.0.0.1:1", 2);
  OwnershipManager slash(bad, &node);
  EXPECT_EQ(slash.Start().code(), Status::Code::kInvalidArgument);
  bad = Node::MakeOptions("n1", "http://127.0.0.1:1", 2);
  bad.cluster.safety_margin_ms = 1500;
  OwnershipManager margin(bad, &node);
  EXPECT_NE(margin.Start().message().find("safety_margin_ms"), std::string::npos);
}

}  // namespace
}  // namespace ordersync
