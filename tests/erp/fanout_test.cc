// ERP fan-out end to end: a real engine on real RocksDB, the dispatcher, and the ERP
// simulator over real ZeroMQ sockets. Tests assert behaviour (what was posted, in which
// order, what is in the dead-letter queue), never timings; waits have generous limits.
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/admin/admin_client.h"
#include "adapters/erp/dlq_operations.h"
#include "tests/erp/fanout_fixture.h"

namespace ordersync::testing {
namespace {

using ::testing::ElementsAre;

std::vector<LineSpec> OneLine() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

// Accept, reserve, pick, ship: commands SO (1), AL (2), GI (3), INV (4).
std::vector<EnvelopeSpec> Lifecycle(const std::string& order) {
  return {Accepted(order, order + "-e1", OneLine()), Reserved(order, order + "-e2", "R-" + order, OneLine()),
          Picked(order, order + "-e3", "P-" + order, OneLine()), Shipped(order, order + "-e4", "S-" + order, OneLine())};
}

std::vector<EnvelopeSpec> Lifecycles(const std::vector<std::string>& orders) {
  std::vector<EnvelopeSpec> out;
  for (const auto& o : orders) {
    for (auto& e : Lifecycle(o)) out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> Orders(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

ErpSimOptions Sim() {
  ErpSimOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  o.latency = "uniform";
  o.latency_us = 500;
  return o;
}

// An endpoint nothing listens on (yet): a simulator bound it and was stopped.
std::string UnusedEndpoint() {
  auto sim = ErpSimulator::Start(Sim());
  EXPECT_TRUE(sim.ok());
  std::string endpoint = (*sim)->endpoint();
  (*sim)->Stop();
  return endpoint;
}

void ExpectEachOrderPostedOnceInSequence(const std::vector<ErpPosting>& ledger, size_t orders, size_t per_order) {
  std::set<std::string> ids;
  for (const ErpPosting& p : ledger) EXPECT_TRUE(ids.insert(p.command_id).second) << "posted twice: " << p.command_id;
  auto by_order = PostedSeqsByOrder(ledger);
  EXPECT_EQ(by_order.size(), orders);
  for (const auto& [order, seqs] : by_order) {
    std::vector<uint64_t> expected(per_order);
    for (size_t i = 0; i < per_order; ++i) expected[i] = i + 1;
    EXPECT_EQ(seqs, expected) << order;
  }
}

TEST(ErpFanOutTest, PostsEachOrderInSequenceWhileAStuckOrderWaits) {
  FanOut f(Sim(), FastTarget(""));
  f.sim().SetTransientOrders({"STUCK"});  // every attempt of this order fails transiently
  ASSERT_EQ(f.SendAll(Lifecycle("STUCK")).size(), 4u);
  const auto others = Orders("SO-", 20);
  f.SendAll(Lifecycles(others));
  // The other orders post completely while STUCK's first command keeps failing.
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.sim().Summary().postings == 20 * 4; }));
  // STUCK's commands wait in the outbox while its first one is retried.
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.OutboxSize() == 4u && f.Target().retries >= 2; }));
  EXPECT_GT(f.Target().transient_errors, 0u);
  for (const ErpPosting& p : f.sim().Ledger()) EXPECT_NE(p.order_id, "STUCK");

  f.sim().SetTransientOrders({});
  ASSERT_TRUE(f.WaitUntilDrained());
  ExpectEachOrderPostedOnceInSequence(f.sim().Ledger(), 21, 4);
  const ErpSimSummary s = f.sim().Summary();
  EXPECT_EQ(s.out_of_order_arrivals, 0u);
  EXPECT_EQ(s.sequence_gaps, 0u);
}

