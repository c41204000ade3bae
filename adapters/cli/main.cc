// ordersync command line: parses arguments with CLI11, loads the config and hands off to
// one subcommand. Only wiring lives here; each subcommand is in its own *_command.cc.
//
//   ordersync [--config FILE] serve [--print-config]
//   ordersync [--config FILE] config show [--default]
//   ordersync config check FILE
//   ordersync [--config FILE] validate [--json] [--max-message-bytes N] FILE...
//   ordersync [--config FILE] demo [--seconds N] [--rate R] [--data-dir DIR] [--linger S] ...
//   ordersync [--config FILE] trace [--json] [--data-dir DIR] ORDER_ID
//   ordersync [--config FILE] status [--watch] [--interval S] [--url URL] [--json]
//   ordersync keygen NAME [--dir DIR] [--force]
//   ordersync [--config FILE] quarantine list|show ID [--data-dir DIR] [--json] ...
//   ordersync [--config FILE] loadgen [--endpoint E] [--producers N] [--rate R] [--seconds S] ...
//   ordersync erp-sim [--endpoint E] [--ledger F] [--transient-rate R] [--reject-rate R] ...
//   ordersync erp-sim --api netsuite|sap_s4|d365_bc|oracle_fusion|webhook [--tls-cert F --tls-key F] ...
//   ordersync [--config FILE] dlq list|show ID|replay|purge [--order O] [--target T] [--all] ...
//   ordersync [--config FILE] exceptions list|replay [--order O] [--class C] [--all] ...
//   ordersync [--config FILE] master-data status|check FILE|reload [--json]
//   ordersync [--config FILE] reconcile --target T --export F --from D --to D [--repair [--yes]] [--json]
//   ordersync [--config FILE] cluster status [--json] [--nats URL] | drain NODE | undrain NODE [--etcd URL]
//                                  | export-state --data-dir DIR
//
// Exit codes: 0 success; 2 usage or configuration error; subcommands may add their own
// (validate: 1 = a frame was rejected).
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/cli/cluster_command.h"
#include "adapters/cli/config_command.h"
#include "adapters/cli/demo_command.h"
#include "adapters/cli/dlq_command.h"
#include "adapters/cli/edi_command.h"
#include "adapters/cli/master_data_command.h"
#include "adapters/cli/reconcile_command.h"
#include "adapters/cli/erp_sim_command.h"
#include "adapters/cli/exceptions_command.h"
#include "adapters/cli/logging.h"
#include "adapters/cli/serve_command.h"
#include "adapters/cli/status_command.h"
#include "adapters/cli/trace_command.h"
#include "adapters/cli/keygen_command.h"
#include "adapters/cli/loadgen_command.h"
#include "adapters/cli/quarantine_command.h"
#include "adapters/config/config_loader.h"

#include "adapters/cli/validate_command.h"

#ifndef ORDERSYNC_VERSION
#define ORDERSYNC_VERSION "unknown"
#endif

