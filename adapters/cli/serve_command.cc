#include "adapters/cli/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

#include <spdlog/spdlog.h>

#include "adapters/config/option_names.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/engine.h"

#ifndef ORDERSYNC_VERSION
#define ORDERSYNC_VERSION "unknown"
#endif

namespace ordersync {

void LogStartupBanner(const AppConfig& config) {
  const EngineOptions& e = config.engine;
  const unsigned workers = e.workers != 0 ? e.workers : std::thread::hardware_concurrency();
  spdlog::info("ordersync {} starting", ORDERSYNC_VERSION);
  spdlog::info("storage: data_dir={} block_cache_mb={} write_buffer_mb={}",
               config.storage.data_dir, config.storage.block_cache_mb,
               config.storage.write_buffer_mb);
  spdlog::info("engine: partitions={} workers={}{} durability={} bill_on={} "
               "max_batch_events={} group_commit_window_us={}",
               e.partitions, workers, e.workers == 0 ? " (hardware threads)" : "",
               DurabilityName(e.durability), BillOnName(e.bill_on), e.max_batch_events,
               e.group_commit_window_us);
  spdlog::info("routing: default_target=\"{}\" rules={}", e.routing.default_target,
               e.routing.rules.size());
  for (size_t i = 0; i < e.routing.rules.size(); ++i) {
    const RouteRule& rule = e.routing.rules[i];
    spdlog::info("routing.rules[{}]: company_code={}{}{} -> {}", i, rule.company_code,
                 rule.match_kind ? " kind=" : "",
                 rule.match_kind ? NameOf(CommandKindNames(), rule.kind) : "", rule.target);
  }
  spdlog::info("validation: max_message_bytes={} max_lines={}",
               e.validation.max_message_bytes, e.validation.max_lines);
}

int RunServe(const AppConfig& config) {
  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  LogStartupBanner(config);
  auto store = RocksDbStore::Open(config.storage);
  if (!store.ok()) {
    spdlog::error("cannot open the state store: {}", store.status().ToString());
    return 1;
  }
  auto engine = Engine::Open(config.engine, store->get());
  if (!engine.ok()) {
    spdlog::error("cannot start the engine: {}", engine.status().ToString());
    return 1;
  }
  const EngineStats recovered = (*engine)->Stats();
  spdlog::info("engine ready: {} partitions on {} workers, {} parked events recovered from {}",
               (*engine)->options().partitions, (*engine)->options().workers, recovered.parked_now,
               config.storage.data_dir);
  spdlog::info("endpoints: none yet (the ZeroMQ ingress and ERP fan-out are not built); "
               "`ordersync demo` drives the engine in-process");
  spdlog::info("running; stop with SIGINT or SIGTERM");
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("signal {} received: draining queues and committing", signal_number);
  (*engine)->Stop();
  const EngineStats s = (*engine)->Stats();
  spdlog::info("stopped; this run: {} events processed, {} ERP commands issued, {} events parked now", s.events_processed,
               s.commands_emitted, s.parked_now);
  return 0;
}

}  // namespace ordersync