TEST(ErpFanOutTest, RetriesTransientErrorsTimeoutsAndAmbiguousOutcomesUntilPostedOnce) {
  ErpSimOptions sim = Sim();
  sim.transient_error_rate = 0.2;
  sim.timeout_rate = 0.05;
  sim.ambiguous_rate = 0.05;  // posted, answer lost: the retry gets AlreadyPosted
  FanOut f(sim, FastTarget(""));
  const auto orders = Orders("SO-", 40);
  f.SendAll(Lifecycles(orders));
  ASSERT_TRUE(f.WaitUntilDrained(std::chrono::seconds(30)));
  ExpectEachOrderPostedOnceInSequence(f.sim().Ledger(), 40, 4);
  const ErpSimSummary s = f.sim().Summary();
  EXPECT_EQ(s.postings, 160u);
  EXPECT_EQ(s.out_of_order_arrivals, 0u);
  EXPECT_EQ(s.sequence_gaps, 0u);
  EXPECT_GT(s.transient_errors, 0u);
  const TargetStats t = f.Target();
  EXPECT_EQ(t.transient_errors, s.transient_errors);
  EXPECT_GT(t.timeouts, 0u);
  EXPECT_EQ(t.posted + t.already_posted, 160u);
  EXPECT_EQ(t.dead_lettered, 0u);
}

TEST(ErpFanOutTest, CircuitOpensDuringAnOutageAndClosesAfterIt) {
  ErpTargetOptions target = FastTarget("");
  target.timeout_ms = 100;
  target.circuit_breaker.consecutive_failures = 3;
  target.circuit_breaker.cooldown_ms = 200;
  FanOut f(Sim(), target);
  f.sim().ForceOutage(true);  // silent: every attempt times out
  f.SendAll(Lifecycles(Orders("SO-", 10)));
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().circuit_opened >= 1; }));
  EXPECT_EQ(f.sim().Summary().postings, 0u);
  EXPECT_EQ(f.OutboxSize(), 40u);  // nothing lost: everything waits in the outbox
  // While open, at most half_open_probes attempts go out per cool-down.
  const uint64_t sent_while_open = f.Target().sent;
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_LE(f.Target().sent, sent_while_open + 3);

  f.sim().ForceOutage(false);
  ASSERT_TRUE(f.WaitUntilDrained());
  EXPECT_GE(f.Target().circuit_closed, 1u);
  EXPECT_EQ(f.Target().circuit, "closed");
  ExpectEachOrderPostedOnceInSequence(f.sim().Ledger(), 10, 4);
}

TEST(ErpFanOutTest, NoConnectionIsRetriedUntilTheErpComesUp) {
  const std::string endpoint = UnusedEndpoint();
  FanOut f(Sim(), FastTarget(endpoint));  // its own simulator is unused: the target points elsewhere
  f.SendAll(Lifecycles(Orders("SO-", 3)));
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().no_connection >= 2; }));
  EXPECT_EQ(f.OutboxSize(), 12u);
  ErpSimOptions sim = Sim();
  sim.endpoint = endpoint;
  auto late = ErpSimulator::Start(sim);  // the ERP comes up on that endpoint
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  ASSERT_TRUE(f.WaitUntilDrained());
  EXPECT_EQ((*late)->Summary().postings, 12u);
  EXPECT_EQ((*late)->Summary().out_of_order_arrivals, 0u);
  EXPECT_EQ(f.Target().sent, 12u);  // refused sends are not attempts
}

TEST(ErpFanOutTest, BacklogAboveHighWaterMakesIngressBusyUntilBelowLowWater) {
  ErpTargetOptions target = FastTarget("");
  target.outbox_high_water = 8;
  target.outbox_low_water = 2;
  FanOut f(Sim(), target);
  f.sim().ForceOutage(true);
  f.SendAll(Lifecycles(Orders("SO-", 3)));  // 12 commands >= 8
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.engine().IsTargetBlocked("erp"); }));
  // The dispatcher blocks the engine first, then publishes it in its stats.
  EXPECT_TRUE(FanOut::WaitFor([&] { return f.Target().ingress_blocked; }));
  Status s = f.TrySubmit(Accepted("SO-NEW", "SO-NEW-e1", OneLine()));
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  f.sim().ForceOutage(false);
  ASSERT_TRUE(FanOut::WaitFor([&] { return !f.engine().IsTargetBlocked("erp"); }));
  EXPECT_TRUE(f.TrySubmit(Accepted("SO-NEW", "SO-NEW-e1", OneLine())).ok());
  ASSERT_TRUE(f.WaitUntilDrained());
}

