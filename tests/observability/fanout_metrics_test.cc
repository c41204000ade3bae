// The ERP fan-out's metrics with the real dispatcher and the ERP simulator on loopback:
// an order shipped and invoiced; when the simulator posts the goods issue and the
// invoice, the dispatcher's on_acknowledged hook lands them in order_to_ship_seconds and
// ship_to_invoice_seconds, the per-target fan-out counters move, the outbox drains, and
// the scrape still passes `promtool check metrics`.
#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/erp/erp_simulator.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "adapters/metrics/dispatcher_collector.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/segment_log.h"
#include "tests/observability/observability_test_util.h"

namespace ordersync::testing {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

class Promises final : public ResultSink {
 public:
  void OnEventResult(uint64_t cookie, const EventReport& r) override {
    reinterpret_cast<std::promise<EventOutcome>*>(cookie)->set_value(r.outcome);
  }
};

TEST(FanoutMetricsTest, InvoiceAckedByTheErpLandsInShipToInvoiceSeconds) {
  auto sim = ErpSimulator::Start([] {
    ErpSimOptions o;
    o.endpoint = "tcp://127.0.0.1:*";
    return o;
  }());
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();

  TempDir dir;
  AppConfig config;
  config.engine = TestEngineOptions();
  config.storage.data_dir = dir.path() + "/db";
  config.storage.block_cache_mb = 8;
  config.storage.write_buffer_mb = 4;
  config.metrics.listen_address = "127.0.0.1:0";
  config.metrics.scan_interval_s = 3600;
  config.erp.targets[0].endpoint = (*sim)->endpoint();
  auto store = RocksDbStore::Open(config.storage);
  ASSERT_TRUE(store.ok()) << store.status().ToString();

  SloRecorder slo(Observability::TargetNames(config));
  DispatcherOptions dopts;
  dopts.erp = config.erp;
  dopts.partitions = config.engine.partitions;
  dopts.on_acknowledged = [&slo](std::string_view command, AckStatus, int64_t acked_at_ns) {
    std::string aligned(command);
    slo.OnCommandAcked(*GetErpCommand(aligned.data()), acked_at_ns);
  };
  auto dispatcher = OutboxDispatcher::Create(dopts, store->get());
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.status().ToString();
  auto log = OpenEventLog(config.storage);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  auto engine = Engine::Open(config.engine, store->get(), log->get(), SystemClock::Default(), dispatcher->get());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  ASSERT_TRUE((*dispatcher)->Start(engine->get()).ok());
  auto obs = Observability::Start(config, engine->get(), store->get(), "fanout", SystemClock::Default(), &slo);
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  OutboxDispatcher* d = dispatcher->get();
  (*obs)->AddCollector(MakeDispatcherCollector([d] { return d->Stats(); }));

  // Accepted 2 h ago, shipped 30 min ago (business time); bill_on = ship.
  const int64_t now = SystemClock::Default()->NowNanos();
  std::vector<EnvelopeSpec> specs = {Accepted("SO-F", "f1", {{1, "SKU-1", 2}}),
                                     Reserved("SO-F", "f2", "RES-1", {{1, "SKU-1", 2}}),
                                     Picked("SO-F", "f3", "PCK-1", {{1, "SKU-1", 2}}),
                                     Shipped("SO-F", "f4", "SHP-1", {{1, "SKU-1", 2}})};
  specs[0].occurred_at_ns = now - 7200 * kSecond;
  specs[1].occurred_at_ns = now - 5400 * kSecond;
  specs[2].occurred_at_ns = now - 3600 * kSecond;
  specs[3].occurred_at_ns = now - 1800 * kSecond;
  Promises sink;
  MilestoneBuilder builder;
  for (const EnvelopeSpec& spec : specs) {
    std::promise<EventOutcome> done;
    InboundEvent ev;
    ev.bytes = EventBuffer::Copy(builder.Build(spec));
    ev.received_at_ns = SystemClock::Default()->NowNanos();
    ev.sink = &sink;
    ev.cookie = reinterpret_cast<uint64_t>(&done);
    ASSERT_TRUE((*engine)->Submit(std::move(ev)).ok());
    ASSERT_EQ(done.get_future().get(), EventOutcome::kApplied);
  }

  // Wait (bounded) until the ERP posted all four commands and the dispatcher heard back.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  PromSamples s;
  while (std::chrono::steady_clock::now() < deadline) {
    s = Scrape(**obs);
    if (s.Sum("ordersync_erp_acks_total", {{"target", "erp"}, {"status", "posted"}}) >= 4 &&
        s.Sum("ordersync_ship_to_invoice_seconds_count") >= 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(s.Sum("ordersync_erp_acks_total", {{"target", "erp"}, {"status", "posted"}}), 4);
  EXPECT_EQ(s.Sum("ordersync_erp_commands_sent_total", {{"target", "erp"}}), 4);
  EXPECT_EQ(s.Sum("ordersync_erp_circuit_state", {{"target", "erp"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_ship_to_invoice_seconds_count", {{"target", "erp"}}), 1);
  EXPECT_EQ(s.Sum("ordersync_ship_to_invoice_seconds_bucket", {{"target", "erp"}, {"le", "900"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_ship_to_invoice_seconds_bucket", {{"target", "erp"}, {"le", "3600"}}), 1);
  EXPECT_NEAR(s.Sum("ordersync_ship_to_invoice_seconds_sum", {{"target", "erp"}}), 1800, 60);
  EXPECT_EQ(s.Sum("ordersync_order_to_ship_seconds_count", {{"target", "erp"}}), 1);
  EXPECT_NEAR(s.Sum("ordersync_order_to_ship_seconds_sum", {{"target", "erp"}}), 7200, 60);
  // One post latency sample per answer (all four Posted), on the loopback simulator.
  EXPECT_EQ(s.types.at("ordersync_erp_post_latency_seconds"), "histogram");
  EXPECT_GE(s.Sum("ordersync_erp_post_latency_seconds_count", {{"target", "erp"}}), 4);
  EXPECT_EQ(s.Sum("ordersync_erp_post_latency_seconds_count", {{"target", "erp"}}),
            s.Sum("ordersync_erp_acks_total", {{"target", "erp"}}));
  EXPECT_EQ(s.Sum("ordersync_erp_post_latency_seconds_bucket", {{"target", "erp"}, {"le", "+Inf"}}),
            s.Sum("ordersync_erp_post_latency_seconds_count", {{"target", "erp"}}));
  EXPECT_GT(s.Sum("ordersync_erp_post_latency_seconds_sum", {{"target", "erp"}}), 0);
  EXPECT_LT(s.Sum("ordersync_erp_post_latency_seconds_sum", {{"target", "erp"}}), 60);

  // The outbox drained: the next scan says nothing is pending for the ERP.
  ASSERT_TRUE((*obs)->scanner()->ScanOnce().ok());
  std::string body;
  s = Scrape(**obs, &body);
  EXPECT_EQ(s.Sum("ordersync_outbox_depth", {{"target", "erp"}}), 0);
  EXPECT_EQ(s.Sum("ordersync_shipments_pending_erp_posting"), 0);
  EXPECT_EQ(s.Sum("ordersync_erp_dlq_depth", {{"target", "erp"}}), 0);
  const std::string path = ::testing::TempDir() + "/ordersync_fanout_metrics.txt";
  std::ofstream(path) << body;
  std::string out;
  EXPECT_EQ(RunCommand(std::string(PROMTOOL) + " check metrics < " + path, &out), 0) << out;
  EXPECT_EQ(out, "") << out;

  (*obs)->Stop();
  (*dispatcher)->Stop();
  (*engine)->Stop();
  (*sim)->Stop();
}

}  // namespace
}  // namespace ordersync::testing