namespace ordersync {
namespace {

constexpr int kUsageError = 2;

constexpr const char* kDescription =
    "ordersync keeps sales, warehouse, transport and ERP in step. Warehouse, transport and\n"
    "sales systems send order milestone events (FlatBuffers over ZeroMQ); ordersync\n"
    "validates them, puts each order's events in sequence, drops duplicates, and writes\n"
    "the ERP commands they cause to a durable RocksDB outbox, from which a dispatcher\n"
    "posts them to the configured ERP targets, in order and with idempotent command ids.\n";

constexpr const char* kFooter =
    "Configuration:\n"
    "  Without --config, ordersync uses its built-in default, compiled from\n"
    "  configs/ordersync.toml; `ordersync config show --default` prints it with every key\n"
    "  documented. A config file needs only the keys it changes; unknown keys, wrong types\n"
    "  and out-of-range values are errors.\n"
    "\n"
    "Examples:\n"
    "  ordersync serve                                run with the built-in defaults\n"
    "  ordersync --config /etc/ordersync.toml serve\n"
    "  ordersync config show --default > my.toml     start a config of your own\n"
    "  ordersync config check my.toml                check it (exit 0 = ok, 2 = error)\n"
    "  ordersync --config my.toml serve --print-config\n"
    "  ordersync validate --json frames/*.bin         check captured milestone frames\n"
    "  ordersync demo --seconds 60                    watch the whole pipeline work, ERP outage included\n"
    "  ordersync trace SO-1001                        an order's timeline (also on a running engine)\n"
    "  ordersync status --watch                       throughput, queues, ERP targets, SLO health\n"
    "  ordersync keygen server --dir /etc/ordersync   CURVE key pair for the ingress (or a producer)\n"
    "  ordersync quarantine list                      rejected frames: why, from whom, when\n"
    "  ordersync loadgen --seconds 30 --rate 20000    drive a running `serve` with simulated producers\n"
    "  ordersync cluster status                       cluster members, partition owners and epochs (etcd),\n"
    "                                                 log sequences and checkpoint lag per partition (NATS)\n"
    "\n"
    "Exit status: 0 on success, 2 on a usage or configuration error; validate: 1 if a frame\n"
    "was rejected, 2 if a file could not be read.";

// The config every subcommand but `config check` runs with: --config FILE, else the
// built-in default. Prints the error and returns false on failure.
bool LoadEffectiveConfig(const std::string& path, AppConfig* config) {
  Result<AppConfig> loaded = path.empty() ? LoadEmbeddedDefault() : LoadConfigFile(path);
  if (!loaded.ok()) {
    std::cerr << "ordersync: config error: " << loaded.status().message() << "\n";
    return false;
  }
  *config = std::move(loaded).value();
  return true;
}

std::string ConfigSource(const std::string& path) {
  return path.empty() ? "built-in configs/ordersync.toml" : path;
}

// The first argument that is not a global option (--config FILE, --version, --help), or
// "" if there is none: the subcommand the user asked for.
std::string RequestedSubcommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-c" || arg == "--config") {
      ++i;  // its value
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    return arg;
  }
  return "";
}

