// One end-to-end fault scenario per ERP kind (netsuite, sap_s4, d365_bc, oracle_fusion,
// webhook): events go into the engine, the dispatcher posts the commands through that
// kind's HttpTargetChannel to its HTTPS simulator (test CA by openssl; the command kinds
// the ERP cannot take go to a second, webhook target) while the simulator loses 10 % of
// its replies after committing, answers 5 % with 503, throws a 429 + Retry-After storm
// and revokes its OAuth tokens (SAP: its CSRF tokens) mid-run, and rejects every command
// of one order. Then the "data is fixed" (rejections off) and the dead letters are
// replayed through the dispatcher. Each command reaches the ERPs exactly once, each
// order's commands in sequence; the rejected order's dead letters carry the ERP's words.
//
// The connector-level tests (adapters/erp/connectors/erp_connector_integration_test.cc)
// cover the same faults on the connector alone; these cover the dispatcher around it:
// its retries, circuit breaker, per-order sequencing across targets, DLQ and replay.
#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/erp/http_fanout_fixture.h"

namespace ordersync::testing {
namespace {

using ::testing::Not;
using ::testing::StartsWith;

struct KindCase {
  std::string kind;
  // The command kinds this ERP cannot take (erp_kind.h): routed to the webhook target.
  std::vector<std::string> elsewhere;
};

// gtest prints the parameter in failure lines.
void PrintTo(const KindCase& k, std::ostream* os) { *os << k.kind; }

std::string PrintKind(const ::testing::TestParamInfo<KindCase>& info) { return info.param.kind; }

class HttpFanOutKindTest : public HttpFanOutTest, public ::testing::WithParamInterface<KindCase> {};

TEST_P(HttpFanOutKindTest, EveryCommandPostsOnceThroughStormsLostRepliesAuthExpiryAndADeadLetterReplay) {
  const KindCase& k = GetParam();
  const bool sap = k.kind == "sap_s4";
  const std::string prefix = "K-";
  const std::string rejected_order = prefix + "3";

  ErpHttpSimOptions eo;
  eo.api = k.kind;
  eo.ambiguous_rate = 0.1;          // committed, reply lost
  eo.transient_error_rate = 0.05;   // 503
  eo.transient_error_every = 7;     // and at least one 503 whatever the timing
  eo.reject_orders = {rejected_order};
  eo.seed = 21;
  if (sap) {
    eo.auth = "basic";
    eo.username = "ORDERSYNC_COMM";
    eo.password = "s4-secret";
  } else {
    eo.auth = "oauth2";
    eo.client_id = "ordersync-" + k.kind;
    if (k.kind == "netsuite") {
      eo.jwt_public_key_pem = ReadFileText(pki_->jwt_pub);  // NetSuite M2M: a signed JWT assertion
    } else {
      eo.client_secret = "client-secret";
    }
  }
  ErpHttpSimulator& erp = StartSim(eo);
  const std::string url = k.kind == "webhook" ? erp.base_url() + "/hooks/erp" : erp.base_url();
  std::string auth;
  if (sap) {
    auth = "method = \"basic\"\nusername = \"ORDERSYNC_COMM\"\npassword_file = \"" + Secret("s4.pw", "s4-secret") +
           "\"\n";
  } else if (k.kind == "netsuite") {
    auth = "method = \"oauth2_jwt\"\ntoken_url = \"" + erp.token_url() + "\"\nclient_id = \"" + eo.client_id +
           "\"\nprivate_key_file = \"" + pki_->jwt_key + "\"\njwt_algorithm = \"PS256\"\njwt_key_id = \"cert-1\"\n";
  } else {
    auth = "method = \"oauth2_client_secret\"\ntoken_url = \"" + erp.token_url() + "\"\nclient_id = \"" +
           eo.client_id + "\"\nclient_secret_file = \"" + Secret("client.secret", "client-secret") + "\"\n";
  }
  std::string toml = "[routing]\ndefault_target = \"erp\"\n";
  std::vector<ErpHttpSimulator*> sims = {&erp};
  if (!k.elsewhere.empty()) {
    ErpHttpSimOptions wo;
    wo.api = "webhook";
    wo.seed = 22;
    ErpHttpSimulator& hook = StartSim(wo);
    sims.push_back(&hook);
    toml += RulesTo("hook", k.elsewhere) + HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert);
  }
  toml += HttpTarget("erp", k.kind, url, pki_->ca_cert, "batch_size = 10\n") + "[erp.targets.erp.auth]\n" + auth;
  Configure(toml);
  Start();

