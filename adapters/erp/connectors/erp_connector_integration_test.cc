// Each HTTP connector against its simulator over HTTPS (a test CA made with openssl):
// every command posted exactly once under 429 storms, 503s, lost replies after commit,
// token / CSRF expiry mid-run; rejections reported with the ERP's own message and
// posted after the fix. The driver loop retries like the dispatcher will.
#include <gtest/gtest.h>

#include <set>

#include "adapters/erp/connectors/connector_test_util.h"
#include "adapters/erp/connectors/sim/erp_http_simulator.h"

namespace ordersync {
namespace {

class ErpConnectorIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Make());
    ASSERT_TRUE(pki_->ok) << "openssl could not make the test PKI";
  }
  static void TearDownTestSuite() {
    pki_->Remove();
    delete pki_;
  }

  ErpHttpSimOptions SimOptions(const std::string& api) {
    ErpHttpSimOptions o;
    o.api = api;
    o.cert_file = pki_->server_cert;
    o.key_file = pki_->server_key;
    o.threads = 24;
    o.withhold_ms = 1200;
    o.retry_after_s = 1;
    return o;
  }

  ErpTargetOptions Target(const std::string& kind, const ErpHttpSimulator& sim) {
    ErpTargetOptions t;
    t.name = kind + "-test";
    t.kind = kind;
    t.max_in_flight = 64;
    t.timeout_ms = 500;  // the simulator withholds lost replies for 1200 ms
    t.http.transport.base_url = sim.base_url();
    t.http.transport.ca_file = pki_->ca_cert;
    t.http.transport.max_requests = 8;
    t.http.document.customer = "C-1000";
    t.http.document.company_id = "6f1e7c1a-0000-4000-8000-000000000001";
    return t;
  }

  std::string Secret(const std::string& name, const std::string& value) {
    const std::string path = pki_->dir + "/" + name;
    WriteSecret(path, value);
    return path;
  }

  // Every command of `orders` was posted exactly once (by command id), and nothing else.
  static void ExpectEachPostedOnce(const ErpHttpSimulator& sim, const std::vector<std::vector<TestCommand>>& orders,
                                   const std::set<std::string>& except = {}) {
    std::map<std::string, int> count;
    for (const ErpPosting& p : sim.Ledger()) ++count[p.command_id];
    size_t expected = 0;
    for (const auto& o : orders) {
      for (const TestCommand& c : o) {
        if (except.count(c.command_id)) continue;
        ++expected;
        EXPECT_EQ(count[c.command_id], 1) << c.command_id;
      }
    }
    EXPECT_EQ(sim.Ledger().size(), expected);
    EXPECT_EQ(sim.Summary().duplicate_postings, 0u);
    EXPECT_EQ(sim.Summary().base.out_of_order_arrivals, 0u);
  }

  static void ExpectAllAcknowledged(const DriveResult& r, const std::vector<std::vector<TestCommand>>& orders) {
    EXPECT_TRUE(r.finished);
    for (const auto& o : orders) {
      for (const TestCommand& c : o) {
        auto it = r.final.find(c.command_id);
        ASSERT_NE(it, r.final.end()) << c.command_id;
        EXPECT_TRUE(it->second.status == AckStatus::Posted || it->second.status == AckStatus::AlreadyPosted)
            << c.command_id << ": " << it->second.message;
        EXPECT_FALSE(it->second.erp_document_id.empty()) << c.command_id;
      }
    }
  }

  static TestPki* pki_;
};
TestPki* ErpConnectorIntegrationTest::pki_ = nullptr;

