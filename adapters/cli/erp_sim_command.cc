#include "adapters/cli/erp_sim_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include <spdlog/spdlog.h>

namespace ordersync {

CLI::App* AddErpSimSubcommand(CLI::App& app, ErpSimCommandOptions* o) {
  CLI::App* sim = app.add_subcommand(
      "erp-sim", "Run a simulated ERP adapter (ROUTER) with fault injection, for tests and fault runs");
  ErpSimOptions& s = o->sim;
  sim->add_option("--endpoint", s.endpoint, "Bind here (tcp://127.0.0.1:* = ephemeral)")->capture_default_str();
  sim->add_option("--control", s.control_endpoint, "Also bind a REP control socket (JSON: summary, set)")
      ->type_name("ENDPOINT");
  sim->add_option("--ledger", s.ledger_path, "Write one line per posting here")->type_name("FILE");
  sim->add_option("--rejected-file", s.rejected_path, "Write the rejected command ids here")->type_name("FILE");
  sim->add_option("--summary", o->summary_path, "Write the JSON summary here on exit and on SIGUSR2")
      ->type_name("FILE");
  sim->add_option("--latency", s.latency, "Latency distribution: fixed, uniform (0..2x) or exponential")
      ->capture_default_str()
      ->check(CLI::IsMember({"fixed", "uniform", "exponential"}));
  sim->add_option("--latency-us", s.latency_us, "Latency before each answer (mean), microseconds")
      ->capture_default_str();
  sim->add_option("--transient-rate", s.transient_error_rate, "Share of requests answered TransientError")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sim->add_option("--reject-rate", s.reject_rate, "Share of command ids rejected (same verdict on retries)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sim->add_option("--reject-sku", s.reject_skus, "Reject commands with a line of this SKU (repeatable)");
  sim->add_option("--reject-order", s.reject_orders, "Reject every command of this order (repeatable)");
  sim->add_option("--timeout-rate", s.timeout_rate, "Share of requests dropped without answer (not posted)")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sim->add_option("--ambiguous-rate", s.ambiguous_rate, "Share of postings whose answer is never sent")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sim->add_option("--outage-at-s", s.outage_at_s, "First outage starts this many seconds after start")
      ->capture_default_str();
  sim->add_option("--outage-for-s", s.outage_for_s, "Outage length in seconds (0 = no outages)")
      ->capture_default_str();
  sim->add_option("--outage-every-s", s.outage_every_s, "Repeat the outage every N seconds (0 = once)")
      ->capture_default_str();
  sim->add_flag("--outage-errors", s.outage_answers_errors, "Answer TransientError while down (default: silence)");
  sim->add_option("--seed", s.seed, "Seed of every random decision")->capture_default_str();
  sim->add_option("--report-every-s", o->report_every_s, "Progress line interval")->capture_default_str();
  return sim;
}

int RunErpSim(const ErpSimCommandOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the simulator's threads start

  auto sim = ErpSimulator::Start(options.sim);
  if (!sim.ok()) {
    spdlog::error("{}", sim.status().ToString());
    return 1;
  }
  const ErpSimOptions& o = options.sim;
  spdlog::info("erp-sim listening on {}{}{}", (*sim)->endpoint(),
               (*sim)->control_endpoint().empty() ? "" : ", control on ", (*sim)->control_endpoint());
  spdlog::info("faults: latency {} {} us, transient {:.3f}, reject {:.3f} (+{} skus, {} orders), timeout {:.3f}, "
               "ambiguous {:.3f}, outage {}s at {}s every {}s ({})",
               o.latency, o.latency_us, o.transient_error_rate, o.reject_rate, o.reject_skus.size(),
               o.reject_orders.size(), o.timeout_rate, o.ambiguous_rate, o.outage_for_s, o.outage_at_s,
               o.outage_every_s, o.outage_answers_errors ? "answers TransientError" : "silent");
  spdlog::info("ledger: {}; SIGUSR1 turns rejections off, SIGUSR2 writes the summary",
               o.ledger_path.empty() ? "(memory only)" : o.ledger_path);
  auto write_summary = [&] {
    (*sim)->Flush().PermitUncheckedError();
    const std::string json = (*sim)->SummaryJson();
    if (!options.summary_path.empty()) std::ofstream(options.summary_path) << json << "\n";
    return json;
  };
  ErpSimSummary last;
  while (true) {
    timespec wait{std::max(1, options.report_every_s), 0};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGUSR1) {
      (*sim)->SetRejectionsEnabled(false);
      spdlog::warn("SIGUSR1: rejections are off from now on");
    } else if (sig == SIGUSR2) {
      write_summary();
      spdlog::info("SIGUSR2: summary written{}", options.summary_path.empty() ? "" : " to " + options.summary_path);
    } else {
      const ErpSimSummary s = (*sim)->Summary();
      if (s.received != last.received) {
        spdlog::info("received {} posted {} duplicates {} transient {} rejected {} out-of-order {} gaps {}",
                     s.received, s.postings, s.duplicates_received, s.transient_errors, s.rejections,
                     s.out_of_order_arrivals, s.sequence_gaps);
      }
      last = s;
    }
  }
  (*sim)->Stop();
  std::printf("%s\n", write_summary().c_str());
  return 0;
}

}  // namespace ordersync
