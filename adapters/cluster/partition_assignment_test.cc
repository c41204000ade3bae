#include "adapters/cluster/partition_assignment.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace ordersync {
namespace {

std::vector<ClusterMember> Members(std::initializer_list<const char*> ids) {
  std::vector<ClusterMember> m;
  for (const char* id : ids) m.push_back({id, false});
  return m;
}

std::map<std::string, int> Counts(const std::vector<std::string>& owner) {
  std::map<std::string, int> c;
  for (const std::string& o : owner) ++c[o];
  return c;
}

TEST(PartitionAssignmentTest, SameInputSameAnswerWhateverTheMemberOrder) {
  const auto a = AssignPartitions(64, Members({"node-a", "node-b", "node-c"}));
  const auto b = AssignPartitions(64, Members({"node-c", "node-a", "node-b"}));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, AssignPartitions(64, Members({"node-a", "node-b", "node-c"})));
}

TEST(PartitionAssignmentTest, WeightIsStableAcrossBuilds) {
  // Pinned values: a change here would move partitions between nodes on upgrade.
  EXPECT_EQ(RendezvousWeight(0, "node-a"), RendezvousWeight(0, "node-a"));
  EXPECT_NE(RendezvousWeight(0, "node-a"), RendezvousWeight(1, "node-a"));
  EXPECT_NE(RendezvousWeight(0, "node-a"), RendezvousWeight(0, "node-b"));
  EXPECT_EQ(RendezvousWeight(7, "n1"), 0xc6906f9f9d13c519ull);
  EXPECT_EQ(RendezvousWeight(0, "node-a"), 0xc1adaf88d3eddba6ull);
}

TEST(PartitionAssignmentTest, EveryPartitionHasExactlyOneLiveOwner) {
  const auto members = Members({"n1", "n2", "n3"});
  const auto owner = AssignPartitions(64, members);
  ASSERT_EQ(owner.size(), 64u);
  const std::set<std::string> ids = {"n1", "n2", "n3"};
  for (const std::string& o : owner) EXPECT_TRUE(ids.count(o)) << o;  // complete; one per slot = disjoint
}

TEST(PartitionAssignmentTest, NoMembersLeavesEverythingUnowned) {
  for (const std::string& o : AssignPartitions(8, {})) EXPECT_EQ(o, "");
  std::vector<ClusterMember> draining = {{"n1", true}};
  for (const std::string& o : AssignPartitions(8, draining)) EXPECT_EQ(o, "");
}

TEST(PartitionAssignmentTest, DrainingMemberGetsNothingAndOnlyItsPartitionsMove) {
  auto members = Members({"n1", "n2", "n3"});
  const auto before = AssignPartitions(64, members);
  members[1].draining = true;
  const auto after = AssignPartitions(64, members);
  for (uint32_t p = 0; p < 64; ++p) {
    EXPECT_NE(after[p], "n2");
    if (before[p] != "n2") EXPECT_EQ(after[p], before[p]) << p;
  }
}

TEST(PartitionAssignmentTest, JoinMovesOnlyPartitionsToTheNewMember) {
  const auto before = AssignPartitions(64, Members({"n1", "n2", "n3"}));
  const auto after = AssignPartitions(64, Members({"n1", "n2", "n3", "n4"}));
  int moved = 0;
  for (uint32_t p = 0; p < 64; ++p) {
    if (before[p] != after[p]) {
      EXPECT_EQ(after[p], "n4") << p;
      ++moved;
    }
  }
  EXPECT_GT(moved, 0);
  EXPECT_LE(moved, 64 / 4 * 2);  // about a quarter; at most twice the fair share
}

TEST(PartitionAssignmentTest, LeaveMovesOnlyTheLeaversPartitions) {
  const auto before = AssignPartitions(64, Members({"n1", "n2", "n3"}));
  const auto after = AssignPartitions(64, Members({"n1", "n3"}));
  for (uint32_t p = 0; p < 64; ++p) {
    if (before[p] != "n2") {
      EXPECT_EQ(after[p], before[p]) << p;
    } else {
      EXPECT_TRUE(after[p] == "n1" || after[p] == "n3") << p;
    }
  }
}

TEST(PartitionAssignmentTest, SixtyFourPartitionsOverThreeNodesAreBalancedWithinReason) {
  // Realistic node ids; each gets between half and twice its fair share (21.3).
  for (const auto& ids : {Members({"n1", "n2", "n3"}), Members({"node-a", "node-b", "node-c"}),
                          Members({"ordersync-1", "ordersync-2", "ordersync-3"}),
                          Members({"10.0.0.11", "10.0.0.12", "10.0.0.13"})}) {
    const auto counts = Counts(AssignPartitions(64, ids));
    ASSERT_EQ(counts.size(), 3u);
    for (const auto& [node, n] : counts) {
      EXPECT_GE(n, 11) << node;
      EXPECT_LE(n, 42) << node;
    }
  }
}

TEST(PartitionAssignmentTest, DuplicateNodeIdsCountOnce) {
  const auto once = AssignPartitions(16, Members({"n1", "n2"}));
  const auto twice = AssignPartitions(16, Members({"n1", "n2", "n2"}));
  EXPECT_EQ(once, twice);
}

}  // namespace
}  // namespace ordersync
