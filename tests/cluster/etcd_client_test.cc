// EtcdClient and the ownership key operations against a real etcd (tests/cluster/
// etcd_process.h): the gateway's shapes, etcd's own error text, unreachable endpoints,
// failover to the next endpoint, and the compare-and-set txns ownership rests on.
#include "adapters/cluster/etcd_client.h"

#include <gtest/gtest.h>

#include "adapters/cluster/ownership_keys.h"
#include "tests/cluster/etcd_process.h"

namespace ordersync {
namespace {

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(etcd_.Start().ok()); }

  EtcdClientOptions Options() {
    EtcdClientOptions o;
    o.endpoints = {etcd_.client_url()};
    o.request_timeout_ms = 1000;
    return o;
  }

  EtcdProcess etcd_;
};

std::string DeadEndpoint() { return "http://127.0.0.1:" + std::to_string(EtcdProcess::FreePort()); }

TEST(Base64Test, RoundTripsEveryByteAndRejectsGarbage) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(char(i));
  for (size_t n : {0, 1, 2, 3, 4, 255, 256}) {
    std::string out;
    ASSERT_TRUE(etcd::Base64Decode(etcd::Base64Encode(all.substr(0, n)), &out));
    EXPECT_EQ(out, all.substr(0, n));
  }
  EXPECT_EQ(etcd::Base64Encode("a"), "YQ==");
  std::string out;
  EXPECT_FALSE(etcd::Base64Decode("YQ=", &out));
  EXPECT_FALSE(etcd::Base64Decode("Y!==", &out));
  EXPECT_EQ(PrefixRangeEnd("/a/"), "/a0");
}

TEST_F(EtcdClientTest, PutGetRangeDeleteRoundTripBinaryValues) {
  EtcdClient client(Options());
  const std::string value("bin\0\xff", 5);
  Result<int64_t> rev = client.Put("/t/a", value);
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  ASSERT_TRUE(client.Put("/t/b", "2").ok());
  ASSERT_TRUE(client.Put("/u/c", "3").ok());
  Result<EtcdRangeResult> range = client.RangePrefix("/t/");
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->kvs.size(), 2u);
  EXPECT_EQ(range->kvs[0].key, "/t/a");
  EXPECT_EQ(range->kvs[0].value, value);
  EXPECT_EQ(range->kvs[0].create_revision, *rev);
  EXPECT_GE(range->revision, *rev + 2);
  Result<int64_t> deleted = client.Delete("/t/a");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  EXPECT_TRUE(client.Get("/t/a")->kvs.empty());
}

TEST_F(EtcdClientTest, LeaseGrantKeepAliveTimeToLiveRevoke) {
  EtcdClient client(Options());
  Result<EtcdLease> lease = client.GrantLease(5);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  EXPECT_EQ(lease->ttl_s, 5);
  ASSERT_TRUE(client.Put("/l/k", "v", lease->id).ok());
  Result<EtcdLease> renewed = client.KeepAlive(lease->id);
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->ttl_s, 5);
  Result<EtcdLeaseTtl> ttl = client.TimeToLive(lease->id);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->granted_s, 5);
  EXPECT_GT(ttl->remaining_s, 0);
  ASSERT_TRUE(client.RevokeLease(lease->id).ok());
  EXPECT_TRUE(client.Get("/l/k")->kvs.empty());  // keys go with the lease
  EXPECT_EQ(client.TimeToLive(lease->id)->remaining_s, -1);
  Result<EtcdLease> gone = client.KeepAlive(lease->id);
  EXPECT_TRUE(gone.status().IsNotFound()) << gone.status().ToString();
}

TEST_F(EtcdClientTest, EtcdErrorsCarryEtcdsText) {
  EtcdClient client(Options());
  Status put = client.Put("/x", "v", /*lease=*/12345).status();
  EXPECT_TRUE(put.IsNotFound()) << put.ToString();
  EXPECT_NE(put.message().find("requested lease not found"), std::string::npos) << put.ToString();
  Status revoke = client.RevokeLease(12345);
  EXPECT_NE(revoke.message().find("lease not found"), std::string::npos) << revoke.ToString();
}

