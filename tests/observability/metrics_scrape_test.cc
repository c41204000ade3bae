// The metrics endpoint of a running engine after a scripted scenario: the exposition
// passes the real `promtool check metrics` with no findings, and the pipeline and
// business metrics move as the scenario says (duplicates, a parked order at risk past
// its SLO, an exception by stage and class, an invoice ack in ship_to_invoice_seconds).
#include <fstream>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/admin/admin_server.h"
#include "adapters/cli/status_command.h"
#include "engine/coding.h"
#include "erp_generated.h"
#include "tests/observability/observability_test_util.h"

namespace ordersync::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSecond = 1'000'000'000;

class ObservabilityMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = ObservabilityTestConfig(harness_.options());
    auto obs = Observability::Start(config_, &harness_.engine(), &harness_.store(), "test", &harness_.clock());
    ASSERT_TRUE(obs.ok()) << obs.status().ToString();
    obs_ = std::move(obs).value();
    ASSERT_GT(obs_->port(), 0);
  }
  void TearDown() override {
    if (obs_) obs_->Stop();
  }

  // The first outbox command of `kind` for `order`, as the dispatcher would read it.
  std::string OutboxCommandBytes(const std::string& order, CommandKind kind) {
    harness_.Checkpoint();
    auto it = harness_.store().NewIterator(Table::kOutbox, "", "");
    for (; it->Valid(); it->Next()) {
      std::string v(it->value());
      const ErpCommand* c = GetErpCommand(v.data());
      if (c->order_id()->str() == order && c->kind() == kind) return v;
    }
    return {};
  }

  void RunScenario() {
    // SO-A: full happy path to shipment (bill_on = ship: the invoice is issued too), plus
    // an exact and a business duplicate.
    std::vector<EnvelopeSpec> a = {Accepted("SO-A", "a1", {{1, "SKU-1", 10}}),
                                   Reserved("SO-A", "a2", "RES-1", {{1, "SKU-1", 10}}),
                                   Picked("SO-A", "a3", "PCK-1", {{1, "SKU-1", 10}}),
                                   Shipped("SO-A", "a4", "SHP-1", {{1, "SKU-1", 10}})};
    for (const auto& r : harness_.SendAll(a)) ASSERT_EQ(r.outcome, EventOutcome::kApplied) << r.reason;
    EXPECT_EQ(harness_.Send(a[0]).outcome, EventOutcome::kDuplicateExact);
    EXPECT_EQ(harness_.Send(Reserved("SO-A", "a2-again", "RES-1", {{1, "SKU-1", 10}})).outcome,
              EventOutcome::kDuplicateBusiness);
    // SO-B: a pick before its reservation is parked.
    EXPECT_EQ(harness_.Send(Accepted("SO-B", "b1", {{1, "SKU-2", 5}})).outcome, EventOutcome::kApplied);
    EXPECT_EQ(harness_.Send(Picked("SO-B", "b3", "PCK-B", {{1, "SKU-2", 5}})).outcome, EventOutcome::kParked);
    // SO-C: a reservation after cancellation is a business_rule exception.
    EXPECT_EQ(harness_.Send(Accepted("SO-C", "c1", {{1, "SKU-3", 1}})).outcome, EventOutcome::kApplied);
    EXPECT_EQ(harness_.Send(Cancelled("SO-C", "c2")).outcome, EventOutcome::kApplied);
    const SentResult c3 = harness_.Send(Reserved("SO-C", "c3", "RES-C", {{1, "SKU-3", 1}}));
    EXPECT_EQ(c3.outcome, EventOutcome::kExcepted) << c3.reason;
  }

  EngineHarness harness_;
  AppConfig config_;
  std::unique_ptr<Observability> obs_;
};

