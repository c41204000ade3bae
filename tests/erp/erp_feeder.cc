// erp_feeder: an engine with its ERP dispatcher and admin endpoint, fed in-process with
// generated order lifecycles (tests/erp/fanout_fixture.h FeederChunk: disordered, with
// duplicates). Used by the kill -9 test (erp_crash_test) and the fault run
// (bench/erp_fault_run) against `ordersync erp-sim`.
//
//   erp_feeder --data-dir D --erp tcp://127.0.0.1:7200 [--config F] [--admin EP]
//              [--orders N] [--seed S] [--no-feed] [--exit-when-drained] [--status-file F]
//
// Runs until SIGINT/SIGTERM (or, with --exit-when-drained, until everything fed is
// processed and the outbox is empty). --status-file is rewritten every 200 ms with a JSON
// object: fed, answered, outcomes, commands_emitted, outbox, drained, and the dispatcher's
// erp.status. Exit code 0 on a clean stop.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "adapters/admin/admin_server.h"
#include "adapters/config/config_loader.h"
#include "adapters/erp/erp_admin_commands.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"
#include "tests/erp/fanout_fixture.h"

namespace ordersync {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

class CountingSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t, const EventReport& r) override {
    counts_[static_cast<size_t>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
    answered_.fetch_add(1, std::memory_order_release);
  }
  uint64_t answered() const { return answered_.load(std::memory_order_acquire); }
  uint64_t count(EventOutcome o) const { return counts_[static_cast<size_t>(o)].load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> counts_[6] = {};
  std::atomic<uint64_t> answered_{0};
};

size_t OutboxSize(StateStore* store) {
  size_t n = 0;
  for (auto it = store->NewIterator(Table::kOutbox, "", ""); it->Valid(); it->Next()) ++n;
  return n;
}

int Main(int argc, char** argv) {
  CLI::App app{"engine + ERP dispatcher fed with generated lifecycles"};
  std::string data_dir, erp_endpoint, config_path, admin_endpoint, status_file, prefix = "SO-";
  size_t orders = 1000;
  uint64_t seed = 7;
  bool no_feed = false, exit_when_drained = false;
  uint32_t partitions = 8, workers = 2;
  app.add_option("--data-dir", data_dir)->required();
  app.add_option("--erp", erp_endpoint, "endpoint of every configured ERP target")->required();
  app.add_option("--config", config_path, "ordersync TOML for [engine] and [erp] (data dir and endpoints overridden)");
  app.add_option("--admin", admin_endpoint, "admin endpoint to serve (default: none)");
  app.add_option("--orders", orders);
  app.add_option("--seed", seed);
  app.add_option("--prefix", prefix);
  app.add_option("--partitions", partitions, "without --config");
  app.add_option("--workers", workers, "without --config");
  app.add_flag("--no-feed", no_feed);
  app.add_flag("--exit-when-drained", exit_when_drained);
  app.add_option("--status-file", status_file);
  CLI11_PARSE(app, argc, argv);

  AppConfig config;
  if (!config_path.empty()) {
    auto loaded = LoadConfigFile(config_path);
    if (!loaded.ok()) {
      std::cerr << loaded.status().ToString() << "\n";
      return 2;
    }
    config = std::move(loaded).value();
  } else {
    config.engine.partitions = partitions;
    config.engine.workers = workers;
    ErpTargetOptions& t = config.erp.targets.at(0);
    t.rate_per_s = 100000;
    t.burst = 1000;
    t.max_in_flight = 128;
    t.timeout_ms = 500;
    t.retry.initial_backoff_ms = 20;
    t.retry.max_backoff_ms = 500;
  }
  for (ErpTargetOptions& t : config.erp.targets) t.endpoint = erp_endpoint;
  config.storage.data_dir = data_dir;

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  auto store = RocksDbStore::Open(config.storage);
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  DispatcherOptions d;
  d.erp = config.erp;
  d.partitions = config.engine.partitions;
  d.durability = config.engine.durability;
  d.journal = config.engine.journal;
  auto dispatcher = OutboxDispatcher::Create(d, store->get());
  if (!dispatcher.ok()) {
    std::cerr << dispatcher.status().ToString() << "\n";
    return 1;
  }
  auto log = OpenEventLog(config.storage);
  if (!log.ok()) {
    std::cerr << log.status().ToString() << "\n";
    return 1;
  }
  auto engine = Engine::Open(config.engine, store->get(), log->get(), SystemClock::Default(), dispatcher->get());
  if (!engine.ok()) {
    std::cerr << engine.status().ToString() << "\n";
    return 1;
  }
  Status started = (*dispatcher)->Start(engine->get());
  if (!started.ok()) {
    std::cerr << started.ToString() << "\n";
    return 1;
  }
  std::unique_ptr<AdminServer> admin;
  if (!admin_endpoint.empty()) {
    AdminOptions ao;
    ao.endpoint = admin_endpoint;
    auto created = AdminServer::Create(ao);
    if (!created.ok()) {
      std::cerr << created.status().ToString() << "\n";
      return 1;
    }
    admin = std::move(created).value();
    ErpAdminContext c;
    c.store = store->get();
    c.engine = engine->get();
    c.dispatcher = dispatcher->get();
    c.durability = config.engine.durability;
    RegisterErpAdminCommands(admin.get(), c);
    Status s = admin->Start();
    if (!s.ok()) {
      std::cerr << s.ToString() << "\n";
      return 1;
    }
  }

  CountingSink sink;
  std::atomic<uint64_t> fed{0};
  std::atomic<bool> feeding_done{no_feed};
  std::thread feeder([&] {
    MilestoneBuilder builder;
    constexpr uint64_t kMaxUnanswered = 20000;
    const size_t chunks = (orders + testing::kFeederChunkOrders - 1) / testing::kFeederChunkOrders;
    for (size_t chunk = 0; chunk < chunks && !no_feed && !g_stop.load(); ++chunk) {
      for (const EnvelopeSpec& spec : testing::FeederChunk(seed, prefix, orders, chunk)) {
        while (fed.load() - sink.answered() >= kMaxUnanswered && !g_stop.load()) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        InboundEvent ev;
        ev.bytes = EventBuffer::Copy(builder.Build(spec));
        ev.sink = &sink;
        Status s;
        while ((s = (*engine)->Submit(std::move(ev))).IsBusy() && !g_stop.load()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));  // partition full or ERP backlogged
        }
        if (!s.ok()) return;
        fed.fetch_add(1);
      }
    }
    feeding_done.store(true);
  });

  auto drained = [&] {
    if (!feeding_done.load() || sink.answered() < fed.load()) return false;
    const DispatcherStats s = (*dispatcher)->Stats();
    return s.window == 0 && s.unread == 0 && OutboxSize(store->get()) == 0;
  };
  auto write_status = [&](bool is_drained) {
    if (status_file.empty()) return;
    nlohmann::json j = {{"fed", fed.load()},
                        {"answered", sink.answered()},
                        {"feeding_done", feeding_done.load()},
                        {"applied", sink.count(EventOutcome::kApplied)},
                        {"parked", sink.count(EventOutcome::kParked)},
                        {"excepted", sink.count(EventOutcome::kExcepted)},
                        {"duplicates", sink.count(EventOutcome::kDuplicateExact) +
                                           sink.count(EventOutcome::kDuplicateBusiness)},
                        {"store_errors", sink.count(EventOutcome::kStoreError)},
                        {"commands_emitted", (*engine)->Stats().commands_emitted},
                        {"drained", is_drained},
                        {"erp", DispatcherStatsJson((*dispatcher)->Stats())}};
    const std::string tmp = status_file + ".tmp";
    std::ofstream(tmp) << j.dump(2) << "\n";
    std::rename(tmp.c_str(), status_file.c_str());
  };
  while (!g_stop.load()) {
    const bool is_drained = drained();
    write_status(is_drained);
    if (exit_when_drained && is_drained) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  g_stop.store(true);
  feeder.join();
  if (admin) admin->Stop();
  (*dispatcher)->Stop();
  (*engine)->Stop();
  write_status(drained());
  return 0;
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) { return ordersync::Main(argc, argv); }
