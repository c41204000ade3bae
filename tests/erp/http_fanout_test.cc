// The dispatcher posting to the HTTP simulators of real ERP APIs, wired the way `serve`
// wires it (fixture: http_fanout_fixture.h): lost replies and a restart with requests in
// flight (SAP + webhook), refused credentials opening the circuit (Business Central), a
// rejection dead-lettered with the ERP's own message (NetSuite), and Retry-After honoured
// (webhook). http_fanout_kinds_test.cc runs one end-to-end fault scenario per ERP kind.
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/erp/http_fanout_fixture.h"

namespace ordersync::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// SAP S/4HANA (Basic + CSRF, OData $batch, no idempotent create) and a webhook
// (Idempotency-Key): 10 % (SAP) and 20 % (webhook) of replies lost after the ERP committed, 2 % answered 429 with
// Retry-After, and serve restarted with requests in flight. Every command posts once:
// the lost ones are found by read-before-retry (SAP) or replayed by key (webhook).
TEST_F(HttpFanOutTest, SapAndWebhookPostEveryCommandOnceThroughLostRepliesThrottlingAndARestart) {
  ErpHttpSimOptions so;
  so.api = "sap_s4";
  so.auth = "basic";
  so.username = "ORDERSYNC";
  so.password = "s4-secret";
  so.ambiguous_rate = 0.1;
  so.throttle_rate = 0.02;
  so.seed = 7;
  ErpHttpSimulator& sap = StartSim(so);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  wo.ambiguous_rate = 0.2;
  wo.seed = 8;
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"sap\"\n" +
            RulesTo("hook", {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder"}) +
            HttpTarget("sap", "sap_s4", sap.base_url(), pki_->ca_cert, "batch_size = 10\n") +
            "[erp.targets.sap.auth]\nmethod = \"basic\"\nusername = \"ORDERSYNC\"\npassword_file = \"" +
            Secret("s4.pw", "s4-secret") + "\"\n" + HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp",
                                                               pki_->ca_cert));
  Start();
  const int kOrders = 40;
  const std::vector<EnvelopeSpec> events = Lifecycles("SO-", kOrders);
  SendAll(std::vector<EnvelopeSpec>(events.begin(), events.begin() + events.size() / 2));
  // Restart while requests of this run are on their way (60 SAP commands, one per order
  // at a time; lost replies are withheld 1.2 s).
  ASSERT_TRUE(WaitFor([&] { return sap.Summary().base.postings >= 10; }));
  Restart();
  SendAll(std::vector<EnvelopeSpec>(events.begin() + events.size() / 2, events.end()));
  ASSERT_TRUE(WaitUntilDrained());

  ExpectPostedOnceInSequence({&sap, &hook}, kOrders * 4);
  const ErpHttpSimSummary s = sap.Summary();
  EXPECT_GT(s.base.ambiguous_injected, 0u);
  EXPECT_GT(s.lookups, 0u);  // read-before-retry after the lost replies and the restart
  EXPECT_GT(s.csrf_tokens_issued, 0u);
  EXPECT_GT(hook.Summary().replayed + hook.Summary().base.duplicates_received, 0u);
  const TargetStats t = Target("sap");
  EXPECT_EQ(t.dead_lettered, 0u);
  EXPECT_EQ(t.auth_failures, 0u);
  ASSERT_TRUE(t.has_transport_stats);
  EXPECT_GT(t.transport.http_2xx, 0u);
  EXPECT_GT(t.transport.csrf_fetches, 0u);
  EXPECT_TRUE(DeadLetters().empty());

  // The trace shows each attempt's HTTP status and the ERP's document number.
  pipeline_->engine()->Checkpoint().PermitUncheckedError();
  OrderTrace trace;
  ASSERT_TRUE(BuildOrderTrace(pipeline_->store(), 8, "SO-" + std::to_string(kOrders - 1), &trace).ok());
  std::map<std::string, std::string> documents;  // command kind -> document of its final answer
  bool saw_http_status = false;
  for (const TraceStep& step : trace.steps) {
    if (step.kind != "command_acked") continue;
    EXPECT_THAT(step.reason, AnyOf(StartsWith("HTTP "), StartsWith("no HTTP answer (")));
    saw_http_status = true;
    if (step.outcome == "Posted" || step.outcome == "AlreadyPosted") documents[step.command_kind] = step.erp_document_id;
  }
  EXPECT_TRUE(saw_http_status);
  EXPECT_FALSE(documents["CreateSalesOrder"].empty());
  EXPECT_FALSE(documents["CreateInvoice"].empty());
  std::ostringstream text;
  PrintTraceText(trace, 0, text);
  EXPECT_THAT(text.str(), HasSubstr("document " + documents["CreateSalesOrder"]));

  // The connectors' counters reach the metrics page.
  const PromSamples m = ScrapeCheckedByPromtool();
  EXPECT_GT(m.Sum("ordersync_erp_http_responses_total", {{"target", "sap"}, {"class", "2xx"}}), 0);
  EXPECT_GT(m.Sum("ordersync_erp_http_csrf_fetches_total", {{"target", "sap"}}), 0);
  EXPECT_GT(m.Sum("ordersync_erp_http_requests_total", {{"target", "hook"}}), 0);
  EXPECT_EQ(m.Sum("ordersync_erp_auth_failures_total", {{"target", "sap"}}), 0);
}