TEST_F(ObservabilityMetricsTest, ScrapeAfterTrafficPassesPromtoolCheckMetrics) {
  RunScenario();
  ASSERT_TRUE(obs_->scanner()->ScanOnce().ok());
  std::string body;
  Scrape(*obs_, &body);
  ASSERT_FALSE(body.empty());
  const std::string path = ::testing::TempDir() + "/ordersync_metrics.txt";
  std::ofstream(path) << body;
  std::string out;
  const int rc = RunCommand(std::string(PROMTOOL) + " check metrics < " + path, &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << "promtool findings:\n" << out;
  // Naming rules the issue asks for, beyond promtool's lint.
  EXPECT_THAT(body, HasSubstr("# TYPE ordersync_build_info gauge"));
  EXPECT_THAT(body, ::testing::Not(HasSubstr("# TYPE ordersync_order_to_ship_seconds summary")));
  EXPECT_THAT(body, ::testing::Not(HasSubstr("SO-A"))) << "no order ids in labels";
  EXPECT_THAT(body, ::testing::Not(HasSubstr("C-1"))) << "no customer ids in labels";
}

TEST_F(ObservabilityMetricsTest, PipelineCountersMoveWithTheScenario) {
  RunScenario();
  const PromSamples s = Scrape(*obs_);
  EXPECT_EQ(s.Sum("ordersync_events_received_total"), 11);
  EXPECT_EQ(s.Sum("ordersync_events_accepted_total", {{"outcome", "applied"}}), 7);
  EXPECT_EQ(s.Sum("ordersync_events_accepted_total", {{"outcome", "parked"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_events_accepted_total", {{"outcome", "excepted"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_events_duplicate_total", {{"kind", "exact"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_events_duplicate_total", {{"kind", "business"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_exceptions_total", {{"stage", "lifecycle"}, {"class", "business_rule"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_exceptions_total"), 1);
  EXPECT_EQ(s.Sum("ordersync_parked_events"), 1);
  EXPECT_EQ(s.Sum("ordersync_queued_events"), 0);
  EXPECT_EQ(s.Sum("ordersync_group_commit_batch_events_count"), s.Sum("ordersync_group_commit_duration_seconds_count"));
  EXPECT_GE(s.Sum("ordersync_group_commit_batch_events_sum"), 11);
  // Labelled counters exist from the start, at 0.
  EXPECT_EQ(s.LabelValues("ordersync_exceptions_total", "stage").size(), 6u);  // with master_data
  EXPECT_EQ(s.Sum("ordersync_events_busy_total", {{"reason", "queue_full"}}), 0);
  EXPECT_TRUE(s.Has("ordersync_events_busy_total"));
  EXPECT_EQ(s.Sum("ordersync_build_info", {{"version", "test"}}), 1);
}

TEST_F(ObservabilityMetricsTest, OrderParkedPastItsSloShowsAsAtRisk) {
  RunScenario();
  ASSERT_TRUE(obs_->scanner()->ScanOnce().ok());
  PromSamples s = Scrape(*obs_);
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "parked"}}), 0) << "parked, but not for long";
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "exception"}}), 1);  // SO-C
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk"), 1);

  harness_.clock().Advance(static_cast<int64_t>(config_.slo.parked_s + 1) * kSecond);
  ASSERT_TRUE(obs_->scanner()->ScanOnce().ok());
  s = Scrape(*obs_);
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "parked"}}), 1);  // SO-B
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk"), 2);
  EXPECT_EQ(s.Sum("ordersync_exceptions_pending", {{"class", "business_rule"}}), 1);
  // SO-A's goods issue and invoice, SO-B's and SO-C's sales orders (+ SO-C's cancellation).
  EXPECT_EQ(s.Sum("ordersync_shipments_pending_erp_posting"), 1);
  EXPECT_EQ(s.Sum("ordersync_returns_awaiting_credit"), 0);
  EXPECT_EQ(s.Sum("ordersync_outbox_depth", {{"target", "erp"}}), harness_.Outbox().size());
  EXPECT_NEAR(s.Sum("ordersync_outbox_oldest_command_age_seconds", {{"target", "erp"}}),
              static_cast<double>(config_.slo.parked_s + 1), 1.0);
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "outbox"}}), 0);

  // Past the outbox SLO every order with an unposted command is at risk too.
  harness_.clock().Advance(static_cast<int64_t>(config_.slo.outbox_age_s) * kSecond);
  ASSERT_TRUE(obs_->scanner()->ScanOnce().ok());
  s = Scrape(*obs_);
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk_by_reason", {{"reason", "outbox"}}), 3);
  EXPECT_EQ(s.Sum("ordersync_orders_at_risk"), 3);
}

