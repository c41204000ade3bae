// Table-driven tests of every lifecycle transition and every exception reason, through
// the real engine on a real RocksDB store (tests/support/engine_harness.h).
#include <gtest/gtest.h>

#include "engine/journal.h"
#include "engine/keys.h"
#include "engine/lifecycle_rules.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using testing::EngineHarness;
using O = EventOutcome;
using CK = CommandKind;

struct Step {
  EnvelopeSpec spec;
  EventOutcome outcome;
  std::string reason_prefix = "";  // the result's reason must start with it
};

struct ExpectedCommand {
  CommandKind kind;
  std::string business_key;
};

struct LifecycleCase {
  std::string name;
  std::vector<Step> steps;
  std::vector<ExpectedCommand> commands;  // of order "O1", in order_cmd_seq order
  std::vector<std::string> exception_reasons = {};  // prefixes, in order
  BillOn bill_on = BillOn::kShip;
};

std::vector<LineSpec> L(int64_t q1, int64_t q2 = 0) {
  std::vector<LineSpec> lines{{1, "SKU-A", q1, "EA", 1250}};
  if (q2 > 0) lines.push_back({2, "SKU-B", q2, "EA", 990});
  return lines;
}

using namespace ordersync::testing;

std::vector<LifecycleCase> Cases() {
  EnvelopeSpec seq1 = Reserved("O1", "e2", "R1", L(5));
  seq1.source_seq = 1;
  EnvelopeSpec seq2 = Picked("O1", "e3", "P1", L(5));
  seq2.source_seq = 2;
  EnvelopeSpec seq1_again = Reserved("O1", "e2b", "R2", L(1));
  seq1_again.source_seq = 1;
  EnvelopeSpec conflicting_reuse = Accepted("O1", "e1", L(99));
  return {
      {"AcceptCreatesSalesOrder", {{Accepted("O1", "e1", L(10, 2)), O::kApplied}}, {{CK::CreateSalesOrder, "O1"}}},
      {"ReservationConfirmsAllocation",
       {{Accepted("O1", "e1", L(10)), O::kApplied}, {Reserved("O1", "e2", "R1", L(10)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"PickIssuesNoCommand",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"ShipmentPostsGoodsIssueThenInvoice",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kApplied},
        {Shipped("O1", "e4", "S1", L(10)), O::kApplied},
        {Delivered("O1", "e5", "S1"), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}, {CK::PostGoodsIssue, "S1"}, {CK::CreateInvoice, "S1"}}},
      {"BillOnDeliveryInvoicesAtDelivery",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kApplied},
        {Shipped("O1", "e4", "S1", L(10)), O::kApplied},
        {Delivered("O1", "e5", "S1"), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}, {CK::PostGoodsIssue, "S1"}, {CK::CreateInvoice, "S1"}},
       {},
       BillOn::kDelivery},
      {"PartialShipmentsEachPostAndInvoice",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kApplied},
        {Shipped("O1", "e4", "S1", L(4)), O::kApplied},
        {Shipped("O1", "e5", "S2", L(6)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}, {CK::PostGoodsIssue, "S1"}, {CK::CreateInvoice, "S1"},
        {CK::PostGoodsIssue, "S2"}, {CK::CreateInvoice, "S2"}}},
      {"ReturnCreatesCreditMemo",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kApplied},
        {Shipped("O1", "e4", "S1", L(10)), O::kApplied},
        {Returned("O1", "e5", "RT1", L(3)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}, {CK::PostGoodsIssue, "S1"}, {CK::CreateInvoice, "S1"},
        {CK::CreateCreditMemo, "RT1"}}},
      {"CancelReleasesEachReservationThenCancels",
       {{Accepted("O1", "e1", L(10, 4)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(5)), O::kApplied},
        {Reserved("O1", "e3", "R2", L(5, 4)), O::kApplied},
        {Cancelled("O1", "e4"), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}, {CK::ConfirmAllocation, "R2"},
        {CK::ReleaseAllocation, "R1"}, {CK::ReleaseAllocation, "R2"}, {CK::CancelSalesOrder, "O1"}}},
      {"CancelWithoutReservationOnlyCancels",
       {{Accepted("O1", "e1", L(10)), O::kApplied}, {Cancelled("O1", "e2"), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::CancelSalesOrder, "O1"}}},
      {"CancelAfterShipmentIsBusinessRuleException",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kApplied},
        {Shipped("O1", "e4", "S1", L(10)), O::kApplied},
        {Cancelled("O1", "e5"), O::kExcepted, "business_rule:cancel_after_shipment"}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}, {CK::PostGoodsIssue, "S1"}, {CK::CreateInvoice, "S1"}},
       {"cancel_after_shipment"}},
      {"OverReservationIsBusinessRuleException",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(6)), O::kApplied},
        {Reserved("O1", "e3", "R2", L(5)), O::kExcepted, "business_rule:over_reservation"}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}},
       {"over_reservation"}},
      {"EventsAfterCancelAreRefused",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Cancelled("O1", "e2"), O::kApplied},
        {Reserved("O1", "e3", "R1", L(1)), O::kExcepted, "business_rule:order_cancelled"}},
       {{CK::CreateSalesOrder, "O1"}, {CK::CancelSalesOrder, "O1"}},
       {"order_cancelled"}},
      {"UnknownLineIsInvalidInput",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", {{7, "SKU-A", 1, "EA", 0}}), O::kExcepted, "invalid_input:unknown_line"}},
       {{CK::CreateSalesOrder, "O1"}},
       {"unknown_line:7"}},
      {"SkuMismatchIsInvalidInput",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", {{1, "SKU-Z", 1, "EA", 0}}), O::kExcepted, "invalid_input:sku_mismatch"}},
       {{CK::CreateSalesOrder, "O1"}},
       {"sku_mismatch"}},
      {"ReservationBeforeOrderParksThenApplies",
       {{Reserved("O1", "e2", "R1", L(10)), O::kParked, "missing_prerequisite:order_accepted"},
        {Accepted("O1", "e1", L(10)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"PickBeforeReservationParksThenApplies",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kParked, "missing_prerequisite:reservation"},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"WholeLifecycleInReverseResolvesInOrder",
       {{Delivered("O1", "e5", "S1"), O::kParked, "missing_prerequisite:order_accepted"},
        {Shipped("O1", "e4", "S1", L(10)), O::kParked, "missing_prerequisite:order_accepted"},
        {Picked("O1", "e3", "P1", L(10)), O::kParked, "missing_prerequisite:order_accepted"},
        {Reserved("O1", "e2", "R1", L(10)), O::kParked, "missing_prerequisite:order_accepted"},
        {Accepted("O1", "e1", L(10)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}, {CK::PostGoodsIssue, "S1"}, {CK::CreateInvoice, "S1"}}},
      {"ShipmentBeyondPickParks",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(4)), O::kApplied},
        {Shipped("O1", "e4", "S1", L(10)), O::kParked, "missing_prerequisite:pick"}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"DeliveryOfUnknownShipmentParks",
       {{Accepted("O1", "e1", L(10)), O::kApplied}, {Delivered("O1", "e5", "S9"), O::kParked, "missing_prerequisite:shipment"}},
       {{CK::CreateSalesOrder, "O1"}}},
      {"ReturnBeyondShipmentParks",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Returned("O1", "e5", "RT1", L(1)), O::kParked, "missing_prerequisite:shipment"}},
       {{CK::CreateSalesOrder, "O1"}}},
      {"ParkedEventRefusedWhenOrderIsCancelled",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Picked("O1", "e3", "P1", L(10)), O::kParked, "missing_prerequisite:reservation"},
        {Cancelled("O1", "e4"), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::CancelSalesOrder, "O1"}},
       {"order_cancelled"}},
      {"InventoryAdjustmentPosts",
       {{Adjusted("O1", "e1", "ADJ-1", "SKU-A", -3), O::kApplied}},
       {{CK::PostInventoryAdjustment, "ADJ-1"}}},
      {"ExactDuplicateChangesNothing",
       {{Accepted("O1", "e1", L(10)), O::kApplied}, {Accepted("O1", "e1", L(10)), O::kDuplicateExact, "exact"}},
       {{CK::CreateSalesOrder, "O1"}}},
      {"BusinessDuplicateChangesNothing",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(4)), O::kApplied},
        {Reserved("O1", "e2-resent-as-new", "R1", L(4)), O::kDuplicateBusiness, "business"}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"BusinessDuplicateOfParkedEventIsDuplicate",
       {{Reserved("O1", "e2", "R1", L(4)), O::kParked},
        {Reserved("O1", "e2-again", "R1", L(4)), O::kDuplicateBusiness, "business"},
        {Accepted("O1", "e1", L(10)), O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"SameBusinessKeyDifferentContentIsConflict",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {Reserved("O1", "e2", "R1", L(4)), O::kApplied},
        {Reserved("O1", "e3", "R1", L(5)), O::kExcepted, "conflicting_duplicate:business_key_conflict"}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}},
       {"business_key_conflict"}},
      {"SameEventIdDifferentContentIsConflict",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {conflicting_reuse, O::kExcepted, "conflicting_duplicate:event_id_reused"}},
       {{CK::CreateSalesOrder, "O1"}},
       {"event_id_reused"}},
      {"SourceSeqGapParksUntilFilled",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {seq2, O::kParked, "missing_prerequisite:source_seq"},
        {seq1, O::kApplied}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}}},
      {"SourceSeqReusedIsConflict",
       {{Accepted("O1", "e1", L(10)), O::kApplied},
        {seq1, O::kApplied},
        {seq1_again, O::kExcepted, "conflicting_duplicate:source_seq_reused"}},
       {{CK::CreateSalesOrder, "O1"}, {CK::ConfirmAllocation, "R1"}},
       {"source_seq_reused"}},
  };
}

