// ConnectorQuerySource against the real HTTPS simulators of each ERP (test CA by
// openssl): commands are posted through the real connector (CreateErpConnector), then
// the period's documents are asked from the same API with the target's auth, across
// several pages (the simulator caps its pages), and mapped to ErpDocument with the
// number the post answered, the command id, kind, company, quantity, amount, currency
// and creation time. Malformed answers, too many pages and webhook targets are errors
// with their reason.
#include "adapters/reconcile/connector_query_source.h"

#include <chrono>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/erp/connectors/connector_test_util.h"
#include "adapters/erp/connectors/sim/erp_http_simulator.h"
#include "adapters/reconcile/reconciler.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kHourNs = 3600LL * 1'000'000'000;
const char* kBcCompany = "6f1e7c1a-0000-4000-8000-000000000001";

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct KindCase {
  std::string kind;
  std::vector<CommandKind> commands;  // what the query lists for this ERP
  std::string erp_company;            // [[companies]] US01 -> this
  bool amounts;                       // whether the ERP's documents carry our amount
};
void PrintTo(const KindCase& k, std::ostream* os) { *os << k.kind; }

class ConnectorQuerySourceTest : public ::testing::TestWithParam<KindCase> {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Make());
    ASSERT_TRUE(pki_->ok);
  }
  static void TearDownTestSuite() {
    pki_->Remove();
    delete pki_;
  }
  void TearDown() override {
    if (sim_) sim_->Stop();
  }

  // A simulator of `kind` (pages of at most 3 documents) and a target reaching it with
  // the ERP's usual auth.
  void Start(const std::string& kind) {
    ErpHttpSimOptions o;
    o.api = kind;
    o.cert_file = pki_->server_cert;
    o.key_file = pki_->server_key;
    o.threads = 8;
    o.query_page_max = 3;
    if (kind == "sap_s4") {
      o.auth = "basic";
      o.username = "COMM";
      o.password = "pw";
    } else {
      o.auth = "oauth2";
      o.client_id = "ordersync";
      o.client_secret = "secret";
    }
    auto sim = ErpHttpSimulator::Start(o);
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim_ = std::move(sim).value();
    target_.name = "erp1";
    target_.kind = kind;
    target_.timeout_ms = 2000;
    target_.http.transport.base_url = kind == "webhook" ? sim_->base_url() + "/hooks" : sim_->base_url();
    target_.http.transport.ca_file = pki_->ca_cert;
    HttpAuthOptions& a = target_.http.auth;
    if (kind == "sap_s4") {
      a.method = "basic";
      a.username = "COMM";
      a.password_file = pki_->dir + "/pw";
      WriteSecret(a.password_file, "pw");
    } else {
      a.method = "oauth2_client_secret";
      a.token_url = sim_->token_url();
      a.client_id = "ordersync";
      a.client_secret_file = pki_->dir + "/secret";
      WriteSecret(a.client_secret_file, "secret");
    }
    target_.http.document.customer = "10100001";
    target_.http.document.company_id = kBcCompany;
    if (!GetParam().erp_company.empty()) {
      target_.http.companies.push_back(ErpCompanyMapping{"US01", GetParam().erp_company, "", ""});
    }
  }

  // Posts `orders` orders' commands through the real connector; command id -> document number.
  std::map<std::string, std::string> Post(int orders) {
    auto connector = CreateErpConnector(target_);
    EXPECT_TRUE(connector.ok()) << connector.status().ToString();
    if (!connector.ok()) return {};
    const auto batches = MakeOrders(orders, GetParam().commands);
    DriveResult r = DriveOrders(connector->get(), batches, 30, [](size_t) {});
    (*connector)->Stop();
    EXPECT_TRUE(r.finished);
    std::map<std::string, std::string> out;
    for (const auto& [id, c] : r.final) {
      EXPECT_TRUE(c.status == AckStatus::Posted || c.status == AckStatus::AlreadyPosted) << id << ": " << c.message;
      out[id] = c.erp_document_id;
    }
    return out;
  }

  ReconcileWindow Window() const {
    ReconcileWindow w;
    w.target = target_.name;
    w.from_ns = WallNs() - kHourNs;
    w.to_ns = WallNs() + kHourNs;
    return w;
  }

  static inline TestPki* pki_ = nullptr;
  std::unique_ptr<ErpHttpSimulator> sim_;
  ErpTargetOptions target_;
};