TEST_F(ErpConnectorIntegrationTest, NetSuiteJwtAuthUpsertsAndTransformsOnceUnderFaults) {
  ErpHttpSimOptions so = SimOptions("netsuite");
  so.auth = "oauth2";
  so.client_id = "ordersync-m2m";
  so.jwt_public_key_pem = ReadFileText(pki_->jwt_pub);
  so.token_ttl_s = 3;
  so.ambiguous_rate = 0.1;
  so.transient_error_rate = 0.05;
  so.throttle_rate = 0.01;
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  ErpTargetOptions t = Target("netsuite", **sim);
  t.http.auth.method = "oauth2_jwt";
  t.http.auth.token_url = (*sim)->token_url();
  t.http.auth.client_id = "ordersync-m2m";
  t.http.auth.private_key_file = pki_->jwt_key;
  t.http.auth.jwt_algorithm = "PS256";
  t.http.auth.jwt_key_id = "cert-1";
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto orders = MakeOrders(30, {CommandKind::CreateSalesOrder, CommandKind::PostGoodsIssue,
                                      CommandKind::CreateInvoice, CommandKind::CancelSalesOrder});
  DriveResult r = DriveOrders(c->get(), orders, 90, [&](size_t done) {
    if (done == 40) (*sim)->ExpireTokens();  // revoked mid-run: 401, refresh, re-send
  });
  ExpectAllAcknowledged(r, orders);
  ExpectEachPostedOnce(**sim, orders);
  const ErpConnectorStats s = (*c)->Stats();
  EXPECT_GE(s.token_fetches, 2u);
  EXPECT_GE(s.token_refreshes_on_401, 1u);
  EXPECT_GT((*sim)->Summary().base.ambiguous_injected, 0u);
  EXPECT_LT(s.connections_opened, s.http_requests);  // keep-alive reuse
  (*c)->Stop();
}

TEST_F(ErpConnectorIntegrationTest, NetSuiteRejectionCarriesErpMessageAndPostsAfterFix) {
  ErpHttpSimOptions so = SimOptions("netsuite");
  so.auth = "oauth2";
  so.client_id = "cid";
  so.client_secret = "s3cret";
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("netsuite", **sim);
  t.http.auth.method = "oauth2_client_secret";
  t.http.auth.token_url = (*sim)->token_url();
  t.http.auth.client_id = "cid";
  t.http.auth.client_secret_file = Secret("ns.secret", "s3cret");
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const TestCommand so_cmd = MakeTestCommand("SO-REJ", CommandKind::CreateSalesOrder, "SO-REJ", 1);
  (*sim)->SetRejectCommandIds({so_cmd.command_id});
  DriveResult r = DriveOrders(c->get(), {{so_cmd}}, 20, [](size_t) {});
  ASSERT_EQ(r.final.count(so_cmd.command_id), 1u);
  const ErpCompletion& rej = r.final[so_cmd.command_id];
  EXPECT_EQ(rej.status, AckStatus::Rejected);
  EXPECT_EQ(rej.failure, ErpFailureClass::kBusiness);
  EXPECT_EQ(rej.http_status, 400);
  EXPECT_NE(rej.message.find("simulated business rejection"), std::string::npos) << rej.message;
  EXPECT_NE(rej.message.find("USER_ERROR"), std::string::npos) << rej.message;
  (*sim)->SetRejectionsEnabled(false);  // the data was fixed; the DLQ replays it
  r = DriveOrders(c->get(), {{so_cmd}}, 20, [](size_t) {});
  EXPECT_EQ(r.final[so_cmd.command_id].status, AckStatus::Posted);
  EXPECT_EQ((*sim)->Ledger().size(), 1u);
}

