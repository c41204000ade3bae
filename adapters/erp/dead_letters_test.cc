// Dead-letter records, filters, purge and the replay task, on a real engine and RocksDB.
#include "adapters/erp/dead_letters.h"

#include <future>

#include <gtest/gtest.h>

#include "adapters/erp/erp_test_util.h"
#include "engine/coding.h"
#include "engine/keys.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using testing::EngineHarness;
using testing::MakeErpCommand;

DeadLetterRecord Letter(uint32_t p, const std::string& order, uint64_t seq, const std::string& reason,
                        CommandKind kind = CommandKind::PostGoodsIssue, int64_t at_ns = 1'000'000'000'000) {
  DeadLetterRecord r;
  r.partition = p;
  r.command = MakeErpCommand(order, seq, kind);
  r.command_id = testing::CommandIdOf(r.command);
  r.order_id = order;
  r.target = "erp";
  r.kind = kind;
  r.order_cmd_seq = seq;
  r.reason = reason;
  r.message = "because";
  r.blocked_by = order + "/first";
  r.attempts = 2;
  r.dead_lettered_at_ns = at_ns;
  r.needs_review = IsCompensation(kind);
  return r;
}

void PutLetter(StateStore* store, const DeadLetterRecord& r) {
  auto batch = store->NewBatch();
  std::string key;
  DeadLetterKey(&key, r.partition, r.order_id, r.order_cmd_seq);
  batch->Put(Table::kDeadLetters, key, EncodeDeadLetter(r));
  OrderBlockRecord b;
  b.order_id = r.order_id;
  b.from_seq = r.order_cmd_seq;
  b.blocked_by = r.blocked_by;
  b.reason = r.reason;
  OrderBlockKey(&key, r.partition, r.order_id);
  batch->Put(Table::kDeadLetters, key, EncodeOrderBlock(b));
  ASSERT_TRUE(store->Write(batch.get(), Durability::kWal).ok());
}

TEST(DeadLettersTest, RecordsRoundTrip) {
  DeadLetterRecord r = Letter(3, "SO-1", 4, "rejected", CommandKind::CancelSalesOrder);
  std::string key;
  DeadLetterKey(&key, 3, "SO-1", 4);
  DeadLetterRecord back;
  ASSERT_TRUE(DecodeDeadLetter(key, EncodeDeadLetter(r), &back));
  EXPECT_EQ(back.partition, 3u);
  EXPECT_EQ(back.command, r.command);
  EXPECT_EQ(back.command_id, r.command_id);
  EXPECT_EQ(back.order_cmd_seq, 4u);
  EXPECT_EQ(back.kind, CommandKind::CancelSalesOrder);
  EXPECT_TRUE(back.needs_review);
  EXPECT_EQ(back.reason, "rejected");
  EXPECT_FALSE(DecodeDeadLetter(key, "garbage", &back));

  OrderBlockRecord b;
  b.order_id = "SO-1";
  b.state = OrderBlockRecord::State::kReplayed;
  b.replayed_at_outbox_seq = 77;
  b.replayed_max_seq = 5;
  OrderBlockKey(&key, 3, "SO-1");
  OrderBlockRecord bb;
  ASSERT_TRUE(DecodeOrderBlock(key, EncodeOrderBlock(b), &bb));
  EXPECT_EQ(bb.state, OrderBlockRecord::State::kReplayed);
  EXPECT_EQ(bb.replayed_at_outbox_seq, 77u);
  EXPECT_EQ(bb.replayed_max_seq, 5u);
}

TEST(DeadLettersTest, FilterCombinesCriteriaAndAge) {
  const int64_t now = 1'000'000'000'000 + 100 * kNanosPerSecond;
  DeadLetterRecord r = Letter(0, "SO-1", 2, "rejected");
  DeadLetterFilter f;
  EXPECT_FALSE(f.Selective());
  f.order_id = "SO-1";
  EXPECT_TRUE(f.Matches(r, now));
  f.reason = "blocked";
  EXPECT_FALSE(f.Matches(r, now));
  f = DeadLetterFilter{};
  f.older_than_s = 60;
  EXPECT_TRUE(f.Matches(r, now));  // 100 s old
  f.older_than_s = 200;
  EXPECT_FALSE(f.Matches(r, now));
  f = DeadLetterFilter{};
  f.newer_than_s = 50;
  EXPECT_FALSE(f.Matches(r, now));
  f.ids = {r.command_id};
  f.newer_than_s = -1;
  EXPECT_TRUE(f.Matches(r, now));
}