class LifecycleTest : public ::testing::TestWithParam<LifecycleCase> {};

TEST_P(LifecycleTest, OutcomesCommandsAndExceptions) {
  const LifecycleCase& c = GetParam();
  EngineOptions options = testing::TestEngineOptions();
  options.bill_on = c.bill_on;
  EngineHarness h(options);
  for (size_t i = 0; i < c.steps.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i) + " event " + c.steps[i].spec.event_id);
    testing::SentResult r = h.Send(c.steps[i].spec);
    EXPECT_EQ(EventOutcomeName(r.outcome), EventOutcomeName(c.steps[i].outcome)) << r.reason;
    EXPECT_EQ(r.reason.rfind(c.steps[i].reason_prefix, 0), 0u) << "reason: " << r.reason;
  }
  auto commands = h.OutboxOf("O1");
  ASSERT_EQ(commands.size(), c.commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    SCOPED_TRACE("command " + std::to_string(i));
    EXPECT_EQ(commands[i].order_cmd_seq, i + 1);
    EXPECT_EQ(EnumNameCommandKind(commands[i].kind), EnumNameCommandKind(c.commands[i].kind));
    EXPECT_EQ(commands[i].business_key, c.commands[i].business_key);
    EXPECT_EQ(commands[i].target, "erp");
  }
  auto exceptions = h.Exceptions();
  ASSERT_EQ(exceptions.size(), c.exception_reasons.size());
  for (size_t i = 0; i < exceptions.size(); ++i) {
    EXPECT_EQ(exceptions[i].reason.rfind(c.exception_reasons[i], 0), 0u) << exceptions[i].reason;
    EXPECT_EQ(exceptions[i].order_id, "O1");
  }
}