TEST_F(ErpConnectorIntegrationTest, SapBatchesWithCsrfAndFindsLostPostsBeforeRetrying) {
  ErpHttpSimOptions so = SimOptions("sap_s4");
  so.auth = "basic";
  so.username = "ORDERSYNC_COMM";
  so.password = "pa55";
  so.ambiguous_rate = 0.08;
  so.transient_error_rate = 0.03;
  so.csrf_ttl_s = 2;
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("sap_s4", **sim);
  t.http.auth.method = "basic";
  t.http.auth.username = "ORDERSYNC_COMM";
  t.http.auth.password_file = Secret("sap.pw", "pa55");
  t.http.transport.batch_size = 10;
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto orders = MakeOrders(40, {CommandKind::CreateSalesOrder, CommandKind::PostGoodsIssue,
                                      CommandKind::CreateInvoice, CommandKind::CreateCreditMemo,
                                      CommandKind::PostInventoryAdjustment});
  std::thread storm;
  DriveResult r = DriveOrders(c->get(), orders, 90, [&](size_t done) {
    if (done == 30) (*sim)->ExpireCsrfTokens();
    if (done == 60) {  // a 429 + Retry-After storm for 1.5 s
      (*sim)->ForceStorm(true);
      storm = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        (*sim)->ForceStorm(false);
      });
    }
  });
  if (storm.joinable()) storm.join();
  ExpectAllAcknowledged(r, orders);
  ExpectEachPostedOnce(**sim, orders);
  const ErpConnectorStats s = (*c)->Stats();
  EXPECT_GE(s.csrf_refetches_on_403, 1u);
  EXPECT_GT(s.batches, 0u);
  EXPECT_GT(s.batch_size_max, 1u);
  EXPECT_GT(s.lookups_found, 0u);  // lost replies resolved by read-before-retry
  EXPECT_GE(s.retry_after_waits, 1u);
  EXPECT_GT((*sim)->Summary().batches, 0u);
}

TEST_F(ErpConnectorIntegrationTest, SapRejectionInBatchFailsOnlyThatCommand) {
  ErpHttpSimOptions so = SimOptions("sap_s4");
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("sap_s4", **sim);
  t.http.transport.batch_size = 20;
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto orders = MakeOrders(10, {CommandKind::CreateSalesOrder});
  (*sim)->SetRejectCommandIds({orders[3][0].command_id});
  DriveResult r = DriveOrders(c->get(), orders, 20, [](size_t) {});
  const ErpCompletion& rej = r.final[orders[3][0].command_id];
  EXPECT_EQ(rej.status, AckStatus::Rejected);
  EXPECT_NE(rej.message.find("Material is blocked"), std::string::npos) << rej.message;
  ExpectEachPostedOnce(**sim, orders, {orders[3][0].command_id});
  EXPECT_GE((*c)->Stats().batch_size_max, 5u);
}

TEST_F(ErpConnectorIntegrationTest, BusinessCentralJsonBatchOAuthLookupsPreventSecondDocuments) {
  ErpHttpSimOptions so = SimOptions("d365_bc");
  so.auth = "oauth2";
  so.client_id = "bc-app";
  so.client_secret = "bc-secret";
  so.token_ttl_s = 2;
  so.ambiguous_rate = 0.1;
  so.throttle_rate = 0.01;
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("d365_bc", **sim);
  t.http.auth.method = "oauth2_client_secret";
  t.http.auth.token_url = (*sim)->token_url();
  t.http.auth.client_id = "bc-app";
  t.http.auth.client_secret_file = Secret("bc.secret", "bc-secret");
  t.http.auth.scope = "https://api.businesscentral.dynamics.com/.default";
  t.http.transport.batch_size = 10;
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto orders =
      MakeOrders(40, {CommandKind::CreateSalesOrder, CommandKind::CreateInvoice, CommandKind::CreateCreditMemo});
  DriveResult r = DriveOrders(c->get(), orders, 90, [](size_t) {});
  ExpectAllAcknowledged(r, orders);
  ExpectEachPostedOnce(**sim, orders);
  const ErpConnectorStats s = (*c)->Stats();
  EXPECT_GT(s.lookups_found, 0u);
  EXPECT_GT(s.batches, 0u);
  EXPECT_GE(s.token_fetches, 1u);
}

