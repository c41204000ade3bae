#include "adapters/cli/demo_command.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "adapters/cli/demo_erp.h"
#include "adapters/cli/demo_report.h"
#include "adapters/cli/logging.h"
#include "adapters/cli/pipeline.h"
#include "adapters/config/option_names.h"
#include "adapters/ingress/loadgen.h"

#ifndef ORDERSYNC_VERSION
#define ORDERSYNC_VERSION "unknown"
#endif

namespace ordersync {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Traffic mix of the simulated producers (see --help).
constexpr double kExactDuplicates = 0.05;
constexpr double kBusinessDuplicates = 0.02;
constexpr double kOutOfOrder = 0.2;
constexpr double kMalformed = 0.003;
constexpr double kSameDay = 0.1;

std::string MakeDataDir(const std::string& wanted) {
  std::error_code ec;
  if (!wanted.empty()) {
    fs::create_directories(wanted, ec);
    return ec ? std::string() : fs::absolute(wanted, ec).lexically_normal().string();
  }
  std::string tmpl = (fs::temp_directory_path(ec) / "ordersync-demo-XXXXXX").string();
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
}

// How to run this binary again from the current directory: "ordersync" when that is what
// PATH finds, else its path (relative when below the current directory).
std::string CliPath() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "ordersync";
  if (const char* path = getenv("PATH"); path != nullptr) {
    const std::string dirs = path;
    for (size_t start = 0; start <= dirs.size();) {
      const size_t end = std::min(dirs.find(':', start), dirs.size());
      const fs::path candidate = fs::path(dirs.substr(start, end - start)) / "ordersync";
      if (end > start && fs::equivalent(candidate, exe, ec)) return "ordersync";
      start = end + 1;
    }
  }
  const fs::path rel = exe.lexically_relative(fs::current_path(ec));
  if (!ec && !rel.empty() && *rel.begin() != "..") {
    return rel.has_parent_path() ? rel.string() : "./" + rel.string();  // a bare name would be looked up in PATH
  }
  return exe.string();
}

// The config the demo runs on: the effective one, with its own data dir, loopback
// ephemeral ports, the ERP targets at the simulators (DemoErp::Configure) and a store
// scan every second (fresh figures for the progress line).
AppConfig DemoConfig(const AppConfig& config, const std::string& data_dir, const DemoErp& erp) {
  AppConfig c = erp.Configure(config);
  c.storage.data_dir = data_dir;
  c.ingress.ack_endpoint = "tcp://127.0.0.1:*";
  c.ingress.pull_endpoint = "";
  c.ingress.curve_secret_key_file = "";  // the producers run in-process, without keys
  c.ingress.curve_authorized_keys_dir = "";
  // An ephemeral port: nothing to collide with a `serve` on the same host; the console
  // runs its commands.
  c.admin.endpoint = "tcp://127.0.0.1:*";
  c.metrics.scan_interval_s = 1;
  return c;
}

DemoSample Sample(Pipeline* p, const DemoErp& erp, const AppConfig& config, SteadyClock::time_point t0,
                  const ErpSimOptions& sim) {
  DemoSample s;
  s.elapsed_s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  s.erp_down =
      sim.outage_for_s > 0 && s.elapsed_s >= sim.outage_at_s && s.elapsed_s < sim.outage_at_s + sim.outage_for_s;
  s.engine = p->engine()->Stats();
  s.ingress = p->ingress()->Stats();
  s.dispatcher = p->dispatcher()->Stats();
  s.scan = p->observability()->scanner()->Snapshot();
  s.erp = erp.Summary();
  s.slo = p->slo()->Read();
  s.slo_order_to_ship_s = config.slo.order_to_ship_s;
  s.slo_ship_to_invoice_s = config.slo.ship_to_invoice_s;
  return s;
}

// Everything issued this run is posted or dead-lettered and nothing is left to send.
bool Drained(const DemoSample& first, const DemoSample& s) {
  const uint64_t issued = s.engine.commands_emitted - first.engine.commands_emitted;
  return OutboxDepth(s) == 0 && s.erp.postings + DeadLettered(s) - DeadLettered(first) >= issued;
}

