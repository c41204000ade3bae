// e2e_preload: builds the state of N orders for the e2e scaling sweep, fast and through
// the real code path: the real Engine (options from serve's TOML, but journal off and
// durability none — bulk load; the store flushes its memtables on close) applies the
// first event of each order (OrderAccepted, or the InventoryAdjusted of an adjustment)
// from LifecycleGenerator, so orders, dedup keys and meta are exactly what serve would
// have written. The outbox is dropped (CountingStore): these orders count as posted to
// the ERP long ago, so serve's dispatcher starts with an empty outbox.
//
// Realistic hit mix: the first `--overlap` orders are those `ordersync loadgen --seed S
// --producers P` will send first (producer_stream.h's generator options), split across the
// producers; the loadgen run then finds them in the store (their first event is answered
// Duplicate from the dedup table, their next events read a cold order). The rest are
// filler orders "PRE-…" nobody sends again.
//
// Output (stdout, JSON): orders, seconds, orders_per_s, compact_seconds.
//
// Usage: e2e_preload --config serve.toml --data-dir DIR --orders N [--overlap 5000]
//          [--seed 1] [--producers 4] [--no-compact]
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/producer/producer_stream.h"
#include "bench/e2e/bench_setup.h"
#include "bench/e2e/counting_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"

namespace ordersync::bench {
namespace {

using Clock = std::chrono::steady_clock;

class Sink final : public ResultSink {
 public:
  void OnEventResult(uint64_t, const EventReport& r) override {
    if (r.outcome != EventOutcome::kApplied) failures.fetch_add(1, std::memory_order_relaxed);
    done.fetch_add(1, std::memory_order_release);
  }
  std::atomic<uint64_t> done{0}, failures{0};
};

int Main(int argc, char** argv) {
  CLI::App app{"Preload N orders into a data dir through the real engine (JSON on stdout)"};
  std::string config_path, data_dir;
  uint64_t orders = 10000, overlap = 5000;
  uint32_t producers = 4;
  bool no_compact = false;
  ProducerStreamOptions so;
  app.add_option("--config", config_path, "serve's TOML (engine and storage options)")->required();
  app.add_option("--data-dir", data_dir, "Fresh data directory (removed first)")->required();
  app.add_option("--orders", orders, "Orders in state afterwards")->capture_default_str();
  app.add_option("--overlap", overlap, "Of them, loadgen's first orders (split across producers)")
      ->capture_default_str();
  app.add_option("--seed", so.seed, "loadgen's --seed")->capture_default_str();
  app.add_option("--producers", producers, "loadgen's --producers")->capture_default_str();
  app.add_option("--same-day", so.same_day_share, "loadgen's --same-day")->capture_default_str();
  app.add_flag("--no-compact", no_compact, "Skip the final full compaction");
  CLI11_PARSE(app, argc, argv);

  std::optional<AppConfig> config = LoadServeConfig("e2e_preload", config_path);
  if (!config) return 2;
  std::unique_ptr<RocksDbStore> rocks = OpenFreshStore("e2e_preload", config->storage, data_dir);
  if (!rocks) return 1;
  CountingStore store(rocks.get(), Table::kOutbox);
  EngineOptions eo = config->engine;
  eo.journal = false;
  eo.durability = Durability::kNone;
  StorageOptions log_options = config->storage;
  log_options.data_dir = data_dir;
  auto log = OpenEventLog(log_options);
  if (!log.ok()) {
    std::fprintf(stderr, "e2e_preload: %s\n", log.status().ToString().c_str());
    return 1;
  }
  auto engine = Engine::Open(eo, &store, log->get());
  if (!engine.ok()) {
    std::fprintf(stderr, "e2e_preload: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  overlap = std::min(overlap, orders);
  std::vector<LifecycleGenerator> generators;
  for (uint32_t i = 0; i < producers; ++i) generators.emplace_back(ProducerGeneratorOptions(so, i));
  GeneratorOptions filler_options = ProducerGeneratorOptions(so, 0);
  filler_options.order_prefix = "PRE-";
  filler_options.seed = so.seed * 31 + 7;
  LifecycleGenerator filler(filler_options);
  MilestoneBuilder builder;
  Sink sink;
  const auto start = Clock::now();
  for (uint64_t n = 0; n < orders; ++n) {
    const GeneratedOrder order = n < overlap ? generators[n % producers].Next() : filler.Next();
    InboundEvent ev;
    ev.bytes = EventBuffer::Copy(builder.Build(order.events.front()));
    ev.sink = &sink;
    while ((*engine)->Submit(std::move(ev)).IsBusy()) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  while (sink.done.load(std::memory_order_acquire) < orders) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  (*engine)->Stop();
  const double load_s = std::chrono::duration<double>(Clock::now() - start).count();
  engine->reset();
  if (sink.failures.load() != 0) {
    std::fprintf(stderr, "e2e_preload: %llu events were not applied\n",
                 static_cast<unsigned long long>(sink.failures.load()));
    return 1;
  }
  Status flushed = rocks->Flush();
  if (!flushed.ok()) {
    std::fprintf(stderr, "e2e_preload: %s\n", flushed.ToString().c_str());
    return 1;
  }
  const auto compact_start = Clock::now();
  if (!no_compact) {
    Status s = rocks->CompactAll();
    if (!s.ok()) {
      std::fprintf(stderr, "e2e_preload: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double compact_s = std::chrono::duration<double>(Clock::now() - compact_start).count();
  rocks.reset();
  nlohmann::json out = {{"orders", orders},         {"overlap", overlap},
                        {"seconds", load_s},        {"orders_per_s", orders / load_s},
                        {"compact_seconds", compact_s}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace ordersync::bench

int main(int argc, char** argv) { return ordersync::bench::Main(argc, argv); }