TEST(DeadLettersTest, PurgeDeletesSelectedAndUnblocksEmptiedOrders) {
  EngineHarness h;
  StateStore* store = &h.store();
  PutLetter(store, Letter(1, "SO-A", 2, "rejected"));
  PutLetter(store, Letter(1, "SO-A", 3, "blocked"));
  PutLetter(store, Letter(2, "SO-B", 1, "rejected"));
  DeadLetterFilter all_filter;
  EXPECT_FALSE(PurgeDeadLetters(store, all_filter, Durability::kWal, 0).ok());  // unselective

  DeadLetterFilter f;
  f.reason = "rejected";
  auto report = PurgeDeadLetters(store, f, Durability::kWal, 0);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->purged.size(), 2u);
  ASSERT_EQ(report->unblocked.size(), 1u);  // SO-B had only that one
  EXPECT_EQ(report->unblocked[0].second, "SO-B");

  std::vector<DeadLetterRecord> left;
  ASSERT_TRUE(ListDeadLetters(store, DeadLetterFilter{}, 0, &left).ok());
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].order_cmd_seq, 3u);
  std::vector<OrderBlockRecord> blocks;
  ASSERT_TRUE(ListOrderBlocks(store, &blocks).ok());
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].order_id, "SO-A");
}

TEST(DeadLettersTest, ReplayTaskReappendsInSequenceAndMarksTheOrderReplayed) {
  EngineHarness h;
  const std::string order = "SO-REPLAY";
  const uint32_t p = h.engine().PartitionFor(order);
  // Stored out of order on purpose: the key orders them by order_cmd_seq.
  PutLetter(&h.store(), Letter(p, order, 5, "blocked"));
  PutLetter(&h.store(), Letter(p, order, 3, "rejected"));
  PutLetter(&h.store(), Letter(p, order, 4, "blocked"));

  std::promise<std::pair<Status, std::vector<ReplayedOrder>>> done;
  auto task = std::make_unique<DeadLetterReplayTask>(
      std::vector<std::string>{order, "SO-NOTHING"}, 123,
      [&done](const Status& s, std::vector<ReplayedOrder> r) { done.set_value({s, std::move(r)}); });
  ASSERT_TRUE(h.engine().SubmitTask(p, std::move(task)).ok());
  auto [status, replayed] = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0].command_ids.size(), 3u);
  EXPECT_EQ(replayed[0].max_seq, 5u);
  EXPECT_TRUE(replayed[1].command_ids.empty());

  auto outbox = h.OutboxOf(order);
  ASSERT_EQ(outbox.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(outbox[i].order_cmd_seq, 3 + i);
    EXPECT_EQ(outbox[i].command_id, replayed[0].command_ids[i]);  // same ids as dead-lettered
  }
  EXPECT_EQ(outbox[0].outbox_seq, replayed[0].at_outbox_seq);
  EXPECT_LT(outbox[0].outbox_seq, outbox[1].outbox_seq);
  EXPECT_LT(outbox[1].outbox_seq, outbox[2].outbox_seq);

  std::vector<DeadLetterRecord> left;
  ASSERT_TRUE(ListDeadLetters(&h.store(), DeadLetterFilter{}, 0, &left).ok());
  EXPECT_TRUE(left.empty());
  std::vector<OrderBlockRecord> blocks;
  ASSERT_TRUE(ListOrderBlocks(&h.store(), &blocks).ok());
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].state, OrderBlockRecord::State::kReplayed);
  EXPECT_EQ(blocks[0].replayed_at_outbox_seq, replayed[0].at_outbox_seq);
  EXPECT_EQ(blocks[0].replayed_max_seq, 5u);
}

TEST(DeadLettersTest, SelectOrdersForReplayGroupsByPartitionOnce) {
  EngineHarness h;
  PutLetter(&h.store(), Letter(1, "SO-A", 2, "rejected"));
  PutLetter(&h.store(), Letter(1, "SO-A", 3, "blocked"));
  PutLetter(&h.store(), Letter(4, "SO-B", 1, "rejected"));
  DeadLetterFilter f;
  f.reason = "blocked";
  std::map<uint32_t, std::vector<std::string>> orders;
  ASSERT_TRUE(SelectOrdersForReplay(&h.store(), f, 0, &orders).ok());
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[1], std::vector<std::string>{"SO-A"});
  f = DeadLetterFilter{};
  f.all = true;
  orders.clear();
  ASSERT_TRUE(SelectOrdersForReplay(&h.store(), f, 0, &orders).ok());
  EXPECT_EQ(orders.size(), 2u);
}

}  // namespace
}  // namespace ordersync