int Main(int argc, char** argv) {
  CLI::App app{kDescription, "ordersync"};
  app.set_version_flag("--version", ORDERSYNC_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --config may also follow the subcommand

  std::string config_path;
  app.add_option("-c,--config", config_path,
                 "TOML config file; default: the built-in configs/ordersync.toml")
      ->type_name("FILE");

  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the engine: ingest milestones (ZeroMQ [ingress] endpoints), keep order state, emit ERP commands.\n"
      "SIGINT/SIGTERM stop it (the ingress answers what it took, then the engine drains). SIGHUP re-reads\n"
      "the config file and applies [ingress.rate_limit] without dropping connections, and reloads the\n"
      "[master_data] files; other config changes are logged as needing a restart.\n"
      "With [cluster] enabled = true it runs as one node of a cluster (docs/cluster.md): its ingress\n"
      "publishes to the replicated log on NATS JetStream (Accepted = stored on a quorum), etcd gives it\n"
      "partitions to apply and dispatch; SIGTERM hands its partitions over before it exits.");
  bool print_config = false;
  serve->add_flag("--print-config", print_config,
                  "Print the effective config as TOML and exit without starting");

  CLI::App* config = app.add_subcommand("config", "Show or check configuration");
  config->require_subcommand(1);
  CLI::App* show = config->add_subcommand(
      "show", "Print the effective config as TOML");
  bool show_default = false;
  show->add_flag("--default", show_default,
                 "Print the documented built-in default (configs/ordersync.toml) instead");
  CLI::App* check = config->add_subcommand(
      "check", "Check a config file: prints ok (exit 0) or the error (exit 2)");
  std::string check_path;
  check->add_option("FILE", check_path, "Config file to check")->required();

  CLI::App* validate = app.add_subcommand(
      "validate", "Check raw milestone frames (one Envelope per file)");
  bool validate_json = false;
  size_t max_message_bytes = 0;
  std::vector<std::string> validate_files;
  validate->add_flag("--json", validate_json, "Print the verdicts as a JSON array");
  CLI::Option* max_bytes_option =
      validate
          ->add_option("--max-message-bytes", max_message_bytes,
                       "Largest accepted frame; default: [validation] max_message_bytes")
          ->check(CLI::Range(size_t{1024}, size_t{16} * 1024 * 1024));
  validate->add_option("FILE", validate_files, "Frame files")->required();

  DemoOptions demo_options;
  CLI::App* demo = AddDemoSubcommand(app, &demo_options);

  CLI::App* trace = app.add_subcommand(
      "trace", "Print an order's timeline: events and outcomes, state changes, ERP commands (works on a running engine)");
  TraceOptions trace_options;
  trace->add_flag("--json", trace_options.json, "Print the timeline as one JSON object");
  trace->add_option("--data-dir", trace_options.data_dir, "Data dir to read; default: [storage] data_dir")
      ->type_name("DIR");
  trace->add_option("ORDER_ID", trace_options.order_id, "The order to trace")->required();

  CLI::App* status = app.add_subcommand(
      "status", "Show the running engine at a glance: throughput, queues, parked/exceptions, ERP targets, SLOs");
  StatusOptions status_options;
  status->add_flag("--watch", status_options.watch, "Redraw every --interval seconds until interrupted");
  status->add_option("--interval", status_options.interval_s, "Seconds between samples (rates)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  status->add_option("--url", status_options.url,
                     "Metrics URL; default: http://<[metrics] listen_address>/metrics")
      ->type_name("URL");
  status->add_option("--data-dir", status_options.data_dir,
                     "Data dir to read when the endpoint is unreachable; default: [storage] data_dir")
      ->type_name("DIR");
  status->add_flag("--json", status_options.json, "Print the figures as JSON");

  CLI::App* keygen = app.add_subcommand(
      "keygen", "Write a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub, for the ingress or a producer");
  KeygenOptions keygen_options;
  keygen->add_option("NAME", keygen_options.name, "Key name, e.g. server or wms-east (the producer's name)")
      ->required();
  keygen->add_option("--dir", keygen_options.dir, "Directory to write to")->capture_default_str()->type_name("DIR");
  keygen->add_flag("--force", keygen_options.force, "Replace existing key files");

  CLI::App* quarantine = app.add_subcommand(
      "quarantine", "Inspect rejected frames (reason, producer, time, bytes); read-only, also on a running engine");
  quarantine->require_subcommand(1);
  QuarantineCommandOptions quarantine_options;
  CLI::App* quarantine_list = quarantine->add_subcommand("list", "List quarantined frames, oldest first");
  CLI::App* quarantine_show = quarantine->add_subcommand("show", "Show one quarantined frame with a hex dump");
  for (CLI::App* sub : {quarantine_list, quarantine_show}) {
    sub->add_option("--data-dir", quarantine_options.data_dir, "Data dir to read; default: [storage] data_dir")
        ->type_name("DIR");
    sub->add_flag("--json", quarantine_options.json, "Print JSON");
  }
  quarantine_list->add_option("--after", quarantine_options.after, "Only records with a greater id")
      ->type_name("ID");
  quarantine_list->add_option("--limit", quarantine_options.limit, "Most records to print (0 = all)")
      ->capture_default_str();
  quarantine_show->add_option("ID", quarantine_options.id, "Record id (from list)")->required();
  quarantine_show->add_option("--raw", quarantine_options.raw_file,
                              "Write the frame's bytes to FILE (check it with `ordersync validate FILE`)")
      ->type_name("FILE");

  CLI::App* loadgen = app.add_subcommand(
      "loadgen", "Drive a running `ordersync serve` with simulated warehouse producers and measure it");
  LoadgenCommandOptions loadgen_options;
  LoadgenOptions& lg = loadgen_options.load;
  loadgen->add_option("--endpoint", loadgen_options.endpoint,
                      "Ingress endpoint; default: [ingress] ack_endpoint (pull_endpoint with --push)")
      ->type_name("ENDPOINT");
  loadgen->add_flag("--push", lg.push, "Fire-and-forget (PUSH to the pull endpoint) instead of acknowledged");
  loadgen->add_option("--producers", lg.producers, "Simulated producers (threads, one socket each)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  loadgen->add_option("--rate", lg.rate, "Target events/s over all producers (0 = flat out)")->capture_default_str();
  loadgen->add_option("--seconds", lg.seconds, "How long to generate")->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  loadgen->add_option("--max-events", lg.max_events, "Stop generating after this many events (0 = no limit)")
      ->capture_default_str();
  loadgen->add_option("--batch", lg.batch_events, "Events per batch (message)")->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  loadgen->add_option("--window", lg.window, "Batches in flight per producer")->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  loadgen->add_option("--ack-timeout-ms", lg.ack_timeout_ms, "Resend a batch not acknowledged within this time")
      ->capture_default_str()->check(CLI::Range(1, 3600 * 1000));
  loadgen->add_option("--drain-seconds", lg.drain_seconds, "After generating, wait this long for outstanding acks")
      ->capture_default_str();
  loadgen->add_option("--exact-dups", lg.exact_duplicate_share, "Share of events sent again as is")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  loadgen->add_option("--business-dups", lg.business_duplicate_share, "Share sent again under a new event_id")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  loadgen->add_option("--out-of-order", lg.out_of_order_share, "Share of events delivered up to 64 places late")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  loadgen->add_option("--malformed", lg.malformed_share, "Share of extra malformed frames (must be Rejected)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  loadgen->add_option("--same-day", lg.same_day_share, "Share of orders with SameDay priority")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  loadgen->add_option("--mutated", lg.mutated_share,
                      "Share of extra mutated frames: bit flips, truncation, wrong identifier, oversized, schema "
                      "version (each must be Rejected with the validator's reason)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  loadgen->add_option("--oversized-bytes", lg.oversized_bytes, "Size of an oversized mutated frame")
      ->capture_default_str()->check(CLI::Range(1025u, 1u << 30));
  loadgen->add_option("--event-log", lg.event_log_path,
                      "Write one line per event (event_id, order_id, fact_id, kind, final status, reason) to FILE")
      ->type_name("FILE");
  loadgen->add_option("--burst-every", lg.burst_every_s, "Seconds between bursts (0 = none; needs --rate)")
      ->capture_default_str();
  loadgen->add_option("--burst-seconds", lg.burst_seconds, "Length of a burst")->capture_default_str();
  loadgen->add_option("--burst-factor", lg.burst_factor, "Rate multiplier during a burst")->capture_default_str();
  loadgen->add_option("--seed", lg.seed, "Seed of the generated orders (different seeds, different order ids)")
      ->capture_default_str();
  loadgen->add_option("--curve-server-key", loadgen_options.curve_server_key, "CURVE: the server's .pub file")
      ->type_name("FILE");
  loadgen->add_option("--curve-key", loadgen_options.curve_key, "CURVE: this producer's .key file")
      ->type_name("FILE");
  loadgen->add_flag("--stamp-send-time", lg.stamp_send_time,
                    "Set each event's occurred_at to its send time (event-to-ERP latency at the ERP)");
  loadgen->add_option("--json", loadgen_options.json_file, "Also write the summary as JSON to FILE")
      ->type_name("FILE");
  loadgen->add_flag("--quiet", loadgen_options.quiet, "No progress lines");
  loadgen->add_option("--progress-every", lg.progress_every_s, "Seconds between progress lines")
      ->capture_default_str()->check(CLI::Range(0.05, 3600.0));

  ErpSimCommandOptions erp_sim_options;
  CLI::App* erp_sim = AddErpSimSubcommand(app, &erp_sim_options);
  DlqCommandOptions dlq_options;
  AddDlqSubcommand(app, &dlq_options);
  ExceptionsCommandOptions exceptions_options;
  AddExceptionsSubcommand(app, &exceptions_options);
  EdiCommandOptions edi_options;
  AddEdiSubcommand(app, &edi_options);
  MasterDataCommandOptions master_data_options;
  AddMasterDataSubcommand(app, &master_data_options);
  ReconcileCommandOptions reconcile_options;
  AddReconcileSubcommand(app, &reconcile_options);
  ClusterCommandOptions cluster_options;
  AddClusterSubcommand(app, &cluster_options);

  // Set after the subcommands are added: they would inherit it and repeat it in their --help.
  app.footer(kFooter);

  // CLI11 would answer an unknown subcommand with "A subcommand is required" (or, with
  // --help after it, the main help and status 0): name it instead.
  if (const std::string wanted = RequestedSubcommand(argc, argv); !wanted.empty()) {
    std::string known;
    bool found = false;
    for (const CLI::App* sub : app.get_subcommands({})) {
      found = found || sub->check_name(wanted);
      known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (!found) {
      std::cerr << "ordersync: unknown subcommand '" << wanted << "' (subcommands: " << known
                << ")\nRun 'ordersync --help' for usage.\n";
      return kUsageError;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, version or the error
    return rc == 0 ? 0 : kUsageError;
  }

  if (*check) return RunConfigCheck(check_path, std::cout, std::cerr);
  if (*show && show_default) return RunConfigShowDefault(std::cout);
  if (*keygen) return RunKeygen(keygen_options, std::cout, std::cerr);
  if (*erp_sim) {
    SetUpLogging(LogOptions{});
    return RunErpSim(erp_sim_options);
  }

  AppConfig effective;
  if (!LoadEffectiveConfig(config_path, &effective)) return kUsageError;

  if (*show) return RunConfigShow(effective, ConfigSource(config_path), std::cout);
  if (*serve) {
    if (print_config) return RunConfigShow(effective, ConfigSource(config_path), std::cout);
    SetUpLogging(effective.log);
    spdlog::info("using config: {}", ConfigSource(config_path));
    return RunServe(effective, config_path);
  }
  if (*validate) {
    ValidatorOptions options = effective.engine.validation;
    if (max_bytes_option->count() > 0) options.max_message_bytes = max_message_bytes;
    return RunValidateCommand(validate_files, validate_json, options, std::cout);
  }
  if (*trace) return RunTrace(effective, trace_options, std::cout, std::cerr);
  if (*quarantine_list) return RunQuarantineList(effective, quarantine_options, std::cout, std::cerr);
  if (*quarantine_show) return RunQuarantineShow(effective, quarantine_options, std::cout, std::cerr);
  if (*loadgen) return RunLoadgenCommand(effective, loadgen_options, std::cout, std::cerr);
  if (*status) return RunStatus(effective, status_options, std::cout, std::cerr);
  if (!dlq_options.action.empty()) return RunDlqCommand(effective, dlq_options, std::cout, std::cerr);
  if (!exceptions_options.action.empty()) {
    return RunExceptionsCommand(effective, exceptions_options, std::cout, std::cerr);
  }
  if (!edi_options.action.empty()) return RunEdiCommand(effective, edi_options, std::cout, std::cerr);
  if (!master_data_options.action.empty()) {
    return RunMasterDataCommand(effective, master_data_options, std::cout, std::cerr);
  }
  if (!cluster_options.action.empty()) return RunClusterCommand(effective, cluster_options, std::cout, std::cerr);
  if (reconcile_options.chosen) return RunReconcileCommand(effective, reconcile_options, std::cout, std::cerr);
  if (*demo) {
    demo_options.config_path = config_path;
    return RunDemo(effective, demo_options);  // sets up logging itself (errors only by default)
  }
  return kUsageError;  // unreachable: require_subcommand(1)
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) { return ordersync::Main(argc, argv); }