TEST(ErpFanOutTest, RejectionDeadLettersTheOrdersRemainingCommandsAndReplayPostsThemOnce) {
  FanOut f(Sim(), FastTarget(""));
  const std::string admin = f.StartAdmin();
  f.sim().SetRejectCommandIds({"BAD/AL/R-BAD"});  // the 2nd command of order BAD
  f.SendAll({Accepted("BAD", "BAD-e1", OneLine()), Reserved("BAD", "BAD-e2", "R-BAD", OneLine())});
  f.SendAll(Lifecycles(Orders("OK-", 5)));
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().rejected == 1; }));
  // Commands the engine issues for the order later go to the dead letters too.
  f.SendAll({Picked("BAD", "BAD-e3", "P-BAD", OneLine()), Shipped("BAD", "BAD-e4", "S-BAD", OneLine())});
  ASSERT_TRUE(f.WaitUntilDrained());

  auto list = AdminCall(admin, "dlq.list", {{"order", "BAD"}}, "", std::chrono::seconds(5));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> ids, reasons;
  for (const auto& d : (*list)["dead_letters"]) {
    ids.push_back(d["id"].get<std::string>());
    reasons.push_back(d["reason"].get<std::string>());
  }
  EXPECT_THAT(ids, ElementsAre("BAD/AL/R-BAD", "BAD/GI/S-BAD", "BAD/INV/S-BAD"));
  EXPECT_THAT(reasons, ElementsAre("rejected", "blocked", "blocked"));
  EXPECT_EQ((*list)["dead_letters"][0]["message"], "simulated business rejection");
  ASSERT_EQ((*list)["blocked_orders"].size(), 1u);
  EXPECT_EQ((*list)["blocked_orders"][0]["state"], "blocked");
  auto posted_bad = PostedSeqsByOrder(f.sim().Ledger())["BAD"];
  EXPECT_THAT(posted_bad, ElementsAre(1u));  // only the sales order went through
  EXPECT_EQ(f.sim().Summary().postings, 1u + 5 * 4);

  auto show = AdminCall(admin, "dlq.show", {{"id", "BAD/GI/S-BAD"}}, "", std::chrono::seconds(5));
  ASSERT_TRUE(show.ok());
  EXPECT_EQ((*show)["command"]["kind"], "PostGoodsIssue");
  EXPECT_EQ((*show)["blocked_by"], "BAD/AL/R-BAD");

  // The ERP fixes the cause; replay re-posts with the same command ids, once, in order.
  f.sim().SetRejectionsEnabled(false);
  auto replay = AdminCall(admin, "dlq.replay", {{"order", "BAD"}}, "", std::chrono::seconds(30));
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ((*replay)["commands"], 3);
  ASSERT_TRUE(f.WaitUntilDrained());
  EXPECT_THAT(PostedSeqsByOrder(f.sim().Ledger())["BAD"], ElementsAre(1u, 2u, 3u, 4u));
  ExpectEachOrderPostedOnceInSequence(f.sim().Ledger(), 6, 4);
  auto after = AdminCall(admin, "dlq.list", {}, "", std::chrono::seconds(5));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["count"], 0);
  // Commands issued after the replay flow normally (the order is no longer blocked).
  f.SendAll({Returned("BAD", "BAD-e5", "RT-BAD", OneLine())});
  ASSERT_TRUE(f.WaitUntilDrained());
  EXPECT_THAT(PostedSeqsByOrder(f.sim().Ledger())["BAD"], ElementsAre(1u, 2u, 3u, 4u, 5u));
  EXPECT_EQ(f.sim().Summary().out_of_order_arrivals, 0u);
}

