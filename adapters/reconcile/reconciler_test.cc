// Reconcile(): the four difference classes from a hand-made view and ERP export, and the
// export reader's line-precise errors. The end-to-end run (engine, dispatcher, ERP
// simulator, --repair) is tests/erp/reconcile_test.cc.
#include "adapters/reconcile/reconciler.h"

#include <gtest/gtest.h>

#include "adapters/reconcile/erp_documents.h"
#include "adapters/reconcile/reconcile_report.h"

namespace ordersync {
namespace {

constexpr int64_t kSec = 1000000000;
constexpr int64_t kT0 = 1714557600LL * kSec;  // 2024-05-01T10:00:00Z

OurCommand Acked(const std::string& id, const std::string& order, CommandKind kind, int64_t qty, int64_t amount,
                 int64_t at) {
  OurCommand c;
  c.origin.command_id = id;
  c.origin.kind = kind;
  c.origin.target = "erp";
  c.order_id = order;
  c.acked = true;
  c.acked_at_ns = at;
  c.erp_document_id = "DOC-" + id;
  c.content_known = true;
  c.quantity = qty;
  c.amount_minor = amount;
  c.company_code = "1000";
  c.currency = "EUR";
  return c;
}

ReconcileWindow Window() {
  ReconcileWindow w;
  w.target = "erp";
  w.from_ns = kT0;
  w.to_ns = kT0 + 3600 * kSec;
  w.margin_ns = 60 * kSec;
  return w;
}

TEST(ReconcilerTest, ClassifiesEachDifference) {
  OrdersyncView view;
  view.commands["SO-1/SO/SO-1"] = Acked("SO-1/SO/SO-1", "SO-1", CommandKind::CreateSalesOrder, 3, 5997, kT0 + kSec);
  view.commands["SO-2/SO/SO-2"] = Acked("SO-2/SO/SO-2", "SO-2", CommandKind::CreateSalesOrder, 1, 1000, kT0 + kSec);
  view.commands["SO-3/SO/SO-3"] = Acked("SO-3/SO/SO-3", "SO-3", CommandKind::CreateSalesOrder, 2, 2000, kT0 + kSec);
  view.commands["SO-4/SO/SO-4"] = Acked("SO-4/SO/SO-4", "SO-4", CommandKind::CreateSalesOrder, 2, 2000, kT0 + kSec);
  OurCommand queued;
  queued.origin.command_id = "SO-5/SO/SO-5";
  queued.order_id = "SO-5";
  queued.queue = OurCommand::Queue::kDeadLetter;
  queued.dead_letter_reason = "rejected";
  view.commands[queued.origin.command_id] = queued;

  const std::string csv =
      "document_number,external_id,kind,order_id,company_code,quantity,amount,currency,posted_at\n"
      "D1,SO-1/SO/SO-1,CreateSalesOrder,SO-1,1000,3,59.97,EUR,2024-05-01T10:00:02Z\n"  // matches
      // SO-2 missing
      "D3,SO-3/SO/SO-3,CreateSalesOrder,SO-3,1000,5,20.00,EUR,2024-05-01T10:00:02Z\n"  // quantity differs
      "D4,SO-4/SO/SO-4,CreateSalesOrder,SO-4,1000,2,20.00,EUR,2024-05-01T10:00:02Z\n"
      "D4b,SO-4/SO/SO-4,CreateSalesOrder,SO-4,1000,2,20.00,EUR,2024-05-01T10:00:03Z\n"  // posted twice
      "D6,SO-6/SO/SO-6,CreateSalesOrder,SO-6,1000,1,1.00,EUR,2024-05-01T10:00:04Z\n"   // never ours
      "D7,INV-77,invoice,X,1000,1,1.00,EUR,2024-05-01T10:00:04Z\n";                     // foreign
  auto docs = ParseErpExport(csv, "export.csv");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ReconcileReport r = Reconcile(view, *docs, Window());
  EXPECT_EQ(r.count(DifferenceClass::kMissingInErp), 1u);
  EXPECT_EQ(r.count(DifferenceClass::kMismatch), 1u);
  EXPECT_EQ(r.count(DifferenceClass::kUnknownToOrdersync), 2u);  // D4b twice, D6 never acked
  EXPECT_EQ(r.count(DifferenceClass::kPending), 1u);
  EXPECT_EQ(r.matched, 2u);  // SO-1, and SO-4 by its first document
  EXPECT_EQ(r.foreign_documents, 1u);
  EXPECT_FALSE(r.clean());
  for (const Difference& d : r.differences) {
    if (d.cls == DifferenceClass::kMissingInErp) {
      EXPECT_EQ(d.command_id, "SO-2/SO/SO-2");
      EXPECT_TRUE(d.repairable);
    }
    if (d.cls == DifferenceClass::kMismatch) EXPECT_NE(d.detail.find("quantity 2 here, 5 in the ERP"), std::string::npos);
  }
  nlohmann::json j = ReconcileReportJson(r, nullptr);
  EXPECT_EQ(j["summary"]["missing_in_erp"], 1);
  EXPECT_EQ(j["clean"], false);
}

TEST(ReconcilerTest, PendingOnlyIsClean) {
  OrdersyncView view;
  view.commands["SO-1/SO/SO-1"] = Acked("SO-1/SO/SO-1", "SO-1", CommandKind::CreateSalesOrder, 3, 5997, kT0 + kSec);
  OurCommand queued;
  queued.origin.command_id = "SO-5/SO/SO-5";
  queued.queue = OurCommand::Queue::kOutbox;
  view.commands[queued.origin.command_id] = queued;
  auto docs = ParseErpExport(
      "{\"document_number\":\"D1\",\"external_id\":\"SO-1/SO/SO-1\",\"quantity\":3,\"amount_minor\":5997,"
      "\"posted_at\":\"2024-05-01T10:00:02Z\"}\n",
      "export.jsonl");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ReconcileReport r = Reconcile(view, *docs, Window());
  EXPECT_TRUE(r.clean());
  EXPECT_EQ(r.count(DifferenceClass::kPending), 1u);
}

TEST(ReconcilerTest, ExportErrorsNameTheLine) {
  auto docs = ParseErpExport("document_number,external_id,quantity\nD1,SO-1/SO/SO-1,3\nD2,SO-2/SO/SO-2,three\n",
                             "export.csv");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.status().message().find("export.csv:3"), std::string::npos) << docs.status().message();
  auto missing = ParseErpExport("document_number,quantity\nD1,3\n", "export.csv");
  EXPECT_FALSE(missing.ok());
}

TEST(ReconcilerTest, ParsesCommandIds) {
  std::string order;
  CommandKind kind;
  ASSERT_TRUE(ParseCommandId("SO-1/GI/SHP-7", &order, &kind));
  EXPECT_EQ(order, "SO-1");
  EXPECT_EQ(kind, CommandKind::PostGoodsIssue);
  EXPECT_FALSE(ParseCommandId("INV-77", &order, &kind));
}

}  // namespace
}  // namespace ordersync
