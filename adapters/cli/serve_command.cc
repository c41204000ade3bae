#include "adapters/cli/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

#include <spdlog/spdlog.h>

#include "adapters/cli/pipeline.h"
#include "adapters/config/config_loader.h"
#include "adapters/config/option_names.h"
#include "adapters/ingress/ingress_server.h"
#include "adapters/ingress/rate_limiter.h"

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
  if (config.cluster.enabled) {
    spdlog::info("cluster mode: node {} of cluster {}; log on NATS {} (stream {}, {} replicas); ownership in etcd {}",
                 config.cluster.node_id, config.cluster.name, config.cluster.nats_urls.front(), config.cluster.stream,
                 config.cluster.replicas, config.cluster.etcd_endpoints.front());
  }
}

namespace {

// SIGHUP: re-reads the config and applies [ingress.rate_limit] (the only reloadable part
// so far); logs what changed and which other changes wait for a restart.
void ReloadRateLimits(const std::string& config_path, AppConfig* current, IngressServer* ingress) {
  Result<AppConfig> fresh = config_path.empty() ? LoadEmbeddedDefault() : LoadConfigFile(config_path);
  if (!fresh.ok()) {
    spdlog::error("SIGHUP: config not reloaded, keeping the current one: {}", fresh.status().message());
    return;
  }
  const std::vector<std::string> changes = DescribeRateLimitChanges(current->ingress.rate_limit, fresh->ingress.rate_limit);
  if (changes.empty()) {
    spdlog::info("SIGHUP: rate limits unchanged");
  } else {
    for (const std::string& change : changes) spdlog::info("SIGHUP: ingress.rate_limit.{}", change);
    ingress->UpdateRateLimits(fresh->ingress.rate_limit);
    current->ingress.rate_limit = fresh->ingress.rate_limit;
  }
  AppConfig rest = *fresh;
  rest.ingress.rate_limit = current->ingress.rate_limit;
  if (DumpConfig(rest) != DumpConfig(*current)) {
    spdlog::warn("SIGHUP: {} has other changes; they need a restart and were not applied",
                 config_path.empty() ? "the built-in config" : config_path);
  }
}

}  // namespace

int RunServe(const AppConfig& config, const std::string& config_path) {
  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload the rate limits and the master data
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  LogStartupBanner(config);
  PipelineOptions pipeline_options;
  pipeline_options.version = ORDERSYNC_VERSION;
  auto pipeline = Pipeline::Start(config, pipeline_options);  // logs what failed
  if (!pipeline.ok()) return 1;
  spdlog::info("running; stop with SIGINT or SIGTERM; SIGHUP reloads the rate limits and the master data");
  int signal_number = 0;
  AppConfig current = config;
  while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGHUP) {
    ReloadRateLimits(config_path, &current, (*pipeline)->ingress());
    // A bad file is refused (logged, `ordersync master-data status` shows why); the data
    // in force stays.
    if (config.master_data.any()) (*pipeline)->master_data()->Reload("SIGHUP").PermitUncheckedError();
  }
  spdlog::info("signal {} received: draining queues and committing", signal_number);
  (*pipeline)->StopIntake();  // ingress (answers the batches already submitted), then admin + dispatcher
  const IngressStats in = (*pipeline)->ingress()->Stats();
  spdlog::info("ingress: {} batches ({} fire-and-forget); {} accepted, {} duplicate, {} rejected and quarantined, "
               "{} throttled, {} busy; {} CURVE handshakes refused",
               in.batches_received, in.pull_batches_received, in.accepted, in.duplicate, in.rejected, in.throttled,
               in.busy, in.curve_refused);
  if (ClusterRuntime* cluster = (*pipeline)->cluster(); cluster != nullptr && cluster->node() != nullptr) {
    // Read before Stop: the node's stats outlive its partitions, not the runtime.
    const ClusterNode::Stats c = cluster->node()->GetStats();
    (*pipeline)->Stop();  // metrics, then the NATS connection closes
    spdlog::info("stopped; this run as cluster node {}: {} log records applied, {} partitions acquired and {} handed "
                 "on ({} fenced), {} checkpoints stored",
                 config.cluster.node_id, c.records_applied, c.partitions_acquired, c.partitions_stopped,
                 c.partitions_fenced, c.checkpoints_stored);
    return 0;
  }
  (*pipeline)->Stop();  // metrics, then the engine drains
  if ((*pipeline)->engine() == nullptr) return 0;
  const EngineStats s = (*pipeline)->engine()->Stats();
  spdlog::info("stopped; this run: {} events processed, {} ERP commands issued, {} events parked now", s.events_processed,
               s.commands_emitted, s.parked_now);
  return 0;
}

}  // namespace ordersync
