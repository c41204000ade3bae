// The ingress's metrics on a real IngressServer (loopback) in front of a real engine,
// scraped from a real Observability endpoint: rejections by reason, throttles by source
// (the configured sources and "other"), the ack latency histogram; every labelled series
// is there at 0 before traffic, and the scrape passes `promtool check metrics`.
#include <chrono>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/metrics/ingress_collector.h"
#include "tests/observability/observability_test_util.h"
#include "tests/support/ingress_harness.h"

namespace ordersync::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<LineSpec> Lines() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

template <typename Fn>
bool Eventually(Fn done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class IngressMetricsTest : public ::testing::Test {
 protected:
  IngressMetricsTest() : h_([] {
      IngressOptions o = TestIngressOptions();
      o.rate_limit.sources.push_back({"SALES", 1, 2});  // 1 event/s, 2 saved up
      o.rate_limit.default_events_per_s = 1;            // every other source: 1/s, 1 saved up
      o.rate_limit.default_burst = 1;
      return o;
    }()) {}

  void SetUp() override {
    auto obs = Observability::Start(ObservabilityTestConfig(h_.engine().options()), &h_.engine().engine(),
                                    &h_.engine().store(), "ingress", &h_.engine().clock());
    ASSERT_TRUE(obs.ok()) << obs.status().ToString();
    obs_ = std::move(obs).value();
    IngressServer* server = &h_.server();
    obs_->AddCollector(MakeIngressCollector([server] { return server->Stats(); }));
  }
  void TearDown() override {
    if (obs_) obs_->Stop();
  }

  IngressHarness h_;
  std::unique_ptr<Observability> obs_;
};

TEST_F(IngressMetricsTest, LabelledSeriesExistAtZeroBeforeTraffic) {
  const PromSamples s = Scrape(*obs_);
  EXPECT_EQ(s.types.at("ordersync_ingress_events_rejected_total"), "counter");
  EXPECT_EQ(s.types.at("ordersync_ingress_events_throttled_total"), "counter");
  EXPECT_EQ(s.types.at("ordersync_ingress_ack_latency_seconds"), "histogram");
  const std::vector<std::string> reasons = s.LabelValues("ordersync_ingress_events_rejected_total", "reason");
  EXPECT_EQ(reasons.size(), kIngressRejectReasons);
  for (const char* r : {"oversized_message", "truncated_or_corrupt", "wrong_file_identifier", "missing_field",
                        "invalid_priority", "batch_too_large"}) {
    EXPECT_THAT(reasons, ::testing::Contains(r));
  }
  EXPECT_EQ(s.Sum("ordersync_ingress_events_rejected_total"), 0);
  EXPECT_THAT(s.LabelValues("ordersync_ingress_events_throttled_total", "source"), ElementsAre("SALES", "other"));
  EXPECT_EQ(s.Sum("ordersync_ingress_events_throttled_total"), 0);
  EXPECT_EQ(s.Sum("ordersync_ingress_ack_latency_seconds_count"), 0);
}

TEST_F(IngressMetricsTest, RejectionsByReasonThrottlesBySourceAndAckLatency) {
  TestProducer producer(h_.context(), h_.server().ack_endpoint());
  EnvelopeSpec no_order = Accepted("", "e-bad", Lines());
  EnvelopeSpec wms1 = Accepted("SO-W1", "w1", Lines()), wms2 = Accepted("SO-W2", "w2", Lines());
  wms1.source = wms2.source = "WMS-WEST";
  auto first = producer.SendBatch({Frame(Accepted("SO-1", "e1", Lines())), Frame(no_order),
                                   std::string("this is not a flatbuffer at all")});
  ASSERT_TRUE(first.has_value());
  // SALES has 1 token left after e1; WMS-WEST (not configured: "other") has 1.
  auto second = producer.SendBatch({Frame(Accepted("SO-2", "e2", Lines())), Frame(Accepted("SO-3", "e3", Lines())),
                                    Frame(wms1), Frame(wms2)});
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(Eventually([&] { return h_.server().Stats().acks_sent == 2; }));  // counted after the send

  std::string body;
  const PromSamples s = Scrape(*obs_, &body);
  EXPECT_EQ(s.Sum("ordersync_ingress_events_rejected_total", {{"reason", "missing_field"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_ingress_events_rejected_total", {{"reason", "wrong_file_identifier"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_ingress_events_rejected_total"), 2);
  EXPECT_EQ(s.Sum("ordersync_ingress_events_throttled_total", {{"source", "SALES"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_ingress_events_throttled_total", {{"source", "other"}}), 1);
  EXPECT_THAT(s.LabelValues("ordersync_ingress_events_throttled_total", "source"), ElementsAre("SALES", "other"));
  EXPECT_EQ(s.Sum("ordersync_ingress_ack_latency_seconds_count"), 2);
  EXPECT_EQ(s.Sum("ordersync_ingress_ack_latency_seconds_bucket", {{"le", "+Inf"}}), 2);
  EXPECT_GE(s.Sum("ordersync_ingress_ack_latency_seconds_sum"), 0);

  const std::string path = ::testing::TempDir() + "/ordersync_ingress_metrics.txt";
  std::ofstream(path) << body;
  std::string out;
  EXPECT_EQ(RunCommand(std::string(PROMTOOL) + " check metrics < " + path, &out), 0) << out;
  EXPECT_EQ(out, "") << "promtool findings:\n" << out;
  EXPECT_THAT(body, ::testing::Not(HasSubstr("SO-"))) << "no order ids in labels";
  EXPECT_THAT(body, ::testing::Not(HasSubstr("WMS-WEST"))) << "unconfigured sources only as other";
  EXPECT_THAT(body, ::testing::Not(HasSubstr("e-bad"))) << "no event ids in labels";
}

}  // namespace
}  // namespace ordersync::testing