  // Mid-run faults, each once the ERP has posted a few documents of this run.
  std::atomic<bool> stop{false};
  std::thread faults([&] {
    auto wait_postings = [&](uint64_t n) {
      while (!stop && erp.Summary().base.postings < n) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      return !stop;
    };
    if (!wait_postings(8)) return;
    if (sap) {
      erp.ExpireCsrfTokens();  // 403 "CSRF token validation failed": fetch a new one
    } else {
      erp.ExpireTokens();  // 401 invalid_token: a new token, the request again
    }
    if (!wait_postings(16)) return;
    erp.ForceStorm(true);  // every request: 429 + Retry-After: 1
    for (int i = 0; i < 30 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    erp.ForceStorm(false);
  });
  const int kOrders = 24;
  SendAll(Lifecycles(prefix, kOrders));
  const bool drained = WaitUntilDrained();
  stop = true;
  faults.join();
  ASSERT_TRUE(drained);

  // The rejected order: its sales order dead-lettered with the ERP's own message, the
  // rest of the order (whichever target) behind it.
  const std::vector<DeadLetterRecord> dead = DeadLetters();
  ASSERT_EQ(dead.size(), 4u);
  for (const DeadLetterRecord& d : dead) EXPECT_EQ(d.order_id, rejected_order);
  EXPECT_EQ(dead[0].reason, "rejected");
  EXPECT_EQ(dead[0].target, "erp");
  EXPECT_FALSE(dead[0].message.empty());
  EXPECT_THAT(dead[0].message, Not(StartsWith("HTTP")));  // the ERP's words, not ours
  const TargetStats before = Target("erp");
  EXPECT_EQ(before.rejected, 1u);
  EXPECT_EQ(before.auth_failures, 0u);  // expired tokens are refreshed, not failures

  // The data is fixed in the ERP; the operator replays the dead letters.
  erp.SetRejectionsEnabled(false);
  DeadLetterFilter rejected;  // `ordersync dlq replay --reason rejected`
  rejected.reason = "rejected";
  Result<ReplayReport> replay = pipeline_->dispatcher()->Replay(rejected);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  ASSERT_EQ(replay->orders.size(), 1u);
  EXPECT_TRUE(replay->skipped.empty());
  ASSERT_TRUE(WaitUntilDrained());

  ExpectPostedOnceInSequence(sims, kOrders * 4);
  const ErpHttpSimSummary s = erp.Summary();
  EXPECT_GT(s.base.ambiguous_injected, 0u);
  EXPECT_GT(s.base.transient_errors, 0u);
  EXPECT_GT(s.throttled, 0u);
  EXPECT_EQ(s.duplicate_postings, 0u);
  const TargetStats t = Target("erp");
  ASSERT_TRUE(t.has_transport_stats);
  EXPECT_GT(t.transport.http_429, 0u);
  EXPECT_GT(t.rate_limited, 0u);
  if (sap) {
    EXPECT_GE(t.transport.csrf_refetches_on_403, 1u);
    EXPECT_GT(s.csrf_refused, 0u);
  } else {
    EXPECT_GE(t.transport.token_refreshes_on_401, 1u);
    EXPECT_GE(s.tokens_issued, 2u);
  }
  EXPECT_EQ(t.auth_failures, 0u);
  // Lost replies end as AlreadyPosted: found by read-before-retry, or the ERP's upsert /
  // duplicate / Idempotency-Key answer.
  EXPECT_GT(t.already_posted, 0u);
  uint64_t dead_lettered = 0;  // over both targets: the rejected order's four, once; none after the replay
  for (const TargetStats& ts : pipeline_->dispatcher()->Stats().targets) dead_lettered += ts.dead_lettered;
  EXPECT_EQ(dead_lettered, 4u);
}

INSTANTIATE_TEST_SUITE_P(
    PerKind, HttpFanOutKindTest,
    ::testing::Values(KindCase{"netsuite", {"ConfirmAllocation", "ReleaseAllocation"}},
                      KindCase{"sap_s4", {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder"}},
                      KindCase{"d365_bc",
                               {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder", "PostGoodsIssue",
                                "PostInventoryAdjustment"}},
                      KindCase{"oracle_fusion",
                               {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder", "PostGoodsIssue",
                                "PostInventoryAdjustment"}},
                      KindCase{"webhook", {}}),
    PrintKind);

}  // namespace
}  // namespace ordersync::testing