TEST(ErpFanOutTest, CommandIssuedWhileBlockedButUnreadAtReplayFollowsTheReplayedOnes) {
  // The order's later command is still unread in the outbox when the replay lands: it
  // must not overtake the replayed ones.
  FanOut f(Sim(), FastTarget(""));
  f.sim().SetRejectCommandIds({"LATE/AL/R-LATE"});
  f.SendAll({Accepted("LATE", "LATE-e1", OneLine()), Reserved("LATE", "LATE-e2", "R-LATE", OneLine())});
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().rejected == 1; }));
  ASSERT_TRUE(f.WaitUntilDrained());
  f.sim().SetRejectionsEnabled(false);
  // Issued while blocked; the replay right after may find them still unread.
  f.SendAll({Picked("LATE", "LATE-e3", "P-LATE", OneLine()), Shipped("LATE", "LATE-e4", "S-LATE", OneLine())});
  auto replay = f.dispatcher().Replay([] {
    DeadLetterFilter d;
    d.all = true;
    return d;
  }());
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  // Whatever the interleaving, everything posts once and in sequence, possibly after a
  // second replay for commands that were dead-lettered behind the replayed ones.
  ASSERT_TRUE(f.WaitUntilDrained());
  for (int i = 0; i < 3 && PostedSeqsByOrder(f.sim().Ledger())["LATE"].size() < 4; ++i) {
    DeadLetterFilter all;
    all.all = true;
    ASSERT_TRUE(f.dispatcher().Replay(all).ok());
    ASSERT_TRUE(f.WaitUntilDrained());
  }
  EXPECT_THAT(PostedSeqsByOrder(f.sim().Ledger())["LATE"], ElementsAre(1u, 2u, 3u, 4u));
  EXPECT_EQ(f.sim().Summary().out_of_order_arrivals, 0u);
  EXPECT_EQ(f.sim().Summary().sequence_gaps, 0u);
}

TEST(ErpFanOutTest, RejectedCompensationIsDeadLetteredWithTheOrderFlaggedForReview) {
  FanOut f(Sim(), FastTarget(""));
  f.sim().SetRejectCommandIds({"CX1/RA/R-CX1"});  // the ReleaseAllocation compensation
  f.SendAll({Accepted("CX1", "CX1-e1", OneLine()), Reserved("CX1", "CX1-e2", "R-CX1", OneLine()),
             Cancelled("CX1", "CX1-e3")});
  ASSERT_TRUE(f.WaitUntilDrained());
  std::vector<DeadLetterRecord> letters;
  ASSERT_TRUE(ListDeadLetters(&f.store(), DeadLetterFilter{}, 0, &letters).ok());
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].kind, CommandKind::ReleaseAllocation);
  EXPECT_EQ(letters[0].reason, "rejected");
  EXPECT_TRUE(letters[0].needs_review);
  EXPECT_EQ(letters[1].kind, CommandKind::CancelSalesOrder);
  EXPECT_EQ(letters[1].reason, "blocked");
  EXPECT_TRUE(letters[1].needs_review);
  auto list = DlqList(&f.store(), DeadLetterFilter{}, 0);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE((*list)["blocked_orders"][0]["needs_review"].get<bool>());
  EXPECT_THAT(PostedSeqsByOrder(f.sim().Ledger())["CX1"], ElementsAre(1u, 2u));
}

TEST(ErpFanOutTest, DeadLettersAndBlocksSurviveARestart) {
  FanOut f(Sim(), FastTarget(""));
  f.sim().SetRejectCommandIds({"RS/AL/R-RS"});
  f.SendAll({Accepted("RS", "RS-e1", OneLine()), Reserved("RS", "RS-e2", "R-RS", OneLine())});
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().rejected == 1; }));
  ASSERT_TRUE(f.WaitUntilDrained());
  f.Restart();
  // The block was recovered: a command issued now is dead-lettered, not posted.
  f.SendAll({Picked("RS", "RS-e3", "P-RS", OneLine()), Shipped("RS", "RS-e4", "S-RS", OneLine())});
  ASSERT_TRUE(f.WaitUntilDrained());
  std::vector<DeadLetterRecord> letters;
  ASSERT_TRUE(ListDeadLetters(&f.store(), DeadLetterFilter{}, 0, &letters).ok());
  EXPECT_EQ(letters.size(), 3u);
  EXPECT_THAT(PostedSeqsByOrder(f.sim().Ledger())["RS"], ElementsAre(1u));
  f.sim().SetRejectionsEnabled(false);
  DeadLetterFilter by_order;
  by_order.order_id = "RS";
  ASSERT_TRUE(f.dispatcher().Replay(by_order).ok());
  ASSERT_TRUE(f.WaitUntilDrained());
  EXPECT_THAT(PostedSeqsByOrder(f.sim().Ledger())["RS"], ElementsAre(1u, 2u, 3u, 4u));
}

