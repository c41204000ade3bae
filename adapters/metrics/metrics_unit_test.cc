// Unit tests of the metrics building blocks: StatsHistogram, SloRecorder, LogLimiter,
// EventLogger and the Prometheus text reader.
#include <cmath>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "adapters/ingress/ingress_stats.h"
#include "adapters/metrics/event_logger.h"
#include "adapters/metrics/log_limiter.h"
#include "adapters/metrics/metric_families.h"
#include "adapters/metrics/prom_text.h"
#include "adapters/metrics/slo_recorder.h"
#include "engine/stats_histogram.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kBounds[] = {1, 2, 4, 8};

TEST(StatsHistogramTest, CountsEachValueInItsInclusiveBucket) {
  StatsHistogram h(kBounds);
  for (int64_t v : {0, 1, 2, 3, 4, 8, 9, 100}) h.Record(v);
  h.RecordShared(5);
  HistogramSnapshot s;
  h.AddTo(&s);
  EXPECT_EQ(s.count, 9u);
  EXPECT_EQ(s.sum, 0 + 1 + 2 + 3 + 4 + 8 + 9 + 100 + 5);
  EXPECT_EQ(s.counts[0], 2u);  // 0, 1
  EXPECT_EQ(s.counts[1], 1u);  // 2
  EXPECT_EQ(s.counts[2], 2u);  // 3, 4
  EXPECT_EQ(s.counts[3], 2u);  // 5, 8
  EXPECT_EQ(s.counts[4], 2u);  // +Inf: 9, 100
}

TEST(StatsHistogramTest, AddToMergesHistograms) {
  StatsHistogram a(kBounds), b(kBounds);
  a.Record(1);
  b.Record(7);
  HistogramSnapshot s;
  a.AddTo(&s);
  b.AddTo(&s);
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.sum, 8);
}

TEST(MetricFamiliesTest, HistogramBucketsAreCumulativeAndScaled) {
  StatsHistogram h(kBounds);
  h.Record(1);
  h.Record(3);
  h.Record(50);
  HistogramSnapshot s;
  h.AddTo(&s);
  prometheus::MetricFamily f;
  f.type = prometheus::MetricType::Histogram;
  AddHistogram(&f, s, 0.5, {{"target", "erp"}});
  ASSERT_EQ(f.metric.size(), 1u);
  const auto& hist = f.metric[0].histogram;
  ASSERT_EQ(hist.bucket.size(), 5u);
  EXPECT_EQ(hist.bucket[0].cumulative_count, 1u);
  EXPECT_DOUBLE_EQ(hist.bucket[0].upper_bound, 0.5);
  EXPECT_EQ(hist.bucket[2].cumulative_count, 2u);
  EXPECT_EQ(hist.bucket[4].cumulative_count, 3u);
  EXPECT_TRUE(std::isinf(hist.bucket[4].upper_bound));
  EXPECT_EQ(hist.sample_count, 3u);
  EXPECT_DOUBLE_EQ(hist.sample_sum, 27.0);
}

// The reason labels of ordersync_ingress_events_rejected_total: every RejectCode (so
// kLastRejectCode was moved when a code was appended), each once, then batch_too_large.
TEST(IngressRejectReasonsTest, CoverEveryRejectCodeOnceThenTheIngressOwn) {
  EXPECT_EQ(RejectCodeName(static_cast<RejectCode>(static_cast<int>(kLastRejectCode) + 1)), "unknown");
  std::set<std::string_view> names;
  for (size_t i = 0; i < kIngressRejectReasons; ++i) {
    EXPECT_NE(IngressRejectReasonName(i), "unknown") << i;
    names.insert(IngressRejectReasonName(i));
  }
  EXPECT_EQ(names.size(), kIngressRejectReasons);
  EXPECT_EQ(IngressRejectReasonName(RejectReasonIndex(RejectCode::kOversizedMessage)), "oversized_message");
  EXPECT_EQ(IngressRejectReasonName(RejectReasonIndex(kLastRejectCode)), "invalid_priority");
  EXPECT_EQ(IngressRejectReasonName(kRejectReasonBatchTooLarge), "batch_too_large");
}