TEST_F(ErpConnectorIntegrationTest, OracleDuplicateSourceIdIsAlreadyPostedNotRejected) {
  ErpHttpSimOptions so = SimOptions("oracle_fusion");
  so.auth = "basic";
  so.username = "integration.user";
  so.password = "orcl";
  so.ambiguous_rate = 0.15;
  so.transient_error_rate = 0.05;
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("oracle_fusion", **sim);
  t.http.auth.method = "basic";
  t.http.auth.username = "integration.user";
  t.http.auth.password_file = Secret("orcl.pw", "orcl");
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto orders =
      MakeOrders(30, {CommandKind::CreateSalesOrder, CommandKind::CreateInvoice, CommandKind::CreateCreditMemo});
  DriveResult r = DriveOrders(c->get(), orders, 90, [](size_t) {});
  ExpectAllAcknowledged(r, orders);
  ExpectEachPostedOnce(**sim, orders);
  // A post whose first attempt was committed but not answered, sent again without the
  // maybe_posted_before hint: Oracle refuses the duplicate, the look-up finds it.
  const TestCommand again = orders[0][0];
  ASSERT_TRUE((*c)->Post(again.buffer, 99, false).ok());
  std::vector<ErpCompletion> out;
  while (out.empty()) (*c)->Poll(&out, 1000);
  EXPECT_EQ(out[0].status, AckStatus::AlreadyPosted) << out[0].message;
  EXPECT_TRUE(out[0].looked_up);
  EXPECT_EQ((*sim)->Summary().duplicate_postings, 0u);
}

TEST_F(ErpConnectorIntegrationTest, WebhookIdempotencyKeyReplaysInsteadOfReposting) {
  ErpHttpSimOptions so = SimOptions("webhook");
  so.ambiguous_rate = 0.15;
  so.transient_error_rate = 0.05;
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("webhook", **sim);
  t.http.transport.base_url = (*sim)->base_url() + "/hooks/erp";
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto orders = MakeOrders(30, {CommandKind::CreateSalesOrder, CommandKind::ConfirmAllocation,
                                      CommandKind::PostGoodsIssue, CommandKind::CreateInvoice});
  DriveResult r = DriveOrders(c->get(), orders, 90, [](size_t) {});
  ExpectAllAcknowledged(r, orders);
  ExpectEachPostedOnce(**sim, orders);
  EXPECT_GT((*sim)->Summary().replayed, 0u);
  EXPECT_GT((*c)->Stats().already_posted, 0u);
}

TEST_F(ErpConnectorIntegrationTest, WrongCredentialsEndAsAuthFailureNotRejection) {
  ErpHttpSimOptions so = SimOptions("oracle_fusion");
  so.auth = "basic";
  so.username = "u";
  so.password = "right";
  auto sim = ErpHttpSimulator::Start(so);
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("oracle_fusion", **sim);
  t.http.auth.method = "basic";
  t.http.auth.username = "u";
  t.http.auth.password_file = Secret("wrong.pw", "wrong");
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok());
  const TestCommand cmd = MakeTestCommand("SO-AUTH", CommandKind::CreateSalesOrder, "SO-AUTH", 1);
  ASSERT_TRUE((*c)->Post(cmd.buffer, 1, false).ok());
  std::vector<ErpCompletion> out;
  while (out.empty()) (*c)->Poll(&out, 1000);
  EXPECT_EQ(out[0].status, AckStatus::TransientError);
  EXPECT_EQ(out[0].failure, ErpFailureClass::kAuth);
  EXPECT_EQ(out[0].http_status, 401);
  EXPECT_EQ((*c)->Stats().auth_failures, 1u);
}

TEST_F(ErpConnectorIntegrationTest, UntrustedServerCertificateIsRefusedBeforeSending) {
  auto sim = ErpHttpSimulator::Start(SimOptions("webhook"));
  ASSERT_TRUE(sim.ok());
  ErpTargetOptions t = Target("webhook", **sim);
  t.http.transport.ca_file = pki_->server_cert;  // not the CA that signed it... a leaf as trust anchor fails
  t.http.transport.ca_file = "/nonexistent-ca.pem";
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok());
  const TestCommand cmd = MakeTestCommand("SO-TLS", CommandKind::CreateSalesOrder, "SO-TLS", 1);
  ASSERT_TRUE((*c)->Post(cmd.buffer, 1, false).ok());
  std::vector<ErpCompletion> out;
  while (out.empty()) (*c)->Poll(&out, 1000);
  EXPECT_EQ(out[0].status, AckStatus::TransientError);
  EXPECT_EQ(out[0].failure, ErpFailureClass::kConnection);
  EXPECT_EQ((*sim)->Summary().http_requests, 0u);
}

}  // namespace
}  // namespace ordersync