TEST_F(ObservabilityMetricsTest, InvoiceAckLandsInShipToInvoiceHistogram) {
  RunScenario();
  const std::string invoice = OutboxCommandBytes("SO-A", CommandKind::CreateInvoice);
  const std::string goods_issue = OutboxCommandBytes("SO-A", CommandKind::PostGoodsIssue);
  ASSERT_FALSE(invoice.empty());
  ASSERT_FALSE(goods_issue.empty());
  const ErpCommand* inv = GetErpCommand(invoice.data());
  ASSERT_GT(inv->event_occurred_at_ns(), 0);
  // What the dispatcher does on Posted: the invoice acknowledged 30 min after the shipment
  // occurred, the goods issue 2 h after the order was accepted.
  obs_->slo()->OnCommandAcked(*inv, inv->event_occurred_at_ns() + 1800 * kSecond);
  const ErpCommand* gi = GetErpCommand(goods_issue.data());
  obs_->slo()->OnCommandAcked(*gi, gi->order_accepted_at_ns() + 7200 * kSecond);

  const PromSamples s = Scrape(*obs_);
  EXPECT_EQ(s.Sum("ordersync_ship_to_invoice_seconds_count", {{"target", "erp"}}), 1);
  EXPECT_DOUBLE_EQ(s.Sum("ordersync_ship_to_invoice_seconds_sum", {{"target", "erp"}}), 1800);
  EXPECT_EQ(s.Sum("ordersync_ship_to_invoice_seconds_bucket", {{"target", "erp"}, {"le", "900"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_ship_to_invoice_seconds_bucket", {{"target", "erp"}, {"le", "1800"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_order_to_ship_seconds_count", {{"target", "erp"}}), 1);
  EXPECT_DOUBLE_EQ(s.Sum("ordersync_order_to_ship_seconds_sum", {{"target", "erp"}}), 7200);
  EXPECT_LE(s.Quantile("ordersync_ship_to_invoice_seconds", 0.95), 1800);
}

TEST_F(ObservabilityMetricsTest, StatusShowsQueuesTargetsAndSloHealth) {
  RunScenario();
  harness_.clock().Advance(static_cast<int64_t>(config_.slo.parked_s + 1) * kSecond);
  ASSERT_TRUE(obs_->scanner()->ScanOnce().ok());
  const PromSamples before = Scrape(*obs_);
  EXPECT_EQ(harness_.Send(Delivered("SO-A", "a5", "SHP-1")).outcome, EventOutcome::kApplied);
  const PromSamples now = Scrape(*obs_);
  std::ostringstream out;
  FormatStatus(now, &before, 1.0, config_.slo, "http://test/metrics", out);
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("throughput  1 ev/s in: applied 1"));
  EXPECT_THAT(text, HasSubstr("| parked 1 | exceptions pending 1 business_rule=1"));
  EXPECT_THAT(text, HasSubstr("orders at risk 2 (parked 1, exception 1, outbox 0"));
  EXPECT_THAT(text, HasSubstr("shipments pending ERP posting 1"));
  EXPECT_THAT(text, ::testing::ContainsRegex("erp +[0-9]+ +5m"));  // outbox depth and oldest age
  EXPECT_THAT(text, HasSubstr("ship→invoice p95 - (SLO 60m): no data"));
  std::ostringstream json;
  FormatStatusJson(now, &before, 1.0, config_.slo, "x", json);
  EXPECT_THAT(json.str(), HasSubstr("\"orders_at_risk\":2"));
}

TEST_F(ObservabilityMetricsTest, AdminStatusCommandServesTheSameFigures) {
  RunScenario();
  AdminOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  auto admin = AdminServer::Create(options);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  RegisterStatusAdminCommand(admin->get(), obs_.get());
  const nlohmann::json reply = (*admin)->Handle({{"command", "status"}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  auto parsed = ParsePromText(reply["result"]["metrics"].get<std::string>());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Sum("ordersync_events_duplicate_total", {{"kind", "exact"}}), 1);
  EXPECT_EQ(parsed->Sum("ordersync_parked_events"), 1);
}

TEST(StoreScannerEventLogTest, NewExceptionsAreLoggedOnceWithOrderAndCorrelationIds) {
  EngineHarness harness;
  std::ostringstream os;
  EventLogger log({"json", 0, 0}, {std::make_shared<spdlog::sinks::ostream_sink_mt>(os)});
  StoreScanner scanner(&harness.store(), &harness.clock(), MetricsOptions{}, SloOptions{}, {"erp"});
  scanner.SetEventLog(&log);
  ASSERT_EQ(harness.Send(Accepted("SO-L", "l1", {{1, "SKU-1", 1}})).outcome, EventOutcome::kApplied);
  ASSERT_EQ(harness.Send(Cancelled("SO-L", "l2")).outcome, EventOutcome::kApplied);
  EnvelopeSpec late = Reserved("SO-L", "l3", "RES-1", {{1, "SKU-1", 1}});
  late.correlation_id = "corr-l3";
  ASSERT_EQ(harness.Send(late).outcome, EventOutcome::kExcepted);
  harness.Checkpoint();
  ASSERT_TRUE(scanner.ScanOnce().ok());  // first scan: a summary, not the backlog
  EXPECT_THAT(os.str(), HasSubstr("\"msg\":\"store scan: 1 exceptions pending, 0 dead letters, 0 quarantined frames\""));
  EXPECT_THAT(os.str(), ::testing::Not(HasSubstr("event excepted")));

  EnvelopeSpec again = Reserved("SO-L", "l4", "RES-2", {{1, "SKU-1", 1}});
  again.correlation_id = "corr-l4";
  harness.clock().Advance(kSecond);
  ASSERT_EQ(harness.Send(again).outcome, EventOutcome::kExcepted);
  harness.Checkpoint();
  ASSERT_TRUE(scanner.ScanOnce().ok());
  harness.Checkpoint();
  ASSERT_TRUE(scanner.ScanOnce().ok());  // nothing new: nothing logged twice
  const std::string out = os.str();
  EXPECT_THAT(out, HasSubstr("\"msg\":\"event excepted: business_rule at lifecycle: "));
  EXPECT_THAT(out, HasSubstr("\"kind\":\"exception\",\"order_id\":\"SO-L\",\"event_id\":\"l4\","
                             "\"correlation_id\":\"corr-l4\",\"source\":\"WMS-EAST\""));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("corr-l3"))) << "the backlog is not logged line by line";
  size_t lines = 0;
  for (size_t at = out.find("event excepted"); at != std::string::npos; at = out.find("event excepted", at + 1)) ++lines;
  EXPECT_EQ(lines, 1u);
}

}  // namespace
}  // namespace ordersync::testing