TEST(SloRecorderTest, InvoiceAckRecordsShipToInvoiceAndGoodsIssueRecordsOrderToShip) {
  SloRecorder slo({"erp", "billing"});
  const int64_t t0 = 1'700'000'000'000'000'000;
  slo.OnCommandAcked("billing", CommandKind::CreateInvoice, t0, t0 - 1, t0 + 1800 * int64_t{1'000'000'000});
  slo.OnCommandAcked("erp", CommandKind::PostGoodsIssue, t0, t0 - 7200 * int64_t{1'000'000'000}, t0);
  slo.OnCommandAcked("nowhere", CommandKind::CreateInvoice, t0, 0, t0 + 10 * int64_t{1'000'000'000});
  slo.OnCommandAcked("erp", CommandKind::CreateSalesOrder, t0, t0, t0 + 1);  // not an SLO milestone
  slo.OnCommandAcked("erp", CommandKind::CreateInvoice, 0, 0, t0);           // no timestamp: not recorded
  const auto series = slo.Read();
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].target, "erp");
  EXPECT_EQ(series[0].order_to_ship_ms.count, 1u);
  EXPECT_EQ(series[0].order_to_ship_ms.sum, 7'200'000);
  EXPECT_EQ(series[0].ship_to_invoice_ms.count, 0u);
  EXPECT_EQ(series[1].target, "billing");
  EXPECT_EQ(series[1].ship_to_invoice_ms.count, 1u);
  EXPECT_EQ(series[1].ship_to_invoice_ms.sum, 1'800'000);
  EXPECT_EQ(series[2].target, "other");
  EXPECT_EQ(series[2].ship_to_invoice_ms.count, 1u);
}

TEST(LogLimiterTest, AllowsBurstThenSuppressesAndReportsTheCount) {
  LogLimiter limiter(/*per_s=*/1, /*burst=*/3);
  uint64_t suppressed = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("rejected_frame", 0, &suppressed));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Allow("rejected_frame", 0, &suppressed));
  EXPECT_TRUE(limiter.Allow("exception", 0, &suppressed)) << "kinds have separate buckets";
  // One second later one token is back; the line that uses it reports the 1000.
  EXPECT_TRUE(limiter.Allow("rejected_frame", 1'000'000'000, &suppressed));
  EXPECT_EQ(suppressed, 1000u);
  EXPECT_FALSE(limiter.Allow("rejected_frame", 1'000'000'000, &suppressed));
  auto pending = limiter.TakeSuppressed();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].first, "rejected_frame");
  EXPECT_EQ(pending[0].second, 1u);
  EXPECT_TRUE(limiter.TakeSuppressed().empty());
  auto totals = limiter.SuppressedTotals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[1].first, "rejected_frame");
  EXPECT_EQ(totals[1].second, 1001u);
}

TEST(LogLimiterTest, ZeroRateMeansUnlimited) {
  LogLimiter limiter(0, 0);
  uint64_t suppressed = 0;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.Allow("x", 0, &suppressed));
}

TEST(EventLogTest, JsonLinesCarryOrderAndCorrelationIdsAndFloodIsSummarised) {
  std::ostringstream os;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(os);
  EventLogger log({"json", 1, 2}, {sink});
  for (int i = 0; i < 500; ++i) {
    log.Warn("rejected_frame", {.order_id = "SO-1", .event_id = "e-\"1\"", .correlation_id = "c-1", .source = "WMS"},
             "frame rejected: {}", "missing_field:order_id");
  }
  log.FlushSuppressed();
  const std::string out = os.str();
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 3u) << out;  // burst of 2, then one summary line
  EXPECT_THAT(lines[0], HasSubstr(R"("level":"warning","msg":"frame rejected: missing_field:order_id")"));
  EXPECT_THAT(lines[0], HasSubstr(R"("kind":"rejected_frame","order_id":"SO-1","event_id":"e-\"1\"","correlation_id":"c-1","source":"WMS"})"));
  EXPECT_THAT(lines[2], HasSubstr(R"x("msg":"suppressed 498 'rejected_frame' messages (log rate limit)")x"));
  EXPECT_THAT(lines[2], HasSubstr(R"("suppressed":498)"));
}

TEST(EventLogTest, TextLinesCarryKeyValueFields) {
  std::ostringstream os;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(os);
  EventLogger log({"text", 0, 0}, {sink});
  log.Info("exception", {.order_id = "SO 9", .correlation_id = "c-9"}, "event excepted");
  EXPECT_THAT(os.str(), HasSubstr("[info] event excepted kind=exception order_id=\"SO 9\" correlation_id=c-9"));
}

TEST(PromTextTest, ParsesSamplesLabelsAndTypes) {
  auto parsed = ParsePromText(
      "# HELP a_total A.\n# TYPE a_total counter\n"
      "a_total{kind=\"exact\"} 3\na_total{kind=\"business\",x=\"q\\\"\"} 4\n"
      "g 1.5e3\n"
      "h_bucket{le=\"1\"} 1\nh_bucket{le=\"10\"} 3\nh_bucket{le=\"+Inf\"} 4\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Sum("a_total"), 7);
  EXPECT_EQ(parsed->Sum("a_total", {{"kind", "exact"}}), 3);
  EXPECT_EQ(parsed->Sum("a_total", {{"x", "q\""}}), 4);
  EXPECT_EQ(parsed->Sum("g"), 1500);
  EXPECT_EQ(parsed->types.at("a_total"), "counter");
  EXPECT_DOUBLE_EQ(parsed->Quantile("h", 0.5), 5.5);  // rank 2 between 1 (1) and 10 (3)
  EXPECT_DOUBLE_EQ(parsed->Quantile("h", 1.0), 10);   // in +Inf: highest finite bound
  EXPECT_FALSE(ParsePromText("x{a=\"1\" 3\n").ok());
}

TEST(PromTextTest, SplitsUrls) {
  std::string host, path;
  int port = 0;
  ASSERT_TRUE(SplitHttpUrl("http://127.0.0.1:9464/metrics", &host, &port, &path));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  EXPECT_EQ(path, "/metrics");
  ASSERT_TRUE(SplitHttpUrl("[::1]:80", &host, &port, &path));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(SplitHttpUrl("localhost", &host, &port, &path));
}

}  // namespace
}  // namespace ordersync