INSTANTIATE_TEST_SUITE_P(Transitions, LifecycleTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(LifecycleRulesTest, EveryMilestoneKindHasExactlyOneRule) {
  for (int k = static_cast<int>(Milestone::MIN) + 1; k <= static_cast<int>(Milestone::MAX); ++k) {
    const LifecycleRule* rule = FindRule(static_cast<Milestone>(k));
    ASSERT_NE(rule, nullptr) << EnumNameMilestone(static_cast<Milestone>(k));
    EXPECT_EQ(rule->kind, static_cast<Milestone>(k));
  }
  EXPECT_EQ(FindRule(Milestone::NONE), nullptr);
}

TEST(LifecycleExceptionTest, UnroutableCompanyIsBusinessRuleException) {
  EngineOptions options = testing::TestEngineOptions();
  options.routing.default_target = "";
  options.routing.rules.push_back(RouteRule{"2000", false, CommandKind::CreateSalesOrder, "sap-eu"});
  EngineHarness h(options);
  EnvelopeSpec routed = Accepted("O2", "e1", L(1));
  routed.company_code = "2000";
  EXPECT_EQ(h.Send(routed).outcome, O::kApplied);
  testing::SentResult r = h.Send(Accepted("O1", "e2", L(1)));  // company 1000: no rule, no default
  EXPECT_EQ(r.outcome, O::kExcepted);
  EXPECT_EQ(r.reason, "business_rule:no_route");
  ASSERT_EQ(h.OutboxOf("O2").size(), 1u);
  EXPECT_EQ(h.OutboxOf("O2")[0].target, "sap-eu");
  EXPECT_TRUE(h.OutboxOf("O1").empty());
}

TEST(LifecycleExceptionTest, ParkTimeoutMovesEventToExceptionQueue) {
  EngineOptions options = testing::TestEngineOptions();
  options.park_timeout_s = 600;
  options.park_timeout_by_kind_s[static_cast<size_t>(Milestone::PickCompleted)] = 60;
  EngineHarness h(options);
  EXPECT_EQ(h.Send(Reserved("O1", "e2", "R1", L(1))).outcome, O::kParked);
  EXPECT_EQ(h.Send(Picked("O1", "e3", "P1", L(1))).outcome, O::kParked);
  h.clock().Advance(61 * kNanosPerSecond);  // past the pick's per-kind timeout only
  h.WaitForParkSweep();
  auto exceptions = h.Exceptions();
  ASSERT_EQ(exceptions.size(), 1u);
  EXPECT_EQ(exceptions[0].event_id, "e3");
  EXPECT_EQ(exceptions[0].failure_class, "missing_prerequisite");
  EXPECT_EQ(exceptions[0].reason, "missing_prerequisite:order_accepted");
  EXPECT_EQ(exceptions[0].stage, "park_timeout");
  EXPECT_EQ(h.engine().Stats().parked_now, 1);
  h.clock().Advance(600 * kNanosPerSecond);
  h.WaitForParkSweep();
  EXPECT_EQ(h.Exceptions().size(), 2u);
  EXPECT_EQ(h.engine().Stats().parked_now, 0);
}

TEST(LifecycleRecoveryTest, ParkedEventsAndCountersSurviveRestart) {
  EngineHarness h;
  EXPECT_EQ(h.Send(Accepted("O0", "x1", L(1))).outcome, O::kApplied);  // same partition or not: seqs persist
  EXPECT_EQ(h.Send(Reserved("O1", "e2", "R1", L(10))).outcome, O::kParked);
  h.Restart();
  EXPECT_EQ(h.engine().Stats().parked_now, 1);
  EXPECT_EQ(h.Send(Reserved("O1", "e2", "R1", L(10))).outcome, O::kDuplicateExact);
  EXPECT_EQ(h.Send(Accepted("O1", "e1", L(10))).outcome, O::kApplied);
  auto commands = h.OutboxOf("O1");
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[1].kind, CommandKind::ConfirmAllocation);
  EXPECT_EQ(commands[1].caused_by_event_id, "e2");
  // Outbox sequence numbers are never reused across restarts.
  std::set<std::pair<uint32_t, uint64_t>> keys;
  for (const auto& c : h.Outbox()) EXPECT_TRUE(keys.insert({c.partition, c.outbox_seq}).second);
}

