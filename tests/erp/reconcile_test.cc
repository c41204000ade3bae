// `ordersync reconcile` end to end: a real engine on real RocksDB posts through the
// dispatcher to the ERP simulator; the ERP's export is scripted to hold one difference of
// each class; --repair re-drives the missing commands with their original ids (the path
// of `dlq replay`), the simulator's ledger shows each posted exactly once more, and a
// second reconcile on the ERP's fresh export is clean.
#include <chrono>
#include <set>

#include <gtest/gtest.h>

#include "adapters/erp/erp_sim_export.h"
#include "adapters/reconcile/reconcile_request.h"
#include "adapters/records/field_parse.h"
#include "tests/erp/fanout_fixture.h"

namespace ordersync::testing {
namespace {

constexpr int64_t kSec = 1'000'000'000;

std::vector<LineSpec> OneLine() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

std::vector<EnvelopeSpec> Lifecycle(const std::string& order) {
  return {Accepted(order, order + "-e1", OneLine()), Reserved(order, order + "-e2", "R-" + order, OneLine()),
          Picked(order, order + "-e3", "P-" + order, OneLine()), Shipped(order, order + "-e4", "S-" + order, OneLine())};
}

ErpSimOptions Sim() {
  ErpSimOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  o.reject_orders = {"REJ"};  // its first command is dead-lettered: pending
  return o;
}

const ErpPosting& Find(const std::vector<ErpPosting>& docs, const std::string& order, CommandKind kind) {
  for (const ErpPosting& p : docs) {
    if (p.order_id == order && p.kind == kind) return p;
  }
  throw std::runtime_error("no document for " + order);
}

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

size_t Postings(const std::vector<ErpPosting>& ledger, const std::string& command_id) {
  size_t n = 0;
  for (const ErpPosting& p : ledger) n += p.command_id == command_id ? 1 : 0;
  return n;
}

std::multiset<std::string> IdsOf(const nlohmann::json& report, const std::string& cls) {
  std::multiset<std::string> out;
  for (const auto& d : report["differences"]) {
    if (d["class"] == cls) out.insert(d["command_id"].get<std::string>());
  }
  return out;
}

TEST(ReconcileEndToEndTest, EachDifferenceClassThenRepairPostsMissingOnceAndReconcilesClean) {
  FanOut f(Sim(), FastTarget(""));
  for (const std::string order : {"SO-1", "SO-2", "SO-3", "SO-4", "SO-5"}) f.SendAll(Lifecycle(order));
  f.SendAll({Accepted("REJ", "REJ-e1", OneLine())});
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.sim().Summary().postings == 5 * 4; }));
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().dead_lettered >= 1; }));
  f.WaitUntilDrained();

  // The ERP lost two documents (restored from a backup): missing in ERP.
  const std::vector<ErpPosting> before = f.sim().Documents();
  const std::string lost_gi = Find(before, "SO-1", CommandKind::PostGoodsIssue).command_id;
  const std::string lost_inv = Find(before, "SO-2", CommandKind::CreateInvoice).command_id;
  ASSERT_EQ(f.sim().Forget({lost_gi, lost_inv}), 2u);
  std::vector<ErpPosting> exported = f.sim().Documents();
  // Scripted into the export: SO-3's sales order posted twice and a document with an
  // ordersync id never acknowledged here (unknown to ordersync); SO-4's invoice with
  // another quantity and amount (mismatch).
  ErpPosting twice = Find(exported, "SO-3", CommandKind::CreateSalesOrder);
  twice.document_id += "-DUP";
  exported.push_back(twice);
  ErpPosting ghost = twice;
  ghost.document_id = "GHOST-1";
  ghost.command_id = "GHOST/SO/GHOST";
  ghost.order_id = "GHOST";
  exported.push_back(ghost);
  for (ErpPosting& p : exported) {
    if (p.order_id == "SO-4" && p.kind == CommandKind::CreateInvoice) {
      p.quantity += 1;
      p.amount_minor += 100;
    }
  }
  const std::string export_path = f.data_dir() + "/../erp-export.csv";
  ASSERT_TRUE(WriteErpExportFile(exported, export_path).ok());

  ReconcileRequest r;
  r.target = "erp";  // ErpTargetOptions::name default
  r.export_file = export_path;
  ASSERT_TRUE(ParseTimestampNs("2000-01-01", &r.from_ns));
  const int64_t now = WallNowNs();
  r.to_ns = now + 3600 * kSec;
  r.repair = true;
  r.dry_run = true;
  auto dry = RunReconcileRequest(&f.store(), &f.engine(), r, now);
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  const nlohmann::json& s = (*dry)["summary"];
  EXPECT_EQ(IdsOf(*dry, "missing_in_erp"), (std::multiset<std::string>{lost_gi, lost_inv})) << dry->dump(2);
  EXPECT_EQ(IdsOf(*dry, "unknown_to_ordersync"), (std::multiset<std::string>{"GHOST/SO/GHOST", twice.command_id}))
      << dry->dump(2);
  EXPECT_EQ(s["mismatch"], 1) << dry->dump(2);
  EXPECT_GE(s["pending"].get<int>(), 1) << dry->dump(2);
  for (const std::string& id : IdsOf(*dry, "pending")) EXPECT_EQ(id.rfind("REJ/", 0), 0u) << id;
  EXPECT_EQ((*dry)["clean"], false);
  EXPECT_EQ((*dry)["repair"]["dry_run"], true);
  EXPECT_EQ((*dry)["repair"]["commands"].size(), 2u);
  EXPECT_EQ(f.sim().Summary().postings, 20u) << "a dry run posts nothing";

  // The repair: same ids, through the outbox and the dispatcher.
  r.dry_run = false;
  auto repaired = RunReconcileRequest(&f.store(), &f.engine(), r, now);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_EQ((*repaired)["repair"]["repaired"], 2) << repaired->dump(2);
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.sim().Summary().postings == 22; }));
  f.WaitUntilDrained();
  const std::vector<ErpPosting> ledger = f.sim().Ledger();
  EXPECT_EQ(Postings(ledger, lost_gi), 2u) << "original post + exactly one repair";
  EXPECT_EQ(Postings(ledger, lost_inv), 2u);
  EXPECT_EQ(ledger.size(), 22u);

  // Second reconcile on the ERP's own fresh export: clean (REJ still pending, expected).
  ASSERT_TRUE(WriteErpExportFile(f.sim().Documents(), export_path).ok());
  auto again = RunReconcileRequest(&f.store(), &f.engine(), r, WallNowNs());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)["clean"], true) << again->dump(2);
  EXPECT_EQ((*again)["summary"]["missing_in_erp"], 0);
  EXPECT_TRUE((*again)["repair"]["commands"].empty());
  EXPECT_EQ(f.sim().Ledger().size(), 22u) << "nothing re-driven twice";
}

}  // namespace
}  // namespace ordersync::testing
