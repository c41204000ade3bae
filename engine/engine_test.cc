// Engine front-door behaviour: admission (Busy), target back-pressure, partition tasks and
// replays, on a real RocksDB store.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <future>

#include "engine/keys.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using testing::EngineHarness;

std::vector<LineSpec> OneLine() { return {{1, "SKU-A", 5, "EA", 100}}; }

class AppendTask final : public PartitionTask {
 public:
  explicit AppendTask(std::string bytes) : bytes_(std::move(bytes)) {}
  void Run(PartitionContext& ctx) override { seq_ = ctx.AppendToOutbox(bytes_); }
  void Done(const Status& s) override { done_.set_value(s.ok() ? seq_ : 0); }
  std::future<uint64_t> future() { return done_.get_future(); }

 private:
  std::string bytes_;
  uint64_t seq_ = 0;
  std::promise<uint64_t> done_;
};

TEST(EngineTest, PartitionTaskAppendsToOutboxAfterEngineCommands) {
  EngineHarness h;
  h.Send(testing::Accepted("O1", "e1", OneLine()));
  auto before = h.Outbox();
  ASSERT_EQ(before.size(), 1u);
  const uint32_t p = h.engine().PartitionFor("O1");
  // Re-append the same command, as a DLQ replay would: it gets the next outbox_seq.
  std::string value;
  std::string key;
  for (auto it = h.store().NewIterator(Table::kOutbox, "", ""); it->Valid(); it->Next()) value.assign(it->value());
  auto task = std::make_unique<AppendTask>(value);
  auto done = task->future();
  ASSERT_TRUE(h.engine().SubmitTask(p, std::move(task)).ok());
  EXPECT_EQ(done.get(), before[0].outbox_seq + 1);
  auto after = h.Outbox();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].command_id, "O1/SO/O1");
  // The engine's own next command continues after the task's.
  h.Send(testing::Reserved("O1", "e2", "R1", OneLine()));
  auto last = h.OutboxOf("O1").back();
  EXPECT_EQ(last.kind, CommandKind::ConfirmAllocation);
  EXPECT_GT(h.Outbox().back().outbox_seq, after[1].outbox_seq);
  EXPECT_FALSE(h.engine().SubmitTask(9999, std::make_unique<AppendTask>(value)).ok());
}

TEST(EngineTest, BlockedTargetAnswersBusyForEventsRoutedToIt) {
  EngineOptions options = testing::TestEngineOptions();
  options.routing.rules.push_back(RouteRule{"2000", false, CommandKind::CreateSalesOrder, "sap-eu"});
  EngineHarness h(options);
  h.engine().SetTargetBlocked("sap-eu", true);
  EXPECT_TRUE(h.engine().IsTargetBlocked("sap-eu"));
  EnvelopeSpec eu = testing::Accepted("O1", "e1", OneLine());
  eu.company_code = "2000";
  MilestoneBuilder builder;
  InboundEvent ev;
  ev.bytes = EventBuffer::Copy(builder.Build(eu));
  Status s = h.engine().Submit(std::move(ev));
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  // Other targets proceed.
  EXPECT_EQ(h.Send(testing::Accepted("O2", "e2", OneLine())).outcome, EventOutcome::kApplied);
  h.engine().SetTargetBlocked("sap-eu", false);
  EXPECT_EQ(h.Send(eu).outcome, EventOutcome::kApplied);
}

TEST(EngineTest, ReplaySkipsExactDedupButNotBusinessDedup) {
  EngineHarness h;
  // Excepted first (order unknown line), then fixed upstream and replayed.
  h.Send(testing::Accepted("O1", "e1", OneLine()));
  EnvelopeSpec bad = testing::Reserved("O1", "e2", "R1", {{9, "SKU-A", 1, "EA", 0}});
  EXPECT_EQ(h.Send(bad).outcome, EventOutcome::kExcepted);
  EXPECT_EQ(h.Send(bad).outcome, EventOutcome::kDuplicateExact);  // a resend is a duplicate

  MilestoneBuilder builder;
  auto replay = [&](const EnvelopeSpec& spec) {
    std::promise<EventOutcome> promise;
    struct Sink : ResultSink {
      std::promise<EventOutcome>* p;
      void OnEventResult(uint64_t, const EventReport& r) override { p->set_value(r.outcome); }
    } sink;
    sink.p = &promise;
    InboundEvent ev;
    ev.bytes = EventBuffer::Copy(builder.Build(spec));
    ev.sink = &sink;
    ev.replay = true;
    EXPECT_TRUE(h.engine().Submit(std::move(ev)).ok());
    return promise.get_future().get();
  };
  EXPECT_EQ(replay(bad), EventOutcome::kExcepted);  // re-evaluated, not deduplicated
  EnvelopeSpec good = testing::Reserved("O1", "e3", "R1", OneLine());
  EXPECT_EQ(h.Send(good).outcome, EventOutcome::kApplied);
  EXPECT_EQ(replay(good), EventOutcome::kDuplicateBusiness);  // never applied twice
  EXPECT_EQ(h.OutboxOf("O1").size(), 2u);
}

TEST(EngineTest, FullPartitionAnswersBusyAndSameDayUsesTheReserve) {
  EngineOptions options = testing::TestEngineOptions();
  options.partitions = 1;
  options.workers = 1;
  options.partition_queue_capacity = 0;  // Standard events never fit
  options.priority_reserve = 1000;
  EngineHarness h(options);
  MilestoneBuilder builder;
  InboundEvent standard;
  standard.bytes = EventBuffer::Copy(builder.Build(testing::Accepted("O1", "e1", OneLine())));
  Status s = h.engine().Submit(std::move(standard));
  EXPECT_TRUE(s.IsBusy());
  EXPECT_NE(standard.bytes.data(), nullptr) << "a refused event is left with the caller";
  EnvelopeSpec urgent = testing::Accepted("O2", "e2", OneLine());
  urgent.priority = Priority::SameDay;
  EXPECT_EQ(h.Send(urgent).outcome, EventOutcome::kApplied);
}

TEST(EngineTest, UnreadableOrderStateFailsItsEventsInsteadOfStartingAfresh) {
  EngineHarness h;
  h.Send(testing::Accepted("O1", "e1", OneLine()));
  h.Restart();  // empty the order cache: the next event must read the order from the store
  std::string key;
  OrderKey(&key, h.engine().PartitionFor("O1"), "O1");
  auto batch = h.store().NewBatch();
  batch->Put(Table::kOrders, key, std::string(40, '\x7f'));  // not a valid order record
  ASSERT_TRUE(h.store().Write(batch.get(), Durability::kWal).ok());
  testing::SentResult r = h.Send(testing::Reserved("O1", "e2", "R1", OneLine()));
  EXPECT_EQ(r.outcome, EventOutcome::kStoreError);
  EXPECT_NE(r.reason.find("Corruption"), std::string::npos) << r.reason;
  EXPECT_EQ(h.OutboxOf("O1").size(), 1u) << "no command may be issued on a guessed state";
  EXPECT_EQ(h.Send(testing::Accepted("O2", "e3", OneLine())).outcome, EventOutcome::kApplied);
}

}  // namespace
}  // namespace ordersync