// An order keeps its first kMaxSeenPerOrder event ids in its record; later ones spill
// to the dedup table. Exact dedup must hold on both sides of the limit, across a restart
// (caches gone), and conflicting reuse of an id must still be caught.
TEST(LifecycleDedupTest, ExactDedupHoldsForIdsInTheOrderRecordAndForSpilledIds) {
  EngineHarness h;
  const size_t n = kMaxSeenPerOrder + 10;
  for (size_t i = 0; i < n; ++i) {
    const std::string id = "adj-" + std::to_string(i);
    ASSERT_EQ(h.Send(Adjusted("O1", id, "ADJ-" + std::to_string(i), "SKU-A", -1)).outcome, O::kApplied) << id;
  }
  auto order = h.Order("O1");
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->seen.size(), kMaxSeenPerOrder);
  EXPECT_TRUE(order->dedup_in_table);
  h.Restart();
  for (size_t i : {size_t{0}, kMaxSeenPerOrder - 1, kMaxSeenPerOrder, n - 1}) {
    const std::string id = "adj-" + std::to_string(i);
    EXPECT_EQ(h.Send(Adjusted("O1", id, "ADJ-" + std::to_string(i), "SKU-A", -1)).outcome, O::kDuplicateExact) << id;
    // Same id, other content: a conflict, not a silent drop.
    EXPECT_EQ(h.Send(Adjusted("O1", id, "ADJ-X" + std::to_string(i), "SKU-A", -1)).outcome, O::kExcepted) << id;
  }
  EXPECT_EQ(h.OutboxOf("O1").size(), n);
}

