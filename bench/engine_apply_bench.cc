// Apply-path benchmarks: events/s through one engine worker (validation excluded) with
// RocksDB in `wal` mode, as producers would see it: submit, apply, group commit, result.
//
//   BM_Engine_ApplyHotOrders   every order stays in the hot-order cache
//   BM_Engine_ApplyColdOrders  the cache holds ~1 order per partition: every event reads
//                              its order from RocksDB
//   BM_Engine_ApplyHotOrdersNoJournal  hot, with engine.journal = false (trace off)
//
// Each iteration submits a fresh batch of realistic lifecycle events (new orders, so no
// duplicates) and waits until all are durable. items/s = events/s.
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "adapters/producer/lifecycle_generator.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"

namespace ordersync {
namespace {

class CountingSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t, const EventReport& r) override {
    if (r.outcome != EventOutcome::kApplied) failures.fetch_add(1, std::memory_order_relaxed);
    done.fetch_add(1, std::memory_order_release);
  }
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> failures{0};
};

// About `events` encoded events of fresh orders. Interleaved: stage by stage across all
// orders (every first event, then every second, ...), so consecutive events of one order
// are thousands of events apart; otherwise order by order.
std::vector<std::string> EncodeOrders(LifecycleGenerator& gen, size_t events, bool interleaved) {
  std::vector<GeneratedOrder> orders;
  size_t n = 0;
  while (n < events) {
    orders.push_back(gen.Next());
    n += orders.back().events.size();
  }
  std::vector<std::string> out;
  out.reserve(n);
  MilestoneBuilder builder;
  if (!interleaved) {
    for (const EnvelopeSpec& e : InOrder(orders)) out.emplace_back(builder.Build(e));
    return out;
  }
  for (size_t stage = 0; out.size() < n; ++stage) {
    for (const GeneratedOrder& o : orders) {
      if (stage < o.events.size()) out.emplace_back(builder.Build(o.events[stage]));
    }
  }
  return out;
}

void RunApply(benchmark::State& state, uint32_t order_cache_capacity, bool interleaved, bool journal = true) {
  const std::string dir = "/tmp/ordersync-bench-apply-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  StorageOptions so;
  so.data_dir = dir;
  auto store = RocksDbStore::Open(so);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  EngineOptions eo;
  eo.workers = 1;
  eo.order_cache_capacity = order_cache_capacity;
  eo.durability = Durability::kWal;
  eo.journal = journal;
  auto log = OpenEventLog(so);
  if (!log.ok()) {
    state.SkipWithError(log.status().ToString().c_str());
    return;
  }
  auto engine = Engine::Open(eo, store->get(), log->get());
  if (!engine.ok()) {
    state.SkipWithError(engine.status().ToString().c_str());
    return;
  }
  GeneratorOptions go;
  go.cancel_share = 0.0;
  go.sequenced_share = 0.0;  // chained lifecycles in order: every event applies
  LifecycleGenerator gen(go);
  CountingSink sink;
  constexpr size_t kBatch = 20000;
  uint64_t total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::string> frames = EncodeOrders(gen, kBatch, interleaved);
    state.ResumeTiming();
    for (const std::string& f : frames) {
      InboundEvent ev;
      ev.bytes = EventBuffer::Copy(f);
      ev.sink = &sink;
      while ((*engine)->Submit(std::move(ev)).IsBusy()) std::this_thread::yield();
    }
    total += frames.size();
    while (sink.done.load(std::memory_order_acquire) < total) std::this_thread::yield();
  }
  EngineStats stats = (*engine)->Stats();
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.counters["events_per_batch"] =
      stats.batches_committed ? static_cast<double>(stats.batch_events) / stats.batches_committed : 0;
  state.counters["commit_us_per_event"] = static_cast<double>(stats.commit_nanos) / 1000.0 / std::max<uint64_t>(1, total);
  state.counters["cache_miss_per_event"] = static_cast<double>(stats.order_cache_misses) / std::max<uint64_t>(1, total);
  if (sink.failures.load() != 0) state.SkipWithError("some events were not applied");
  (*engine)->Stop();
  engine->reset();
  log->reset();
  store->reset();
  std::filesystem::remove_all(dir);
}

void BM_Engine_ApplyHotOrders(benchmark::State& state) { RunApply(state, 1 << 20, /*interleaved=*/false); }
void BM_Engine_ApplyColdOrders(benchmark::State& state) { RunApply(state, 64, /*interleaved=*/true); }
void BM_Engine_ApplyHotOrdersNoJournal(benchmark::State& state) {
  RunApply(state, 1 << 20, /*interleaved=*/false, /*journal=*/false);
}

BENCHMARK(BM_Engine_ApplyHotOrders)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);
BENCHMARK(BM_Engine_ApplyColdOrders)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);
BENCHMARK(BM_Engine_ApplyHotOrdersNoJournal)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5);

}  // namespace
}  // namespace ordersync

BENCHMARK_MAIN();
