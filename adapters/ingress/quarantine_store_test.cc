#include "adapters/ingress/quarantine_store.h"

#include <gtest/gtest.h>

#include "adapters/storage/rocksdb_store.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

class QuarantineStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    StorageOptions so;
    so.data_dir = dir_.path() + "/db";
    so.block_cache_mb = 8;
    so.write_buffer_mb = 4;
    auto store = RocksDbStore::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  std::unique_ptr<QuarantineWriter> Writer(QuarantineOptions o = {}) {
    auto w = QuarantineWriter::Open(store_.get(), o, Durability::kWal);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return std::move(w).value();
  }
  static QuarantineInput Input(std::string_view reason, std::string_view frame) {
    QuarantineInput in;
    in.received_at_ns = 1234;
    in.endpoint = "ack";
    in.reason = reason;
    in.description = "because";
    in.routing_id = std::string_view("\x00\x01\x02", 3);
    in.peer_address = "127.0.0.1";
    in.curve_key_name = "wms";
    in.source = "WMS-EAST";
    in.event_id = "e-1";
    in.order_id = "SO-1";
    in.frame_index = 3;
    in.frame = frame;
    return in;
  }
  std::vector<QuarantineEntry> List() {
    std::vector<QuarantineEntry> out;
    EXPECT_TRUE(ListQuarantine(store_.get(), 0, 0, &out).ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<RocksDbStore> store_;
};

TEST_F(QuarantineStoreTest, RecordsRoundTripEveryField) {
  auto w = Writer();
  w->Add(Input("missing_field:order_id", "frame-bytes"));
  ASSERT_TRUE(w->Flush().ok());
  const auto entries = List();
  ASSERT_EQ(entries.size(), 1u);
  const QuarantineEntry& e = entries[0];
  EXPECT_EQ(e.id, 1u);
  EXPECT_EQ(e.received_at_ns, 1234);
  EXPECT_EQ(e.endpoint, "ack");
  EXPECT_EQ(e.reason, "missing_field:order_id");
  EXPECT_EQ(e.description, "because");
  EXPECT_EQ(e.routing_id, std::string("\x00\x01\x02", 3));
  EXPECT_EQ(e.peer_address, "127.0.0.1");
  EXPECT_EQ(e.curve_key_name, "wms");
  EXPECT_EQ(e.source, "WMS-EAST");
  EXPECT_EQ(e.event_id, "e-1");
  EXPECT_EQ(e.order_id, "SO-1");
  EXPECT_EQ(e.frame_index, 3u);
  EXPECT_EQ(e.frame_size, 11u);
  EXPECT_EQ(e.frame, "frame-bytes");
  QuarantineEntry got;
  ASSERT_TRUE(GetQuarantine(store_.get(), 1, &got).ok());
  EXPECT_EQ(got.reason, e.reason);
  EXPECT_TRUE(GetQuarantine(store_.get(), 2, &got).IsNotFound());
}

TEST_F(QuarantineStoreTest, LongFrameIsCutButItsSizeKept) {
  QuarantineOptions o;
  o.max_frame_bytes = 4;
  auto w = Writer(o);
  w->Add(Input("oversized_message", "0123456789"));
  ASSERT_TRUE(w->Flush().ok());
  const auto entries = List();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].frame, "0123");
  EXPECT_EQ(entries[0].frame_size, 10u);
}

TEST_F(QuarantineStoreTest, EntryCapDropsOldestFirstAndCountsDrops) {
  QuarantineOptions o;
  o.max_entries = 3;
  auto w = Writer(o);
  for (int i = 1; i <= 5; ++i) {
    w->Add(Input("r" + std::to_string(i), "f"));
    ASSERT_TRUE(w->Flush().ok());
  }
  // Several in one flush, more than the cap: the oldest new ones go too.
  for (int i = 6; i <= 10; ++i) w->Add(Input("r" + std::to_string(i), "f"));
  ASSERT_TRUE(w->Flush().ok());
  const auto entries = List();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].id, 8u);
  EXPECT_EQ(entries[0].reason, "r8");
  EXPECT_EQ(entries[2].id, 10u);
  QuarantineCounters c;
  ASSERT_TRUE(ReadQuarantineCounters(store_.get(), &c).ok());
  EXPECT_EQ(c.count, 3u);
  EXPECT_EQ(c.dropped, 7u);
  EXPECT_EQ(c.first_id, 8u);
  EXPECT_EQ(c.next_id, 11u);
}

TEST_F(QuarantineStoreTest, ByteCapDropsOldestFirst) {
  QuarantineOptions o;
  auto w = Writer(o);
  w->Add(Input("a", std::string(1000, 'x')));
  ASSERT_TRUE(w->Flush().ok());
  const uint64_t one = w->counters().bytes;
  w.reset();
  o.max_bytes = one * 2 + one / 2;  // room for two
  w = Writer(o);
  w->Add(Input("b", std::string(1000, 'x')));
  w->Add(Input("c", std::string(1000, 'x')));
  ASSERT_TRUE(w->Flush().ok());
  const auto entries = List();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].reason, "b");
  EXPECT_EQ(w->counters().dropped, 1u);
  EXPECT_LE(w->counters().bytes, o.max_bytes);
}

TEST_F(QuarantineStoreTest, CountersSurviveReopenAndIdsContinue) {
  {
    auto w = Writer();
    w->Add(Input("a", "f"));
    w->Add(Input("b", "f"));
    ASSERT_TRUE(w->Flush().ok());
  }
  Reopen();
  auto w = Writer();
  EXPECT_EQ(w->counters().count, 2u);
  w->Add(Input("c", "f"));
  ASSERT_TRUE(w->Flush().ok());
  const auto entries = List();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[2].id, 3u);
  std::vector<QuarantineEntry> after;
  ASSERT_TRUE(ListQuarantine(store_.get(), 1, 1, &after).ok());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, 2u);
}

}  // namespace
}  // namespace ordersync
