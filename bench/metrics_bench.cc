// Cost of metrics on the hot path, and of a scrape. BM_<Component>_<Case>:
//
//  BM_Metrics_WorkerCounterBump         one WorkerStats counter (single-writer relaxed
//                                       load+store, what the engine does per event)
//  BM_Metrics_StatsHistogramRecord      one single-writer fixed-bucket histogram sample
//                                       (per group commit, twice)
//  BM_Metrics_StatsHistogramRecordShared  the multi-writer variant (fetch_add; SLO acks)
//  BM_Metrics_PrometheusCppCounterIncrement  prometheus::Counter::Increment (the
//                                       alternative: an atomic double CAS per event)
//  BM_Metrics_PrometheusCppHistogramObserve  prometheus::Histogram::Observe (a mutex)
//  BM_Metrics_EngineApply/scrape:{0,1}  whole engine (RocksDB, durability none), 1000
//                                       OrderAccepted events per iteration, without /
//                                       with a thread scraping the full exposition every
//                                       millisecond (worst case; Prometheus scrapes every
//                                       15 s)
//  BM_Metrics_Scrape                    one full scrape (collect + serialise), 64 partitions
//
// The ->Threads(2) variants show contention on a shared counter.
#include <atomic>
#include <thread>

#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "adapters/metrics/observability.h"
#include "engine/engine_stats.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

void BM_Metrics_WorkerCounterBump(benchmark::State& state) {
  static WorkerStats stats;  // per worker in the engine: one writer
  for (auto _ : state) {
    Bump(stats.events_processed);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Metrics_WorkerCounterBump);

void BM_Metrics_StatsHistogramRecord(benchmark::State& state) {
  StatsHistogram h(kCommitLatencyBoundsNs);
  int64_t v = 0;
  for (auto _ : state) {
    h.Record(v);
    v = (v + 7919) & ((1 << 22) - 1);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_Metrics_StatsHistogramRecord);

StatsHistogram g_shared_histogram(kCommitLatencyBoundsNs);
void BM_Metrics_StatsHistogramRecordShared(benchmark::State& state) {
  int64_t v = state.thread_index() * 1000;
  for (auto _ : state) {
    g_shared_histogram.RecordShared(v);
    v = (v + 7919) & ((1 << 22) - 1);
  }
}
BENCHMARK(BM_Metrics_StatsHistogramRecordShared)->Threads(1)->Threads(2);

prometheus::Registry g_registry;
prometheus::Counter& g_counter =
    prometheus::BuildCounter().Name("bench_total").Help("x").Register(g_registry).Add({});
prometheus::Histogram& g_histogram = prometheus::BuildHistogram().Name("bench_seconds").Help("x").Register(g_registry).Add(
    {}, prometheus::Histogram::BucketBoundaries{1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1});

void BM_Metrics_PrometheusCppCounterIncrement(benchmark::State& state) {
  for (auto _ : state) g_counter.Increment();
}
BENCHMARK(BM_Metrics_PrometheusCppCounterIncrement)->Threads(1)->Threads(2);

void BM_Metrics_PrometheusCppHistogramObserve(benchmark::State& state) {
  double v = 0;
  for (auto _ : state) {
    g_histogram.Observe(v);
    v = v > 1 ? 0 : v + 0.0013;
  }
}
BENCHMARK(BM_Metrics_PrometheusCppHistogramObserve)->Threads(1)->Threads(2);

void BM_Metrics_EngineApply(benchmark::State& state) {
  EngineOptions options = testing::TestEngineOptions();
  options.partitions = 64;
  options.durability = Durability::kNone;
  options.order_cache_capacity = 1 << 20;
  options.dedup_cache_capacity = 1 << 20;
  testing::EngineHarness harness(options);
  AppConfig config;
  config.engine = harness.options();
  config.metrics.listen_address = "127.0.0.1:0";
  config.metrics.scan_interval_s = 3600;
  auto obs = Observability::Start(config, &harness.engine(), &harness.store(), "bench", &harness.clock());
  if (!obs.ok()) {
    state.SkipWithError(obs.status().ToString().c_str());
    return;
  }
  std::atomic<bool> stop{false};
  std::thread scraper;
  if (state.range(0) != 0) {
    scraper = std::thread([&] {
      while (!stop.load()) {
        benchmark::DoNotOptimize((*obs)->ScrapeText());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<EnvelopeSpec> specs;
    specs.reserve(1000);
    for (int i = 0; i < 1000; ++i, ++n) {
      specs.push_back(testing::Accepted("SO-" + std::to_string(n), "e-" + std::to_string(n), {{1, "SKU-1", 1}}));
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(harness.SendAll(specs));
  }
  stop = true;
  if (scraper.joinable()) scraper.join();
  state.SetItemsProcessed(static_cast<int64_t>(n));
  (*obs)->Stop();
}
BENCHMARK(BM_Metrics_EngineApply)->ArgName("scrape")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Metrics_Scrape(benchmark::State& state) {
  EngineOptions options = testing::TestEngineOptions();
  options.partitions = 64;
  testing::EngineHarness harness(options);
  AppConfig config;
  config.engine = harness.options();
  config.metrics.enabled = false;
  config.metrics.scan_interval_s = 3600;
  auto obs = Observability::Start(config, &harness.engine(), &harness.store(), "bench", &harness.clock());
  for (auto _ : state) benchmark::DoNotOptimize((*obs)->ScrapeText());
  (*obs)->Stop();
}
BENCHMARK(BM_Metrics_Scrape)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ordersync

BENCHMARK_MAIN();
