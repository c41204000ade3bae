// `ordersync reconcile --source api` end to end, per ERP kind: the pipeline `serve` runs
// (config loader, engine on RocksDB, dispatcher, HTTP connector) posts the orders'
// commands to the ERP's HTTPS simulator; then the reconcile asks the same API for the
// period's documents (small pages, so it pages), compares them with what the store holds
// as acknowledged, and is clean; after the ERP loses one document (deleted in the
// simulator) the next reconcile reports exactly that command as missing_in_erp, and
// repairable. The command kinds the ERP cannot take, or whose documents its query does
// not list (SAP goods issues and billing, keyed by the delivery), go to a webhook target.
// The order ids are long enough that SAP, BC and Oracle hold shortened references.
#include <gtest/gtest.h>

#include "adapters/reconcile/connector_query_source.h"
#include "adapters/reconcile/reconcile_report.h"
#include "tests/erp/http_fanout_fixture.h"

namespace ordersync::testing {
namespace {

constexpr int64_t kHourNs = 3600LL * 1'000'000'000;

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ApiCase {
  std::string kind;
  std::vector<std::string> elsewhere;  // routed to the webhook target
  size_t erp_commands_per_order;
};
void PrintTo(const ApiCase& k, std::ostream* os) { *os << k.kind; }

class ReconcileApiTest : public HttpFanOutTest, public ::testing::WithParamInterface<ApiCase> {
 protected:
  Result<ReconcileRun> Reconcile() {
    EXPECT_TRUE(pipeline_->engine()->Checkpoint().ok());
    const ErpTargetOptions* target = nullptr;
    for (const ErpTargetOptions& t : config_.erp.targets) {
      if (t.name == "erp") target = &t;
    }
    if (target == nullptr) return Status::NotFound("no target erp");
    ConnectorQueryOptions qo;
    qo.page_size = 3;
    auto source = MakeConnectorQuerySource(*target, qo);
    if (!source.ok()) return source.status();
    ReconcileWindow w;
    w.target = "erp";
    w.from_ns = WallNs() - kHourNs;
    w.to_ns = WallNs() + kHourNs;
    w.margin_ns = 900LL * 1'000'000'000;
    return RunReconcile(pipeline_->store(), w, source->get(), WallNs());
  }
};

TEST_P(ReconcileApiTest, CleanAfterPostingsThenMissingInErpWhenTheErpLosesADocument) {
  const ApiCase& k = GetParam();
  ErpHttpSimOptions eo;
  eo.api = k.kind;
  eo.query_page_max = 2;  // the ERP's own page cap: the reconcile follows its links
  ErpHttpSimulator& erp = StartSim(eo);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"erp\"\n" + RulesTo("hook", k.elsewhere) +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert) +
            HttpTarget("erp", k.kind, erp.base_url(), pki_->ca_cert));
  Start();
  const int kOrders = 5;
  // Long order ids: the command ids outgrow SAP's and BC's 35-character reference fields
  // and Oracle's 50-character source id, so those carry "OS-" + hash, mapped back.
  SendAll(Lifecycles("RECONCILE-VIA-API-ORDER-", kOrders));
  ASSERT_TRUE(WaitUntilDrained());
  ASSERT_EQ(erp.Ledger().size(), kOrders * k.erp_commands_per_order);

  auto clean = Reconcile();
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  const ReconcileReport& r = clean->report;
  EXPECT_TRUE(r.clean()) << ReconcileReportJson(r, nullptr).dump(2);
  EXPECT_EQ(r.acknowledged, kOrders * k.erp_commands_per_order);
  EXPECT_EQ(r.matched, r.acknowledged);
  EXPECT_EQ(r.erp_documents, kOrders * k.erp_commands_per_order);
  EXPECT_EQ(r.source.rfind("api erp (" + k.kind + " ", 0), 0u) << r.source;

