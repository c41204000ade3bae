// Scheduled reconciles (ReconcileScheduler, as `serve` runs them) end to end: a real
// engine on real RocksDB posts through the dispatcher to the ERP simulator; the ERP's
// export file is scripted with one difference of each class and the scheduler's own
// thread finds them (gauges per class, runs_total{result="differences"}); a clean export
// gives a clean run (last-clean timestamp set, differences 0 apart from pending); a
// missing export file is a failed run with the reason; acknowledgements younger than
// settle_s are not expected in the ERP yet; an "api" schedule fails with "api source not
// built into this binary". The families pass `promtool check metrics`.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "adapters/erp/erp_sim_export.h"
#include "adapters/metrics/prom_text.h"
#include "adapters/reconcile/reconcile_scheduler.h"
#include "tests/erp/fanout_fixture.h"
#include "tests/observability/observability_test_util.h"

namespace ordersync::testing {
namespace {

std::vector<LineSpec> OneLine() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

std::vector<EnvelopeSpec> Lifecycle(const std::string& order) {
  return {Accepted(order, order + "-e1", OneLine()), Reserved(order, order + "-e2", "R-" + order, OneLine()),
          Picked(order, order + "-e3", "P-" + order, OneLine()), Shipped(order, order + "-e4", "S-" + order, OneLine())};
}

ErpPosting Find(const std::vector<ErpPosting>& docs, const std::string& order, CommandKind kind) {
  for (const ErpPosting& p : docs) {
    if (p.order_id == order && p.kind == kind) return p;
  }
  throw std::runtime_error("no document for " + order);
}

// The scheduler's families as a scrape gives them.
std::string Exposition(ReconcileScheduler& s) {
  return prometheus::TextSerializer().Serialize(s.Collector()->Collect());
}

PromSamples Scrape(ReconcileScheduler& s) {
  auto parsed = ParsePromText(Exposition(s));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : PromSamples{};
}

uint64_t Runs(ReconcileScheduler& s, ScheduledRunResult r) {
  return s.Snapshot().at(0).runs[static_cast<size_t>(r)];
}

TEST(ReconcileScheduleTest, ScheduledRunsPublishDifferencesThenACleanRunThenAFailedOne) {
  ErpSimOptions sim;
  sim.endpoint = "tcp://127.0.0.1:*";
  sim.reject_orders = {"REJ"};  // dead-lettered: pending
  FanOut f(sim, FastTarget(""));
  for (const std::string order : {"SO-1", "SO-2", "SO-3"}) f.SendAll(Lifecycle(order));
  f.SendAll({Accepted("REJ", "REJ-e1", OneLine())});
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.sim().Summary().postings == 3 * 4; }));
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().dead_lettered >= 1; }));
  f.WaitUntilDrained();

  // The ERP's export: SO-1's goods issue lost (missing in ERP), a document with an
  // ordersync id never acknowledged here (unknown to ordersync), SO-2's invoice with
  // another quantity (mismatch).
  const std::vector<ErpPosting> all = f.sim().Documents();
  const std::string lost = Find(all, "SO-1", CommandKind::PostGoodsIssue).command_id;
  std::vector<ErpPosting> exported;
  for (const ErpPosting& p : all) {
    if (p.command_id != lost) exported.push_back(p);
  }
  ErpPosting ghost = Find(all, "SO-3", CommandKind::CreateSalesOrder);
  ghost.document_id = "GHOST-1";
  ghost.command_id = "GHOST/SO/GHOST";
  ghost.order_id = "GHOST";
  exported.push_back(ghost);
  for (ErpPosting& p : exported) {
    if (p.order_id == "SO-2" && p.kind == CommandKind::CreateInvoice) p.quantity += 1;
  }
  const std::string export_path = f.data_dir() + "/../erp-export.csv";
  ASSERT_TRUE(WriteErpExportFile(exported, export_path).ok());

  ReconcileScheduleOptions o;
  o.target = "erp";
  o.interval_s = 1;
  o.lookback_s = 3600;
  o.settle_s = 0;  // the acknowledgements are seconds old
  o.export_path = export_path;
  int checkpoints = 0;
  ReconcileScheduler scheduler(&f.store(),
                               [&] {
                                 ++checkpoints;
                                 return f.engine().Checkpoint();
                               },
                               /*margin_s=*/900, {{o, MakeScheduledSourceFactory(o)}});
  EXPECT_FALSE(Scrape(scheduler).Has("ordersync_reconcile_differences")) << "no run, no comparison";
  scheduler.Start();

  // The first scheduled run, right at Start: every class.
  ASSERT_TRUE(FanOut::WaitFor([&] { return Runs(scheduler, ScheduledRunResult::kDifferences) >= 1; }))
      << Exposition(scheduler);
  PromSamples s = Scrape(scheduler);
  auto diff = [&](const char* cls) {
    return s.Sum("ordersync_reconcile_differences", {{"target", "erp"}, {"class", cls}});
  };
  EXPECT_EQ(diff("missing_in_erp"), 1) << Exposition(scheduler);
  EXPECT_EQ(diff("unknown_to_ordersync"), 1);
  EXPECT_EQ(diff("mismatch"), 1);
  EXPECT_GE(diff("pending"), 1);
  EXPECT_GE(s.Sum("ordersync_reconcile_runs_total", {{"target", "erp"}, {"result", "differences"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_reconcile_runs_total", {{"result", "clean"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_reconcile_last_clean_run_timestamp_seconds"), 0);
  EXPECT_GT(s.Sum("ordersync_reconcile_last_run_timestamp_seconds"), 1.7e9);
  EXPECT_EQ(s.Sum("ordersync_reconcile_interval_seconds", {{"target", "erp"}}), 1);
  EXPECT_GE(checkpoints, 1) << "each run checkpoints the engine first";
  EXPECT_EQ(f.sim().Ledger().size(), 12u) << "a scheduled run never repairs";

  // The ERP's full export: the next scheduled run is clean (REJ still pending, expected).
  ASSERT_TRUE(WriteErpExportFile(all, export_path).ok());
  ASSERT_TRUE(FanOut::WaitFor([&] { return Runs(scheduler, ScheduledRunResult::kClean) >= 1; }))
      << Exposition(scheduler);
  s = Scrape(scheduler);
  EXPECT_EQ(diff("missing_in_erp") + diff("unknown_to_ordersync") + diff("mismatch"), 0) << Exposition(scheduler);
  EXPECT_GE(diff("pending"), 1);
  EXPECT_GT(s.Sum("ordersync_reconcile_last_clean_run_timestamp_seconds", {{"target", "erp"}}), 1.7e9);
  EXPECT_EQ(s.Sum("ordersync_reconcile_consecutive_failures"), 0);

  // The ERP did not drop its file: failed, with the reason; the last comparison stays.
  std::filesystem::remove(export_path);
  ASSERT_TRUE(FanOut::WaitFor([&] { return Runs(scheduler, ScheduledRunResult::kFailed) >= 1; }))
      << Exposition(scheduler);
  scheduler.Stop();
  const ScheduledReconcileStatus st = scheduler.Snapshot().at(0);
  EXPECT_EQ(st.last_result, ScheduledRunResult::kFailed);
  EXPECT_NE(st.last_error.find("erp-export.csv"), std::string::npos) << st.last_error;
  EXPECT_GE(st.consecutive_failures, 1u);
  s = Scrape(scheduler);
  EXPECT_GE(s.Sum("ordersync_reconcile_runs_total", {{"target", "erp"}, {"result", "failed"}}), 1);
  EXPECT_GE(s.Sum("ordersync_reconcile_consecutive_failures", {{"target", "erp"}}), 1);
  EXPECT_GT(s.Sum("ordersync_reconcile_last_clean_run_timestamp_seconds"), 1.7e9) << "kept from the clean run";
  EXPECT_EQ(diff("missing_in_erp"), 0) << "the last comparison's counts stay";

  // The admin command shows the same, with the reason.
  auto admin = AdminServer::Create(AdminOptions{"ipc://" + f.data_dir() + "/../admin.sock", ""});
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  RegisterReconcileScheduleAdminCommand(admin->get(), &scheduler);
  const nlohmann::json answer = (*admin)->Handle({{"command", "reconcile.schedule"}});
  ASSERT_EQ(answer["ok"], true) << answer.dump(2);
  const nlohmann::json& erp = answer["result"]["schedules"][0];
  EXPECT_EQ(erp["target"], "erp");
  EXPECT_EQ(erp["last_result"], "failed") << erp.dump(2);
  EXPECT_NE(erp["last_error"].get<std::string>().find("cannot open ERP export"), std::string::npos) << erp.dump(2);
  EXPECT_TRUE(erp["last_clean_at"].is_string()) << erp.dump(2);
  EXPECT_EQ(erp["differences"]["mismatch"], 0) << erp.dump(2);
  EXPECT_GE(erp["runs"]["differences"].get<int>(), 1) << erp.dump(2);

  // The families as scraped pass promtool.
  const std::string path = ::testing::TempDir() + "/ordersync_reconcile_schedule.txt";
  std::ofstream(path) << Exposition(scheduler);
  std::string out;
  EXPECT_EQ(RunCommand(std::string(PROMTOOL) + " check metrics < " + path, &out), 0) << out;
  EXPECT_EQ(out, "") << out;
}

TEST(ReconcileScheduleTest, AcknowledgementsInsideSettleAreNotExpectedInTheErpYet) {
  ErpSimOptions sim;
  sim.endpoint = "tcp://127.0.0.1:*";
  FanOut f(sim, FastTarget(""));
  f.SendAll(Lifecycle("SO-1"));
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.sim().Summary().postings == 4; }));
  f.WaitUntilDrained();
  // The ERP's export lags: none of the four documents is in it yet.
  const std::string export_path = f.data_dir() + "/../erp-export.csv";
  ASSERT_TRUE(WriteErpExportFile({}, export_path).ok());
  ReconcileScheduleOptions settled;
  settled.target = "erp";
  settled.lookback_s = 3600;
  settled.settle_s = 600;  // the acknowledgements are younger: outside the window
  settled.export_path = export_path;
  ReconcileScheduleOptions at_once = settled;
  at_once.settle_s = 0;
  for (const auto& [o, want] : {std::pair{settled, ScheduledRunResult::kClean},
                                std::pair{at_once, ScheduledRunResult::kDifferences}}) {
    SCOPED_TRACE("settle_s = " + std::to_string(o.settle_s));
    ReconcileScheduler scheduler(&f.store(), [&] { return f.engine().Checkpoint(); }, /*margin_s=*/0,
                                 {{o, MakeScheduledSourceFactory(o)}});
    Result<ScheduledRunResult> r = scheduler.RunNow("erp");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, want);
    const ScheduledReconcileStatus st = scheduler.Snapshot().at(0);
    EXPECT_EQ(st.acknowledged, o.settle_s == 0 ? 4u : 0u);
    EXPECT_EQ(st.differences[static_cast<size_t>(DifferenceClass::kMissingInErp)], o.settle_s == 0 ? 4u : 0u);
  }
}

TEST(ReconcileScheduleTest, AnApiScheduleWithoutItsSourceFailsAndIsCounted) {
  ErpSimOptions sim;
  sim.endpoint = "tcp://127.0.0.1:*";
  FanOut f(sim, FastTarget(""));
  ReconcileScheduleOptions o;
  o.target = "erp";
  o.source = std::string(kReconcileSourceApi);
  ReconcileScheduler scheduler(&f.store(), {}, 900, {{o, MakeScheduledSourceFactory(o)}});
  Result<ScheduledRunResult> r = scheduler.RunNow("erp");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ScheduledRunResult::kFailed);
  EXPECT_NE(scheduler.Snapshot().at(0).last_error.find("api source not built into this binary"), std::string::npos)
      << scheduler.Snapshot().at(0).last_error;
  EXPECT_EQ(Scrape(scheduler).Sum("ordersync_reconcile_runs_total", {{"result", "failed"}}), 1);
  EXPECT_TRUE(scheduler.RunNow("billing").status().IsNotFound());
}

}  // namespace
}  // namespace ordersync::testing