// An order with the most ERP postings; among those, the first one posted after the
// outage ended (its commands most likely waited it out).
std::pair<std::string, uint64_t> PickOrder(const std::vector<ErpPosting>& ledger, int64_t outage_end_ns) {
  std::map<std::string, std::pair<uint64_t, bool>> orders;  // postings, posted after the outage
  for (const ErpPosting& p : ledger) {
    auto& o = orders[p.order_id];
    ++o.first;
    o.second = o.second || p.posted_at_ns >= outage_end_ns;
  }
  std::pair<std::string, uint64_t> best;
  bool best_after = false;
  for (const auto& [order, o] : orders) {
    if (o.first > best.second || (o.first == best.second && o.second && !best_after)) {
      best = {order, o.first};
      best_after = o.second;
    }
  }
  return best;
}

}  // namespace

CLI::App* AddDemoSubcommand(CLI::App& app, DemoOptions* o) {
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Live demo of the whole pipeline in one process, on the effective config: simulated warehouse producers\n"
      "send order milestones over ZeroMQ (with exact and business duplicates, out-of-order delivery and\n"
      "malformed frames) to the ingress; the engine validates, dedups, resequences and writes ERP commands to\n"
      "its RocksDB outbox; the dispatcher posts them to a simulated ERP that goes down for a while (--erp picks\n"
      "which: our ZeroMQ protocol, or the HTTP API of NetSuite, SAP S/4HANA, Business Central, Oracle Fusion or\n"
      "a webhook, simulated on loopback with its real paths, auth and answers). Prints a\n"
      "line per second, waits for the outbox to drain, then explains what happened and prints the commands to\n"
      "inspect the run (trace, quarantine, dlq), which work after the demo on its kept data dir. Ports are\n"
      "loopback and ephemeral (metrics: [metrics] listen_address, else an ephemeral port); no admin endpoint.");
  demo->add_option("--seconds", o->seconds, "How long the producers send events")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  demo->add_option("--rate", o->rate,
                   "Events/s over all producers (about 0.8 ERP commands each); the default leaves the ERP "
                   "target's rate_per_s room to catch up after the outage")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e7));
  demo->add_option("--producers", o->producers, "Simulated producers (threads, one ZeroMQ socket each)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  demo->add_option("--outage-seconds", o->outage_seconds,
                   "Length of the ERP outage (the simulator answers \"unavailable\"), starting a third of the way "
                   "into the run; 0 = no outage")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  demo->add_option("--erp-reject-rate", o->erp_reject_rate,
                   "Share of commands the simulated ERP rejects; they and their order's later commands go to the "
                   "dead-letter queue (`ordersync dlq`)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  demo->add_option("--drain-timeout", o->drain_timeout_s,
                   "After the producers stop, wait at most this many seconds for the outbox to drain")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  demo->add_option("--linger", o->linger_s,
                   "After the summary, keep the pipeline and its metrics endpoint up this many seconds "
                   "(Ctrl-C ends it early)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  demo->add_option("--data-dir", o->data_dir,
                   "RocksDB data dir to use and keep (created if missing); default: a fresh "
                   "/tmp/ordersync-demo-XXXXXX, kept and printed")
      ->type_name("DIR");
  demo->add_option("--seed", o->seed, "Seed of the generated orders and ERP faults; 0 = from the clock")
      ->capture_default_str();
  demo->add_option("--erp", o->erp,
                   "The simulated ERP: zmq (ErpCommand/ErpAck over ZeroMQ, every configured target), or netsuite, "
                   "sap_s4, d365_bc, oracle_fusion or webhook (that ERP's HTTP API behind one target \"erp\" of "
                   "that kind; the command kinds it cannot take go to a ZeroMQ target \"wms\")")
      ->capture_default_str()
      ->check(CLI::IsMember({"zmq", "netsuite", "sap_s4", "d365_bc", "oracle_fusion", "webhook"}));
  demo->add_flag("--verbose", o->verbose, "Log at the [log] level of the config (default: errors only)");
  return demo;
}