// Business Central (OAuth client credentials, JSON $batch, and an ERP that accepts a
// second document with the same externalDocumentNumber): with a wrong client secret
// every attempt ends as an auth failure — the circuit opens, the failures are counted
// (metric and alert), nothing is dead-lettered and nothing posts. With the secret fixed
// and serve restarted, every command posts once although 15 % of BC's replies are lost:
// read-before-retry finds them, so no second document appears.
TEST_F(HttpFanOutTest, BusinessCentralAuthFailureOpensTheCircuitWithoutDeadLetteringThenPostsOnce) {
  ErpHttpSimOptions bo;
  bo.api = "d365_bc";
  bo.auth = "oauth2";
  bo.client_id = "ordersync-bc";
  bo.client_secret = "right-secret";
  bo.token_ttl_s = 2;
  bo.ambiguous_rate = 0.15;
  bo.seed = 11;
  ErpHttpSimulator& bc = StartSim(bo);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  wo.seed = 12;
  ErpHttpSimulator& hook = StartSim(wo);
  const std::string secret = Secret("bc.secret", "wrong-secret");
  Configure("[routing]\ndefault_target = \"bc\"\n" +
            RulesTo("hook", {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder", "PostGoodsIssue",
                             "PostInventoryAdjustment"}) +
            HttpTarget("bc", "d365_bc", bc.base_url(), pki_->ca_cert, "batch_size = 10\n") +
            "[erp.targets.bc.auth]\nmethod = \"oauth2_client_secret\"\ntoken_url = \"" + bc.token_url() +
            "\"\nclient_id = \"ordersync-bc\"\nclient_secret_file = \"" + secret + "\"\n" +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert));
  Start();
  const int kOrders = 30;
  SendAll(Lifecycles("BC-", kOrders));
  // Refused credentials: the circuit opens, and its probes keep meeting the refusal.
  ASSERT_TRUE(WaitFor([&] {
    const TargetStats t = Target("bc");
    return t.auth_failures >= 3 && t.circuit_opened >= 2;
  }));
  const TargetStats refused = Target("bc");
  EXPECT_EQ(refused.dead_lettered, 0u);
  EXPECT_EQ(refused.posted, 0u);
  EXPECT_GT(refused.transport.token_failures, 0u);
  EXPECT_TRUE(DeadLetters().empty());
  EXPECT_TRUE(bc.Ledger().empty());
  EXPECT_GT(OutboxSize(), 0u);  // the commands wait in the outbox
  {
    const PromSamples m = ScrapeCheckedByPromtool();
    EXPECT_GE(m.Sum("ordersync_erp_auth_failures_total", {{"target", "bc"}}), 3);
    EXPECT_GE(m.Sum("ordersync_erp_circuit_opened_total", {{"target", "bc"}}), 2);
    EXPECT_GT(m.Sum("ordersync_erp_http_token_failures_total", {{"target", "bc"}}), 0);
  }

  // The operator fixes the secret and restarts serve.
  WriteSecret(secret, "right-secret");
  Restart();
  ASSERT_TRUE(WaitUntilDrained());
  ExpectPostedOnceInSequence({&bc, &hook}, kOrders * 4);
  const ErpHttpSimSummary s = bc.Summary();
  EXPECT_GT(s.base.ambiguous_injected, 0u);
  EXPECT_EQ(s.duplicate_postings, 0u);  // BC would have taken a second document
  const TargetStats t = Target("bc");
  EXPECT_EQ(t.auth_failures, 0u);
  EXPECT_EQ(t.dead_lettered, 0u);
  EXPECT_GT(t.transport.lookups_found, 0u);  // lost replies found, not posted again
  EXPECT_GT(t.transport.token_fetches, 0u);
  EXPECT_GT(t.transport.batches, 0u);
  EXPECT_TRUE(DeadLetters().empty());
}

