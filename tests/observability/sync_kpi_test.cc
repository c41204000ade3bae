// The synchronisation KPIs in a scripted scenario with the real engine, dispatcher and
// ERP simulator: an ERP outage gives exactly one integration-recovery observation; the
// journal scan counts traceable orders and inventory adjustments in time, late and
// pending; the families pass `promtool check metrics`.
#include <fstream>

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "adapters/metrics/observability.h"
#include "adapters/metrics/recovery_tracker.h"
#include "adapters/metrics/sync_kpi_scan.h"
#include "tests/erp/fanout_fixture.h"
#include "tests/observability/observability_test_util.h"

namespace ordersync::testing {
namespace {

constexpr int64_t kSec = 1'000'000'000;

std::vector<LineSpec> OneLine() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

// `promtool check metrics` on the families' text exposition.
void ExpectPromtoolAccepts(const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  const std::string path = ::testing::TempDir() + "/ordersync_" + name + ".txt";
  std::ofstream(path) << prometheus::TextSerializer().Serialize(families);
  std::string out;
  EXPECT_EQ(RunCommand(std::string(PROMTOOL) + " check metrics < " + path, &out), 0) << out;
  EXPECT_EQ(out, "") << out;
}

TargetStats Sample(std::string circuit, uint64_t posted, uint64_t failed, uint64_t backlog) {
  TargetStats t;
  t.name = "erp";
  t.circuit = std::move(circuit);
  t.posted = posted;
  t.timeouts = failed;
  t.backlog = backlog;
  return t;
}

TEST(RecoveryTrackerTest, AnEpisodeEndsWhenTheBacklogIsBackToNormal) {
  RecoveryTracker t(/*normal_backlog=*/2);
  auto at = [&](int64_t s, TargetStats ts) { t.Observe(DispatcherStats{{ts}}, s * kSec); };
  at(0, Sample("closed", 10, 0, 1));
  at(1, Sample("closed", 12, 0, 1));   // healthy
  at(2, Sample("closed", 12, 3, 6));   // failures, no answers: starts (normal = max(1, 2))
  at(5, Sample("open", 12, 9, 40));
  at(9, Sample("closed", 20, 9, 30));  // answering again, backlog still high
  EXPECT_TRUE(t.Snapshot()["erp"].recovering);
  at(12, Sample("closed", 60, 9, 2));  // back to normal: 10 s
  at(13, Sample("closed", 61, 9, 0));
  const auto v = t.Snapshot()["erp"];
  EXPECT_FALSE(v.recovering);
  EXPECT_EQ(v.episodes, 1u);
  EXPECT_EQ(v.recovery_ms.count, 1u);
  EXPECT_EQ(v.recovery_ms.sum, 10'000);
}

TEST(SyncKpiTest, AnErpOutageGivesOneRecoveryObservation) {
  ErpSimOptions sim;
  sim.endpoint = "tcp://127.0.0.1:*";
  sim.outage_answers_errors = true;  // an outage answers TransientError
  FanOut f(sim, FastTarget(""));
  // Down until it has refused something, however slow the machine is: the outage is
  // ended by what happened, not by a clock.
  f.sim().ForceOutage(true);
  RecoveryTracker tracker(/*normal_backlog=*/0);
  tracker.Observe(f.dispatcher().Stats(), SystemClock::Default()->NowNanos());
  tracker.Start([&f] { return f.dispatcher().Stats(); }, std::chrono::milliseconds(50));
  for (const std::string order : {"SO-1", "SO-2", "SO-3"}) f.SendAll({Accepted(order, order + "-e1", OneLine())});
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.Target().transient_errors > 0; }, std::chrono::seconds(30)));
  ASSERT_TRUE(FanOut::WaitFor([&] { return tracker.Snapshot()["erp"].recovering; }, std::chrono::seconds(30)));
  f.sim().ForceOutage(false);
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.sim().Summary().postings == 3; }, std::chrono::seconds(30)));
  ASSERT_TRUE(f.WaitUntilDrained());
  ASSERT_TRUE(FanOut::WaitFor([&] { return !tracker.Snapshot()["erp"].recovering; }));
  tracker.Stop();
  const auto v = tracker.Snapshot()["erp"];
  EXPECT_GT(f.Target().transient_errors, 0u);
  EXPECT_EQ(v.episodes, 1u);
  EXPECT_EQ(v.recovery_ms.count, 1u);

  // The families as scraped pass promtool.
  const auto families = tracker.Collector()->Collect();
  const std::string text = prometheus::TextSerializer().Serialize(families);
  EXPECT_NE(text.find("ordersync_erp_recovery_seconds_count{target=\"erp\"} 1"), std::string::npos) << text;
  ExpectPromtoolAccepts(families, "recovery");
}

TEST(SyncKpiTest, JournalScanCountsTraceableOrdersAndInventorySync) {
  ErpSimOptions sim;
  sim.endpoint = "tcp://127.0.0.1:*";
  sim.reject_orders = {"SO-REJ"};
  FanOut f(sim, FastTarget(""));
  const int64_t now = SystemClock::Default()->NowNanos();
  std::vector<EnvelopeSpec> specs = {Accepted("SO-OK", "ok-1", OneLine()),
                                     Adjusted("SO-OK", "ok-adj", "ADJ-1", "SKU-1", -1),     // in SLO
                                     Accepted("SO-LATE", "late-1", OneLine()),
                                     Adjusted("SO-LATE", "late-adj", "ADJ-2", "SKU-1", 2),  // 2 h ago: late
                                     Accepted("SO-NOCORR", "nc-1", OneLine()),
                                     Adjusted("SO-REJ", "rej-adj", "ADJ-3", "SKU-1", 1)};   // rejected: pending
  for (EnvelopeSpec& s : specs) s.occurred_at_ns = now;
  specs[3].occurred_at_ns = now - 7200 * kSec;
  specs[4].correlation_id.clear();
  f.SendAll(specs);
  ASSERT_TRUE(FanOut::WaitFor([&] { return f.sim().Summary().postings == 5 && f.Target().dead_lettered == 1; }));
  ASSERT_TRUE(f.engine().Checkpoint().ok());

  SyncKpiScanner scanner(&f.store(), /*window_s=*/86400, /*inventory_slo_s=*/900,
                         [&f] { return f.engine().Checkpoint(); });
  ASSERT_TRUE(scanner.ScanOnce(SystemClock::Default()->NowNanos()).ok());
  const SyncKpis k = scanner.Snapshot();
  EXPECT_EQ(k.orders, 4u);
  EXPECT_EQ(k.orders_traceable, 2u);  // SO-OK, SO-LATE (SO-NOCORR lacks a correlation_id, SO-REJ a document)
  EXPECT_EQ(k.adjustments_in_slo, 1u);
  EXPECT_EQ(k.adjustments_late, 1u);
  EXPECT_EQ(k.adjustments_pending, 1u);
  EXPECT_DOUBLE_EQ(k.traceability_ratio(), 0.5);
  EXPECT_DOUBLE_EQ(k.inventory_accuracy_ratio(), 1.0 / 3.0);
  ExpectPromtoolAccepts(scanner.Collector()->Collect(), "sync_kpis");
}

}  // namespace
}  // namespace ordersync::testing
