// JetStreamCheckpointStore against three real, clustered nats-server processes (R3):
// multi-MB round trip, epoch fencing, newest wins, old chunks cleaned up.
#include "adapters/cluster/jetstream_checkpoint_store.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "tests/cluster/nats_cluster.h"

namespace ordersync {
namespace {

std::string Blob(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class JetStreamCheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.status().ok()) << cluster_.status().ToString();
    auto conn = NatsConnection::Connect(cluster_.ClientOptions());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    auto store = JetStreamCheckpointStore::Open(conn_.get(), options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  uint64_t ChunkMessages() {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    EXPECT_EQ(js_GetStreamInfo(&si, conn_->js(), options_.chunk_stream.c_str(), nullptr, &jerr), NATS_OK);
    if (si == nullptr) return 0;
    uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
  }

  test::NatsCluster cluster_{3};
  JetStreamCheckpointStoreOptions options_;
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamCheckpointStore> store_;
};

TEST_F(JetStreamCheckpointStoreTest, MultiMegabyteBlobRoundTripsWithEpochAndCoveredSequence) {
  EXPECT_TRUE(store_->Get(5).status().IsNotFound());
  const std::string blob = Blob((5u << 20) + 123, 1);  // 5 MiB: 11 chunks of 512 KiB
  auto rev = store_->Put(5, 3, 1000, blob);
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  auto got = store_->Get(5);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->epoch, 3u);
  EXPECT_EQ(got->covered_seq, 1000u);
  EXPECT_EQ(got->revision, *rev);
  EXPECT_TRUE(got->blob == blob);
  EXPECT_EQ(ChunkMessages(), 11u);
  // An empty checkpoint is a valid one (one empty chunk).
  ASSERT_TRUE(store_->Put(6, 1, 0, "").ok());
  auto empty = store_->Get(6);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->blob.empty());
}

TEST_F(JetStreamCheckpointStoreTest, StaleEpochIsRefusedAndNewestWins) {
  ASSERT_TRUE(store_->Put(0, 5, 100, Blob(1000, 1)).ok());
  // The same owner checkpoints again: newer covered sequence wins.
  ASSERT_TRUE(store_->Put(0, 5, 200, Blob(2000, 2)).ok());
  // A new owner (higher epoch) takes over.
  const std::string newest = Blob(700000, 3);
  ASSERT_TRUE(store_->Put(0, 8, 250, newest).ok());
  // The old owner, not yet aware it lost the partition, is refused.
  auto stale = store_->Put(0, 5, 300, Blob(3000, 4));
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(IsFenced(stale.status())) << stale.status().ToString();
  auto got = store_->Get(0);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->epoch, 8u);
  EXPECT_EQ(got->covered_seq, 250u);
  EXPECT_TRUE(got->blob == newest);
  // Other partitions are independent.
  ASSERT_TRUE(store_->Put(1, 2, 10, "p1").ok());
  EXPECT_EQ(store_->Get(1)->blob, "p1");
}

TEST_F(JetStreamCheckpointStoreTest, OldChunksArePurgedAfterANewerCheckpoint) {
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store_->Put(2, 1, static_cast<uint64_t>(i), Blob(1u << 20, static_cast<uint32_t>(i))).ok());
  }
  // Only the latest checkpoint's two chunks remain.
  EXPECT_EQ(ChunkMessages(), 2u);
  auto got = store_->Get(2);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->covered_seq, 3u);
  EXPECT_TRUE(got->blob == Blob(1u << 20, 3));
}

TEST_F(JetStreamCheckpointStoreTest, MissingChunkIsCorruptionNotAWrongCheckpoint) {
  ASSERT_TRUE(store_->Put(3, 1, 9, Blob(600000, 7)).ok());
  // Delete the first chunk behind the store's back.
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&si, conn_->js(), options_.chunk_stream.c_str(), nullptr, &jerr), NATS_OK);
  const uint64_t first = si->State.FirstSeq;
  jsStreamInfo_Destroy(si);
  ASSERT_EQ(js_DeleteMsg(conn_->js(), options_.chunk_stream.c_str(), first, nullptr, &jerr), NATS_OK);
  auto got = store_->Get(3);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Status::Code::kCorruption) << got.status().ToString();
}

TEST_F(JetStreamCheckpointStoreTest, PeekReadsThePointerOnlyAndCreatesNothing) {
  EXPECT_TRUE(store_->Peek(2).status().IsNotFound());
  const std::string blob = Blob((1u << 20) + 5, 9);  // 3 chunks
  auto rev = store_->Put(2, 4, 777, blob);
  ASSERT_TRUE(rev.ok()) << rev.status().ToString();
  auto info = store_->Peek(2);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->epoch, 4u);
  EXPECT_EQ(info->covered_seq, 777u);
  EXPECT_EQ(info->size, blob.size());
  EXPECT_EQ(info->chunks, 3u);
  EXPECT_EQ(info->revision, *rev);
  // The static form reads the same without a store object...
  auto same = JetStreamCheckpointStore::Peek(conn_.get(), options_, 2);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->covered_seq, 777u);
  // ... and on a bucket that does not exist it creates none.
  JetStreamCheckpointStoreOptions other = options_;
  other.bucket = "no_such_bucket";
  EXPECT_FALSE(JetStreamCheckpointStore::Peek(conn_.get(), other, 2).ok());
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  EXPECT_NE(js_GetStreamInfo(&si, conn_->js(), "KV_no_such_bucket", nullptr, &jerr), NATS_OK);
  if (si != nullptr) jsStreamInfo_Destroy(si);
}

}  // namespace
}  // namespace ordersync
