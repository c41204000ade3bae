#include "adapters/cli/demo_command.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "adapters/metrics/observability.h"
#include "adapters/producer/lifecycle_generator.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/engine.h"

namespace ordersync {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Counts outcomes as the engine reports them (worker threads).
class OutcomeCounter final : public ResultSink {
 public:
  void OnEventResult(uint64_t, const EventReport& r) override {
    counts_[static_cast<size_t>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t count(EventOutcome o) const { return counts_[static_cast<size_t>(o)].load(std::memory_order_relaxed); }
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& c : counts_) t += c.load(std::memory_order_relaxed);
    return t;
  }

 private:
  std::atomic<uint64_t> counts_[6] = {};
};

// Most events submitted and not yet answered.
constexpr uint64_t kMaxInFlight = 20000;

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ordersync-demo-XXXXXX").string();
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
}

}  // namespace

int RunDemo(const AppConfig& config, const DemoOptions& options) {
  const bool temp = options.data_dir.empty();
  StorageOptions storage = config.storage;
  storage.data_dir = temp ? MakeTempDir() : options.data_dir;
  if (storage.data_dir.empty()) {
    spdlog::error("cannot create a temp dir for the demo");
    return 1;
  }
  std::printf("ordersync demo: %d s of generated order lifecycles through the engine\n", options.seconds);
  std::printf("  data dir   %s%s\n", storage.data_dir.c_str(), temp ? " (temporary)" : "");
  std::printf("  engine     %u partitions, durability %s, bill_on %s\n", config.engine.partitions,
              config.engine.durability == Durability::kFsync ? "fsync"
              : config.engine.durability == Durability::kNone ? "none" : "wal",
              config.engine.bill_on == BillOn::kShip ? "ship" : "delivery");
  std::printf("  input      lifecycles shuffled across and within orders, +10%% exact and +5%% business duplicates\n\n");

  int rc = 0;
  {
    auto store = RocksDbStore::Open(storage);
    if (!store.ok()) {
      spdlog::error("cannot open the state store: {}", store.status().ToString());
      return 1;
    }
    auto engine = Engine::Open(config.engine, store->get());
    if (!engine.ok()) {
      spdlog::error("cannot start the engine: {}", engine.status().ToString());
      return 1;
    }
    // Metrics are optional here: if the port is taken (a serve running), carry on without.
    auto observability = Observability::Start(config, engine->get(), store->get(), "demo");
    if (observability.ok() && !(*observability)->url().empty()) {
      std::printf("  metrics    %s (try: curl -s %s | grep ^ordersync_orders)\n\n", (*observability)->url().c_str(),
                  (*observability)->url().c_str());
    } else if (!observability.ok()) {
      std::printf("  metrics    off: %s\n\n", observability.status().ToString().c_str());
    }
    OutcomeCounter counter;
    GeneratorOptions go;
    go.seed = static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count());
    // Lifecycles that happened over the last minutes (occurred_at feeds the SLO metrics).
    go.base_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch() - std::chrono::minutes(10))
                          .count();
    LifecycleGenerator generator(go);
    MilestoneBuilder builder;
    DisorderOptions disorder;
    uint64_t submitted = 0, busy_retries = 0, orders = 0;
    std::string sample_order;
    const auto start = SteadyClock::now();
    const auto end = start + std::chrono::seconds(options.seconds);
    auto next_report = start + std::chrono::seconds(1);
    uint64_t last_total = 0;
    // Feed in windows of 500 orders, each window shuffled on its own: realistic disorder
    // (events arrive late by minutes, not days) with a bounded working set.
    while (SteadyClock::now() < end) {
      std::vector<GeneratedOrder> window;
      for (int i = 0; i < 500; ++i) window.push_back(generator.Next());
      orders += window.size();
      if (sample_order.empty()) sample_order = window.front().order_id;
      disorder.seed++;
      for (const EnvelopeSpec& spec : Disorder(window, disorder)) {
        if (options.events_per_second > 0) {
          const auto due = start + std::chrono::nanoseconds(submitted * 1'000'000'000ull / options.events_per_second);
          std::this_thread::sleep_until(due);
        }
        // Like a producer with a bounded in-flight window: wait for results before
        // running further ahead of the engine.
        while (submitted - counter.total() >= kMaxInFlight) std::this_thread::sleep_for(std::chrono::microseconds(200));
        InboundEvent ev;
        ev.bytes = EventBuffer::Copy(builder.Build(spec));
        ev.sink = &counter;
        Status s;
        while ((s = (*engine)->Submit(std::move(ev))).IsBusy()) {
          ++busy_retries;
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        ++submitted;
        const auto now = SteadyClock::now();
        if (now >= next_report) {
          const EngineStats st = (*engine)->Stats();
          const uint64_t total = counter.total();
          std::printf("[%3lds] %7lu ev/s | applied %lu parked-now %ld duplicates %lu exceptions %lu | ERP commands %lu | batch %.0f ev\n",
                      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(now - start).count()),
                      static_cast<unsigned long>(total - last_total),
                      static_cast<unsigned long>(st.events_applied + st.events_unparked),
                      static_cast<long>(st.parked_now),
                      static_cast<unsigned long>(st.duplicates_exact + st.duplicates_business),
                      static_cast<unsigned long>(st.events_excepted), static_cast<unsigned long>(st.commands_emitted),
                      st.batches_committed ? static_cast<double>(st.batch_events) / st.batches_committed : 0.0);
          std::fflush(stdout);
          last_total = total;
          next_report += std::chrono::seconds(1);
        }
      }
    }
    while (counter.total() < submitted) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (observability.ok()) (*observability)->Stop();
    (*engine)->Stop();
    const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
    const EngineStats st = (*engine)->Stats();
    std::printf("\nWhat happened\n");
    std::printf("  %lu events for %lu orders in %.1f s (%.0f events/s, every result after its batch was durable)\n",
                static_cast<unsigned long>(submitted), static_cast<unsigned long>(orders), secs, submitted / secs);
    std::printf("  %lu applied on arrival; %lu arrived before their prerequisite, were parked and applied later\n",
                static_cast<unsigned long>(st.events_applied), static_cast<unsigned long>(st.events_unparked));
    std::printf("  %lu exact duplicates and %lu business duplicates absorbed without a second posting\n",
                static_cast<unsigned long>(st.duplicates_exact), static_cast<unsigned long>(st.duplicates_business));
    std::printf("  %lu ERP commands written to the outbox, numbered per order, with deterministic ids\n",
                static_cast<unsigned long>(st.commands_emitted));
    std::printf("  %ld still parked, %lu exceptions\n",
                static_cast<long>(st.parked_now), static_cast<unsigned long>(st.events_excepted));
    std::printf("  %lu group commits, %.0f events each on average; %lu busy retries (back-pressure)\n",
                static_cast<unsigned long>(st.batches_committed),
                st.batches_committed ? static_cast<double>(st.batch_events) / st.batches_committed : 0.0,
                static_cast<unsigned long>(busy_retries));
    if (counter.count(EventOutcome::kStoreError) != 0) {
      std::printf("  %lu events could not be stored (see the log)\n",
                  static_cast<unsigned long>(counter.count(EventOutcome::kStoreError)));
      rc = 1;
    }
    std::printf("\nWhere to look next\n");
    std::printf("  an order from this run: %s (its commands start with \"%s/\")\n", sample_order.c_str(),
                sample_order.c_str());
    std::printf("  the engine's design: docs/architecture.md; the event contract: docs/contract.md\n");
    std::printf("  run it yourself: ordersync serve (config: ordersync config show --default)\n");
  }
  if (temp) {
    std::error_code ec;
    std::filesystem::remove_all(storage.data_dir, ec);
  }
  return rc;
}

}  // namespace ordersync