int RunDemo(const AppConfig& config, const DemoOptions& options) {
  LogOptions log = config.log;
  if (!options.verbose) log.level = "error";
  SetUpLogging(log);

  const std::string data_dir = MakeDataDir(options.data_dir);
  if (data_dir.empty()) {
    std::cerr << "ordersync demo: cannot create the data dir "
              << (options.data_dir.empty() ? "in " + fs::temp_directory_path().string() : options.data_dir) << "\n";
    return 1;
  }
  const uint64_t seed =
      options.seed != 0 ? options.seed : static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count()) % 1000000;

  ErpSimOptions sim;
  sim.endpoint = "tcp://127.0.0.1:*";
  sim.outage_for_s = options.outage_seconds;
  sim.outage_at_s = std::max<uint32_t>(1, static_cast<uint32_t>(options.seconds / 3));
  sim.outage_answers_errors = true;
  sim.reject_rate = options.erp_reject_rate;
  sim.seed = seed;
  const auto t0 = SteadyClock::now();
  const int64_t t0_wall_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto erp = DemoErp::Start(options.erp, sim, data_dir);
  if (!erp.ok()) {
    std::cerr << "ordersync demo: cannot start the ERP simulator: " << erp.status().ToString() << "\n";
    return 1;
  }
  const AppConfig demo_config = DemoConfig(config, data_dir, **erp);
  PipelineOptions pipeline_options;
  pipeline_options.version = ORDERSYNC_VERSION;
  pipeline_options.metrics_fallback_address = "127.0.0.1:0";
  pipeline_options.console_fallback_listen = "127.0.0.1:0";
  auto pipeline = Pipeline::Start(demo_config, pipeline_options);
  if (!pipeline.ok()) {
    std::cerr << "ordersync demo: cannot start the pipeline: " << pipeline.status().ToString() << "\n";
    return 1;
  }
  Pipeline* p = pipeline->get();
  const std::string metrics_url = p->observability()->url();

  LoadgenOptions load;
  load.endpoint = p->ingress()->ack_endpoint();
  load.producers = options.producers;
  load.rate = options.rate;
  load.seconds = options.seconds;
  load.batch_events = 16;
  load.exact_duplicate_share = kExactDuplicates;
  load.business_duplicate_share = kBusinessDuplicates;
  load.out_of_order_share = kOutOfOrder;
  load.malformed_share = kMalformed;
  load.same_day_share = kSameDay;
  load.seed = seed;
  load.order_prefix = "DEMO" + std::to_string(seed) + "-";

  const std::string cli =
      ShellQuote(CliPath()) + (options.config_path.empty() ? "" : " --config " + ShellQuote(options.config_path));
  const EngineOptions& eo = p->engine()->options();
  std::cout << "ordersync demo: " << options.seconds << " s of simulated warehouse traffic through the whole pipeline\n"
            << "  producers  " << options.producers << " simulated producers -> ingress " << load.endpoint
            << " (ZeroMQ, " << options.rate << " events/s; " << kExactDuplicates * 100 << "% exact and "
            << kBusinessDuplicates * 100 << "% business duplicates,\n             " << kOutOfOrder * 100
            << "% out of order, " << kMalformed * 100 << "% malformed frames)\n"
            << "  engine     " << eo.partitions << " partitions on " << eo.workers << " workers, durability "
            << DurabilityName(eo.durability) << ", data dir " << data_dir << " (kept)\n"
            << "  ERP        dispatcher -> " << (*erp)->Describe();
  if ((*erp)->http()) {  // the description names the targets
    if (!demo_config.erp.targets.empty()) std::cout << " (" << demo_config.erp.targets.front().rate_per_s << "/s each)";
  } else {
    for (const ErpTargetOptions& t : demo_config.erp.targets) {
      std::cout << " (target " << t.name << ", " << t.rate_per_s << "/s)";
    }
  }
  if (sim.outage_for_s > 0) {
    std::cout << "; outage from " << sim.outage_at_s << " s to " << sim.outage_at_s + sim.outage_for_s << " s";
  }
  std::cout << "\n  metrics    " << (metrics_url.empty() ? "off" : metrics_url);
  if (!p->metrics_note().empty()) std::cout << " (" << p->metrics_note() << ")";
  if (!metrics_url.empty()) std::cout << "\n             watch it: " << cli << " status --watch --url " << metrics_url;
  const std::string console_url = p->console() != nullptr ? p->console()->url() : "";
  std::cout << "\n  console    " << (console_url.empty() ? "off" : console_url + (p->console()->actions_enabled()
                                                                      ? " (open it in a browser)"
                                                                      : " (open it in a browser; read-only)"));
  if (!p->console_note().empty()) std::cout << " (" << p->console_note() << ")";
  std::cout << "\n\n";
  PrintProgressHeader(std::cout);

  const DemoSample first = Sample(p, **erp, demo_config, t0, sim);
  std::atomic<bool> load_done{false};
  LoadgenSummary load_summary;
  std::thread producers([&] {
    load_summary = RunLoadgen(load, {});
    load_done.store(true, std::memory_order_release);
  });

  DemoSample previous = first, last = first;
  DemoFacts facts;
  auto next = SteadyClock::now() + std::chrono::seconds(1);
  std::optional<SteadyClock::time_point> load_end;
  while (true) {
    std::this_thread::sleep_until(next);
    next += std::chrono::seconds(1);
    last = Sample(p, **erp, demo_config, t0, sim);
    PrintProgressLine(previous, last, std::cout);
    previous = last;
    if (OutboxDepth(last) > facts.max_outbox_depth) {
      facts.max_outbox_depth = OutboxDepth(last);
      facts.max_outbox_at_s = last.elapsed_s;
    }
    const bool outage_over = last.elapsed_s >= sim.outage_at_s + sim.outage_for_s;
    if (outage_over && facts.drained_at_s == 0 && OutboxDepth(last) == 0) facts.drained_at_s = last.elapsed_s;
    if (!load_done.load(std::memory_order_acquire)) continue;
    if (!load_end) load_end = SteadyClock::now();
    if (outage_over && Drained(first, last)) {
      facts.drained = true;
      break;
    }
    if (SteadyClock::now() - *load_end >= std::chrono::duration<double>(options.drain_timeout_s)) break;
  }
  producers.join();

  facts.seconds = options.seconds;
  facts.outage_at_s = sim.outage_at_s;
  facts.outage_for_s = sim.outage_for_s;
  facts.load = load_summary;
  facts.metrics_url = metrics_url;
  facts.metrics_note = p->metrics_note();
  facts.console_url = console_url;
  facts.linger_s = options.linger_s;
  facts.data_dir = data_dir;
  const int64_t outage_end_ns = t0_wall_ns + int64_t{sim.outage_at_s + sim.outage_for_s} * 1'000'000'000;
  std::tie(facts.sample_order, facts.sample_order_postings) = PickOrder((*erp)->Ledger(), outage_end_ns);
  facts.cli = cli;

  if (options.linger_s <= 0) {
    p->Stop();  // the store closes: the printed commands can open it
    (*erp)->Stop();
  }
  PrintDemoSummary(facts, first, last, std::cout);
  if (options.linger_s > 0) {
    std::cout << "\nLingering " << options.linger_s << " s (Ctrl-C ends it)";
    if (!metrics_url.empty()) std::cout << "; metrics at " << metrics_url;
    if (!console_url.empty()) std::cout << "; console at " << console_url;
    std::cout << std::endl;
    std::this_thread::sleep_for(std::chrono::duration<double>(options.linger_s));
    p->Stop();
    (*erp)->Stop();
  }
  const bool as_expected = load_summary.unexpected == 0 && load_summary.unanswered == 0 &&
                           last.erp.duplicates_received == 0 && last.erp.out_of_order_arrivals == 0;
  return as_expected ? 0 : 1;
}

}  // namespace ordersync