TEST_P(ConnectorQuerySourceTest, PostedDocumentsComeBackWithTheirFieldsAcrossPages) {
  Start(GetParam().kind);
  const int64_t before = WallNs();
  const std::map<std::string, std::string> posted = Post(4);
  ASSERT_EQ(posted.size(), 4 * GetParam().commands.size());

  ConnectorQueryOptions qo;
  qo.page_size = 5;  // the simulator answers at most 3: its own paging is followed too
  auto source = ConnectorQuerySource::Create(target_, qo);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto docs = (*source)->Fetch(Window());
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  EXPECT_EQ(docs->size(), posted.size());
  EXPECT_GT((*source)->stats().pages, 3u) << "several pages per collection";
  EXPECT_THAT((*source)->Describe(), HasSubstr("api erp1 (" + GetParam().kind));
  std::map<std::string, const ErpDocument*> by_id;
  for (const ErpDocument& d : *docs) by_id[d.external_id] = &d;
  for (const auto& [id, number] : posted) {
    ASSERT_TRUE(by_id.count(id)) << id << " not listed";
    const ErpDocument& d = *by_id[id];
    std::string order;
    CommandKind kind;
    ASSERT_TRUE(ParseCommandId(id, &order, &kind));
    EXPECT_EQ(d.document_number, number) << id;
    ASSERT_TRUE(d.kind.has_value()) << id;
    EXPECT_EQ(*d.kind, kind) << id << " listed as " << d.kind_text;
    ASSERT_TRUE(d.quantity.has_value()) << id;
    EXPECT_EQ(*d.quantity, 4) << id;  // MakeTestCommand: 3 x SKU-1 + 1 x SKU-2
    EXPECT_GE(d.posted_at_ns, before - 2'000'000'000) << id;
    EXPECT_LE(d.posted_at_ns, WallNs()) << id;
    if (kind == CommandKind::PostInventoryAdjustment) continue;
    EXPECT_EQ(d.company_code, "US01") << id;
    EXPECT_EQ(d.currency, "EUR") << id;
    if (GetParam().amounts && kind != CommandKind::PostGoodsIssue) {
      ASSERT_TRUE(d.amount_minor.has_value()) << id;
      EXPECT_EQ(*d.amount_minor, 3 * 1999 + 500) << id;
    }
    if (GetParam().kind == "netsuite") EXPECT_EQ(d.order_id, order) << id;
  }
}

TEST_P(ConnectorQuerySourceTest, TooManyPagesIsAnErrorNotAShortList) {
  Start(GetParam().kind);
  ASSERT_FALSE(Post(2).empty());
  ConnectorQueryOptions qo;
  qo.page_size = 1;
  qo.max_pages = 2;
  auto source = ConnectorQuerySource::Create(target_, qo);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto docs = (*source)->Fetch(Window());
  ASSERT_FALSE(docs.ok());
  EXPECT_THAT(docs.status().message(), HasSubstr("more than 2 pages"));
}

TEST_P(ConnectorQuerySourceTest, MalformedAnswersAreErrorsWithTheirReason) {
  Start(GetParam().kind);
  ASSERT_FALSE(Post(1).empty());
  auto source = ConnectorQuerySource::Create(target_);
  ASSERT_TRUE(source.ok()) << source.status().ToString();

  sim_->SetQueryFault("truncated");
  auto cut = (*source)->Fetch(Window());
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), Status::Code::kCorruption) << cut.status().ToString();
  EXPECT_THAT(cut.status().message(), HasSubstr("malformed answer"));
  EXPECT_THAT(cut.status().message(), HasSubstr("body: not JSON"));

  sim_->SetQueryFault("no_number");
  auto unnumbered = (*source)->Fetch(Window());
  ASSERT_FALSE(unnumbered.ok());
  const std::map<std::string, std::string> number_field = {
      {"netsuite", "id: missing"}, {"sap_s4", "SalesOrder: missing"}, {"d365_bc", "number: missing"},
      {"oracle_fusion", "OrderNumber: missing"}};
  EXPECT_THAT(unnumbered.status().message(), HasSubstr(number_field.at(GetParam().kind)));

  sim_->SetQueryFault("");
  auto fine = (*source)->Fetch(Window());
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->size(), GetParam().commands.size());
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ConnectorQuerySourceTest,
    ::testing::Values(
        KindCase{"netsuite",
                 {CommandKind::CreateSalesOrder, CommandKind::PostGoodsIssue, CommandKind::CreateInvoice,
                  CommandKind::CreateCreditMemo, CommandKind::PostInventoryAdjustment},
                 "3",
                 true},
        KindCase{"sap_s4",
                 {CommandKind::CreateSalesOrder, CommandKind::CreateCreditMemo, CommandKind::PostInventoryAdjustment},
                 "1710",
                 false},
        KindCase{"d365_bc",
                 {CommandKind::CreateSalesOrder, CommandKind::CreateInvoice, CommandKind::CreateCreditMemo},
                 kBcCompany,
                 true},
        KindCase{"oracle_fusion",
                 {CommandKind::CreateSalesOrder, CommandKind::CreateInvoice, CommandKind::CreateCreditMemo},
                 "US2 Business Unit",
                 true}),
    [](const ::testing::TestParamInfo<KindCase>& i) { return i.param.kind; });

TEST(ConnectorQuerySourceRefusalTest, WebhookAndZmqTargetsHaveNoQueryApi) {
  ErpTargetOptions hook;
  hook.name = "hook";
  hook.kind = "webhook";
  hook.http.transport.base_url = "https://127.0.0.1:1/hooks";
  auto source = MakeConnectorQuerySource(hook);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(source.status().message(), HasSubstr("webhook targets have no query API"));
  EXPECT_THAT(source.status().message(), HasSubstr("--export"));
  ErpTargetOptions zmq;
  zmq.kind = "zmq";
  EXPECT_THAT(MakeConnectorQuerySource(zmq).status().message(), HasSubstr("zmq targets have no query API"));
}

}  // namespace
}  // namespace ordersync