  // The ERP loses a document (restored from an older backup): missing in the ERP.
  const std::string lost = erp.Ledger()[2].command_id;
  ASSERT_EQ(erp.DeleteDocuments(lost), 1u);
  auto missing = Reconcile();
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  const ReconcileReport& m = missing->report;
  EXPECT_FALSE(m.clean());
  EXPECT_EQ(m.count(DifferenceClass::kMissingInErp), 1u) << ReconcileReportJson(m, nullptr).dump(2);
  EXPECT_EQ(m.count(DifferenceClass::kUnknownToOrdersync), 0u);
  EXPECT_EQ(m.count(DifferenceClass::kMismatch), 0u);
  ASSERT_FALSE(m.differences.empty());
  EXPECT_EQ(m.differences[0].command_id, lost);
  EXPECT_TRUE(m.differences[0].repairable);
}

INSTANTIATE_TEST_SUITE_P(
    PerKind, ReconcileApiTest,
    ::testing::Values(ApiCase{"netsuite", {"ConfirmAllocation", "ReleaseAllocation"}, 3},
                      ApiCase{"sap_s4",
                              {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder", "PostGoodsIssue",
                               "CreateInvoice"},
                              1},
                      ApiCase{"d365_bc",
                              {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder", "PostGoodsIssue",
                               "PostInventoryAdjustment"},
                              2},
                      ApiCase{"oracle_fusion",
                              {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder", "PostGoodsIssue",
                               "PostInventoryAdjustment"},
                              2}),
    [](const ::testing::TestParamInfo<ApiCase>& i) { return i.param.kind; });

class ScheduledApiReconcileTest : public HttpFanOutTest {};

// `serve`'s scheduled reconcile with source = "api" (the pipeline wires the target's
// connector query source into its scheduler): clean after postings, then the lost
// document counted as missing_in_erp.
TEST_F(ScheduledApiReconcileTest, ServesScheduleAsksTheTargetsApi) {
  ErpHttpSimOptions eo;
  eo.api = "netsuite";
  ErpHttpSimulator& erp = StartSim(eo);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"erp\"\n" + RulesTo("hook", {"ConfirmAllocation", "ReleaseAllocation"}) +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert) +
            HttpTarget("erp", "netsuite", erp.base_url(), pki_->ca_cert) +
            // A long interval: the test runs it with RunNow, after the postings.
            "[reconcile.schedule.erp]\ninterval_s = 604800\nlookback_s = 3600\nsettle_s = 0\nsource = \"api\"\n");
  Start();
  ReconcileScheduler* scheduler = pipeline_->reconcile_scheduler();
  ASSERT_NE(scheduler, nullptr);
  SendAll(Lifecycles("SCHEDULED-API-", 3));
  ASSERT_TRUE(WaitUntilDrained());
  ASSERT_EQ(erp.Ledger().size(), 9u);

  Result<ScheduledRunResult> clean = scheduler->RunNow("erp");
  ASSERT_TRUE(clean.ok()) << clean.status().ToString();
  EXPECT_EQ(*clean, ScheduledRunResult::kClean) << scheduler->Snapshot().at(0).last_error;
  EXPECT_EQ(scheduler->Snapshot().at(0).acknowledged, 9u);

  ASSERT_EQ(erp.DeleteDocuments(erp.Ledger()[4].command_id), 1u);
  Result<ScheduledRunResult> lost = scheduler->RunNow("erp");
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  EXPECT_EQ(*lost, ScheduledRunResult::kDifferences);
  EXPECT_EQ(scheduler->Snapshot().at(0).differences[static_cast<size_t>(DifferenceClass::kMissingInErp)], 1u);
}

class ReconcileApiRefusalTest : public HttpFanOutTest {};

TEST_F(ReconcileApiRefusalTest, AWebhookTargetHasNoQueryApi) {
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"hook\"\n" +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert));
  auto source = MakeConnectorQuerySource(config_.erp.targets.at(0));
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("webhook targets have no query API"), std::string::npos)
      << source.status().ToString();
}

}  // namespace
}  // namespace ordersync::testing