// A rejection by the ERP (NetSuite's o:errorDetails) dead-letters the command with the
// ERP's own words and blocks the order; the trace shows the 400.
TEST_F(HttpFanOutTest, NetSuiteRejectionIsDeadLetteredWithTheErpsMessage) {
  ErpHttpSimOptions no;
  no.api = "netsuite";
  no.reject_orders = {"NS-1"};
  ErpHttpSimulator& ns = StartSim(no);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"ns\"\n" + RulesTo("hook", {"ConfirmAllocation", "ReleaseAllocation"}) +
            HttpTarget("ns", "netsuite", ns.base_url(), pki_->ca_cert) +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert));
  Start();
  SendAll(Lifecycles("NS-", 3));
  ASSERT_TRUE(WaitUntilDrained());
  const std::vector<DeadLetterRecord> dead = DeadLetters();
  ASSERT_EQ(dead.size(), 4u);  // NS-1's sales order and, blocked behind it, its other three commands
  EXPECT_EQ(dead[0].order_id, "NS-1");
  EXPECT_EQ(dead[0].reason, "rejected");
  EXPECT_THAT(dead[0].message, HasSubstr("Invalid Field Value"));
  EXPECT_THAT(dead[0].message, Not(StartsWith("HTTP")));  // the ERP's words, as they came
  EXPECT_EQ(Target("ns").rejected, 1u);
  pipeline_->engine()->Checkpoint().PermitUncheckedError();
  OrderTrace trace;
  ASSERT_TRUE(BuildOrderTrace(pipeline_->store(), 8, "NS-1", &trace).ok());
  bool saw = false;
  for (const TraceStep& step : trace.steps) {
    if (step.kind == "command_acked" && step.outcome == "Rejected") {
      saw = true;
      EXPECT_THAT(step.reason, StartsWith("HTTP 400: "));
    }
  }
  EXPECT_TRUE(saw);
  ExpectPostedOnceInSequence({&ns, &hook}, 2 * 4);
}

// 429 with Retry-After: the dispatcher retries the command no sooner than the ERP asked
// (the journal's answer and re-send times show it), and a throttling ERP is no failure
// for the circuit breaker (it opens after one failure here, and stays closed).
TEST_F(HttpFanOutTest, RateLimitedAttemptIsRetriedNoSoonerThanRetryAfterAndKeepsTheCircuitClosed) {
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  wo.throttle_rate = 1.0;  // every request: 429, Retry-After: 1
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"hook\"\n" +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert, "", 1));
  Start();
  SendAll(Lifecycles("RL-", 1));
  ASSERT_TRUE(WaitFor([&] { return Target("hook").retry_after_delays >= 2; }));
  hook.SetThrottleRate(0);
  ASSERT_TRUE(WaitUntilDrained());
  ExpectPostedOnceInSequence({&hook}, 4);
  const TargetStats t = Target("hook");
  EXPECT_GE(t.rate_limited, 2u);
  EXPECT_EQ(t.circuit_opened, 0u);
  EXPECT_EQ(t.dead_lettered, 0u);
  EXPECT_GE(t.transport.http_429, 2u);
  EXPECT_GE(t.transport.retry_after_waits, 2u);

  pipeline_->engine()->Checkpoint().PermitUncheckedError();
  OrderTrace trace;
  ASSERT_TRUE(BuildOrderTrace(pipeline_->store(), 8, "RL-0", &trace).ok());
  int checked = 0;
  for (size_t i = 0; i < trace.steps.size(); ++i) {
    const TraceStep& answer = trace.steps[i];
    if (answer.kind != "command_acked" || answer.reason.rfind("HTTP 429", 0) != 0) continue;
    for (size_t j = i + 1; j < trace.steps.size(); ++j) {
      const TraceStep& resend = trace.steps[j];
      if (resend.kind != "command_sent" || resend.command_id != answer.command_id) continue;
      EXPECT_GE(resend.at_ns - answer.at_ns, 1'000'000'000 - 5'000'000)  // 1 s, less clock granularity
          << answer.command_id << " re-sent " << (resend.at_ns - answer.at_ns) / 1'000'000 << " ms after a 429";
      ++checked;
      break;
    }
  }
  EXPECT_GE(checked, 2);
}

}  // namespace
}  // namespace ordersync::testing