TEST_F(EtcdClientTest, UnreachableEndpointGivesAClearErrorWithinTheTimeout) {
  EtcdClientOptions o;
  o.endpoints = {DeadEndpoint(), DeadEndpoint()};
  o.request_timeout_ms = 300;
  EtcdClient client(o);
  Result<EtcdRangeResult> range = client.RangePrefix("/");
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(range.status().message().find("etcd unreachable"), std::string::npos);
  EXPECT_NE(range.status().message().find(o.endpoints[0]), std::string::npos) << range.status().ToString();
  EXPECT_NE(range.status().message().find(o.endpoints[1]), std::string::npos) << range.status().ToString();
  EXPECT_FALSE(client.Health().ok());
}

TEST_F(EtcdClientTest, FailsOverToTheNextEndpoint) {
  EtcdClientOptions o = Options();
  o.endpoints.insert(o.endpoints.begin(), DeadEndpoint());
  EtcdClient client(o);
  ASSERT_TRUE(client.Put("/f", "1").ok());
  EXPECT_EQ(client.Get("/f")->kvs.at(0).value, "1");
  EXPECT_TRUE(client.Health().ok());
}

TEST_F(EtcdClientTest, PutIfAbsentCreatesOnceAndReportsTheHolder) {
  EtcdClient client(Options());
  OwnershipKeys keys("t");
  Result<EtcdLease> lease = client.GrantLease(10);
  ASSERT_TRUE(lease.ok());
  const std::string mine = EncodeOwnerValue("n1", lease->id, 1);
  Result<AcquireResult> first = TryAcquirePartition(&client, keys, 3, mine, lease->id);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->acquired);
  EXPECT_EQ(client.Get(keys.Owner(3))->kvs.at(0).create_revision, first->epoch);
  // The same request again (a retry after a lost answer): still ours, same epoch.
  Result<AcquireResult> retry = TryAcquirePartition(&client, keys, 3, mine, lease->id);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->acquired);
  EXPECT_EQ(retry->epoch, first->epoch);
  // Someone else cannot take it, and learns who holds it.
  Result<AcquireResult> other = TryAcquirePartition(&client, keys, 3, EncodeOwnerValue("n2", 0, 2), 0);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->acquired);
  EXPECT_EQ(other->current.node_id, "n1");
  EXPECT_EQ(other->current.epoch, first->epoch);
}

TEST_F(EtcdClientTest, StaleReleaseIsRefusedAndLeavesTheNewOwnersKey) {
  EtcdClient client(Options());
  OwnershipKeys keys("t");
  Result<EtcdLease> old_lease = client.GrantLease(10);
  ASSERT_TRUE(old_lease.ok());
  const std::string old_value = EncodeOwnerValue("n1", old_lease->id, 1);
  Result<AcquireResult> old_owner = TryAcquirePartition(&client, keys, 0, old_value, old_lease->id);
  ASSERT_TRUE(old_owner.ok() && old_owner->acquired);
  // n1's lease ends (here: revoked), n2 takes the partition with a larger epoch.
  ASSERT_TRUE(client.RevokeLease(old_lease->id).ok());
  Result<EtcdLease> new_lease = client.GrantLease(10);
  ASSERT_TRUE(new_lease.ok());
  Result<AcquireResult> new_owner =
      TryAcquirePartition(&client, keys, 0, EncodeOwnerValue("n2", new_lease->id, 2), new_lease->id);
  ASSERT_TRUE(new_owner.ok() && new_owner->acquired);
  EXPECT_GT(new_owner->epoch, old_owner->epoch);
  // n1, late, releases with its old value: refused, n2's key stays.
  Status stale = ReleasePartition(&client, keys, 0, old_value);
  EXPECT_EQ(stale.code(), Status::Code::kInvalidArgument) << stale.ToString();
  EXPECT_NE(stale.message().find("refused"), std::string::npos);
  EXPECT_NE(stale.message().find("n2"), std::string::npos);
  Result<EtcdRangeResult> now = client.Get(keys.Owner(0));
  ASSERT_EQ(now->kvs.size(), 1u);
  EXPECT_EQ(now->kvs[0].create_revision, new_owner->epoch);
  // A release of a key that is already gone is fine.
  EXPECT_TRUE(ReleasePartition(&client, keys, 5, old_value).ok());
}

}  // namespace
}  // namespace ordersync