TEST(LifecycleCommandTest, CommandsCarryIdsCorrelationAndLines) {
  EngineHarness h;
  h.Send(Accepted("O1", "e1", L(10, 2)));
  h.Send(Reserved("O1", "e2", "R1", L(10)));
  auto commands = h.OutboxOf("O1");
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0].command_id, "O1/SO/O1");
  EXPECT_EQ(commands[0].lines, 2u);
  EXPECT_EQ(commands[0].correlation_id, "corr-e1");
  EXPECT_EQ(commands[1].command_id, "O1/AL/R1");
  EXPECT_EQ(commands[1].first_line_qty, 10);
  EXPECT_EQ(commands[1].caused_by_event_id, "e2");
}

TEST(LifecycleJournalTest, TimelineRecordsEventsOutcomesAndCommandsInOrder) {
  EngineHarness h;
  h.Send(Reserved("O1", "e2", "R1", L(4)));             // parked: order not yet accepted
  h.clock().Advance(1000);
  h.Send(Accepted("O1", "e1", L(10)));                   // applied; unparks e2
  h.clock().Advance(1000);
  h.Send(Accepted("O1", "e1", L(10)));                   // exact duplicate
  h.Checkpoint();  // the journal is written at checkpoints
  std::string lower, upper, value;
  JournalOrderRange(h.engine().PartitionFor("O1"), "O1", &lower, &upper);
  std::vector<std::string> lines;
  for (auto it = h.store().NewIterator(Table::kJournal, lower, upper); it->Valid(); it->Next()) {
    ForEachJournalEntry(it->value().substr(8), [&](const JournalEntryView& j) {
      std::string line = storage::EnumNameJournalKind(j.kind);
      if (!j.event_id.empty()) line += " " + std::string(j.event_id);
      if (!j.outcome.empty()) line += " " + std::string(j.outcome);
      if (!j.command_id.empty()) line += " " + std::string(j.command_id) + " #" + std::to_string(j.order_cmd_seq);
      if (j.kind == storage::JournalKind::EventResolved) line += " reserved=" + std::to_string(j.reserved);
      for (const JournalCommandView& c : j.commands) {
        line += " [" + std::string(c.command_id) + " #" + std::to_string(c.order_cmd_seq) + "]";
      }
      lines.push_back(line);
    });
  }
  // One entry per event, listing the commands it issued; an event before those it unparks.
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "EventReceived e2 parked",
                       "EventReceived e1 applied [O1/SO/O1 #1]",
                       "EventResolved e2 applied reserved=4 [O1/AL/R1 #2]",
                       "EventReceived e1 duplicate_exact",
                   }));
}

}  // namespace
}  // namespace ordersync
