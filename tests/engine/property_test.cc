// Property: for a few thousand random orders with full lifecycles, delivering their events
// in a random interleaving with random exact and business duplicates yields the same final
// order states and the same outbox (same command_ids, same per-order order_cmd_seq order)
// as delivering them in order, exactly once.
#include <gtest/gtest.h>

#include <map>

#include "adapters/producer/lifecycle_generator.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using testing::EngineHarness;

struct Summary {
  // order_id -> [(order_cmd_seq, command_id)]
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> commands;
  size_t exceptions = 0;
};

Summary Summarize(EngineHarness& h) {
  Summary s;
  for (const auto& c : h.Outbox()) s.commands[c.order_id].emplace_back(c.order_cmd_seq, c.command_id);
  for (auto& [order, list] : s.commands) std::sort(list.begin(), list.end());
  s.exceptions = h.Exceptions().size();
  return s;
}

// The parts of an order's state that must not depend on delivery order.
std::string Canonical(const OrderState& o) {
  std::string out = o.order_id + (o.accepted ? " accepted" : "") + (o.cancelled ? " cancelled" : "") +
                    " next_cmd_seq=" + std::to_string(o.next_cmd_seq) + " parked=" + std::to_string(o.parked.size());
  for (const LineState& l : o.lines) {
    out += " [" + std::to_string(l.line_no) + " " + l.sku + " o" + std::to_string(l.ordered) + " r" +
           std::to_string(l.reserved) + " p" + std::to_string(l.picked) + " s" + std::to_string(l.shipped) + " ret" +
           std::to_string(l.returned) + "]";
  }
  std::vector<std::string> facts;
  for (const Fact& f : o.facts) {
    facts.push_back(std::to_string(static_cast<int>(f.kind)) + ":" + f.business_key + (f.delivered ? ":d" : "") +
                    (f.invoiced ? ":i" : ""));
  }
  std::sort(facts.begin(), facts.end());
  for (const auto& f : facts) out += " " + f;
  for (const SourceCursor& c : o.cursors) out += " " + c.source + "#" + std::to_string(c.last_seq);
  return out;
}

TEST(EnginePropertyTest, DisorderedDeliveryWithDuplicatesEqualsInOrderExactlyOnce) {
  constexpr size_t kOrders = 3000;
  GeneratorOptions go;
  go.seed = 20261126;
  LifecycleGenerator generator(go);
  std::vector<GeneratedOrder> orders;
  for (size_t i = 0; i < kOrders; ++i) orders.push_back(generator.Next());

  EngineHarness reference;
  auto in_order = InOrder(orders);
  for (const auto& r : reference.SendAll(in_order)) {
    ASSERT_EQ(r.outcome, EventOutcome::kApplied) << r.reason;
  }

  DisorderOptions d;
  d.seed = 7;
  d.exact_duplicate_share = 0.1;
  d.business_duplicate_share = 0.05;
  auto disordered = Disorder(orders, d);
  ASSERT_GT(disordered.size(), in_order.size() * 11 / 10);
  EngineHarness shuffled;
  size_t parked = 0, duplicates = 0;
  for (const auto& r : shuffled.SendAll(disordered)) {
    ASSERT_NE(r.outcome, EventOutcome::kExcepted) << r.reason;
    ASSERT_NE(r.outcome, EventOutcome::kStoreError) << r.reason;
    parked += r.outcome == EventOutcome::kParked;
    duplicates += r.outcome == EventOutcome::kDuplicateExact || r.outcome == EventOutcome::kDuplicateBusiness;
  }
  EXPECT_GT(parked, 1000u) << "the interleaving should have forced resequencing";
  EXPECT_EQ(duplicates, disordered.size() - in_order.size());
  EXPECT_EQ(shuffled.engine().Stats().parked_now, 0);

  Summary want = Summarize(reference);
  Summary got = Summarize(shuffled);
  EXPECT_EQ(want.exceptions, 0u);
  EXPECT_EQ(got.exceptions, 0u);
  ASSERT_EQ(got.commands.size(), want.commands.size());
  for (const auto& [order, list] : want.commands) {
    ASSERT_EQ(got.commands[order], list) << order;
    for (size_t i = 0; i < list.size(); ++i) ASSERT_EQ(list[i].first, i + 1) << order << " has a gap";
  }
  for (const GeneratedOrder& o : orders) {
    auto a = reference.Order(o.order_id);
    auto b = shuffled.Order(o.order_id);
    ASSERT_TRUE(a && b) << o.order_id;
    ASSERT_EQ(Canonical(*b), Canonical(*a));
  }
}

}  // namespace
}  // namespace ordersync