TEST(ErpFanOutTest, SameDayCommandsGoFirstWithinTheTargetBudget) {
  const std::string endpoint = UnusedEndpoint();
  ErpTargetOptions target = FastTarget(endpoint);
  target.max_in_flight = 1;  // one at a time: the order of sends is the ledger's order
  FanOut f(Sim(), target);
  std::vector<EnvelopeSpec> specs;
  for (int i = 0; i < 5; ++i) specs.push_back(Accepted("STD-" + std::to_string(i), "std-" + std::to_string(i), OneLine()));
  f.SendAll(specs);
  specs.clear();
  for (int i = 0; i < 5; ++i) {
    EnvelopeSpec s = Accepted("FAST-" + std::to_string(i), "fast-" + std::to_string(i), OneLine());
    s.priority = Priority::SameDay;
    specs.push_back(s);
  }
  f.SendAll(specs);
  // Everything is read and ready while the ERP is unreachable.
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.dispatcher().Stats().window == 10 && f.Target().no_connection >= 1; }));
  ErpSimOptions sim = Sim();
  sim.endpoint = endpoint;
  auto erp = ErpSimulator::Start(sim);
  ASSERT_TRUE(erp.ok());
  ASSERT_TRUE(f.WaitUntilDrained());
  std::vector<std::string> posted;
  for (const ErpPosting& p : (*erp)->Ledger()) posted.push_back(p.order_id.substr(0, 4));
  EXPECT_THAT(posted, ElementsAre("FAST", "FAST", "FAST", "FAST", "FAST", "STD-", "STD-", "STD-", "STD-", "STD-"));
}

TEST(ErpFanOutTest, ExceptionsAreReDrivenThroughTheAdminEndpoint) {
  EngineOptions engine = TestEngineOptions();
  engine.park_timeout_s = 1;
  FanOut f(Sim(), FastTarget(""), engine);
  const std::string admin = f.StartAdmin();
  // A pick without its order parks, then times out into the exception queue.
  f.SendAll({Picked("EX", "EX-e3", "P-EX", OneLine())});
  auto listed = [&] {
    auto r = AdminCall(admin, "exceptions.list", {}, "", std::chrono::seconds(5));
    return r.ok() ? (*r)["count"].get<int>() : -1;
  };
  ASSERT_TRUE(FanOut::WaitFor([&] { return listed() == 1; }));
  f.SendAll({Accepted("EX", "EX-e1", OneLine()), Reserved("EX", "EX-e2", "R-EX", OneLine())});
  auto replay = AdminCall(admin, "exceptions.replay", {{"all", true}}, "", std::chrono::seconds(30));
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  ASSERT_EQ((*replay)["results"].size(), 1u);
  EXPECT_EQ((*replay)["results"][0]["event_id"], "EX-e3");
  EXPECT_EQ((*replay)["results"][0]["outcome"], "applied");
  EXPECT_TRUE((*replay)["results"][0]["removed"].get<bool>());
  EXPECT_EQ(listed(), 0);
  // Replaying an already applied event again is a no-op (business dedup).
  ASSERT_TRUE(f.WaitUntilDrained());
  EXPECT_THAT(PostedSeqsByOrder(f.sim().Ledger())["EX"], ElementsAre(1u, 2u));
}

}  // namespace
}  // namespace ordersync::testing
