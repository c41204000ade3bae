#include "adapters/cli/erp_sim_command.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <tuple>

#include <spdlog/spdlog.h>

#include "adapters/erp/erp_sim_export.h"

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
  sim->add_option("--export", o->export_path,
                  "Write the documents the ERP holds (CSV, or JSON lines for *.jsonl) here on exit and on SIGUSR2, "
                  "as `ordersync reconcile --export` reads them")
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
  // HTTP APIs (adapters/erp/connectors/sim/erp_http_simulator.h).
  ErpHttpSimOptions& h = o->http;
  sim->add_option("--api", o->api,
                  "Which ERP to simulate: zmq (ErpCommand/ErpAck over a ROUTER), or the HTTPS API of netsuite, "
                  "sap_s4, d365_bc, oracle_fusion or webhook")
      ->capture_default_str()
      ->check(CLI::IsMember({"zmq", "netsuite", "sap_s4", "d365_bc", "oracle_fusion", "webhook"}));
  sim->add_option("--host", h.host, "HTTP APIs: listen address")->capture_default_str();
  sim->add_option("--port", h.port, "HTTP APIs: port (0 = ephemeral, printed)")->capture_default_str();
  sim->add_option("--tls-cert", h.cert_file, "HTTP APIs: PEM certificate chain (HTTPS); none = plain HTTP")
      ->type_name("FILE");
  sim->add_option("--tls-key", h.key_file, "HTTP APIs: PEM key of --tls-cert")->type_name("FILE");
  sim->add_option("--threads", h.threads, "HTTP APIs: server threads (one per keep-alive connection)")
      ->capture_default_str();
  sim->add_option("--auth", h.auth, "HTTP APIs: none, basic or oauth2")
      ->capture_default_str()->check(CLI::IsMember({"none", "basic", "oauth2"}));
  sim->add_option("--username", h.username, "basic: user name");
  sim->add_option("--password-file", o->password_file, "basic: file with the password")->type_name("FILE");
  sim->add_option("--client-id", h.client_id, "oauth2: client id");
  sim->add_option("--client-secret-file", o->client_secret_file, "oauth2: file with the client secret")
      ->type_name("FILE");
  sim->add_option("--jwt-public-key", o->jwt_public_key_file,
                  "oauth2: PEM public key or certificate that checks JWT client assertions")->type_name("FILE");
  sim->add_option("--token-ttl-s", h.token_ttl_s, "oauth2: access token lifetime")->capture_default_str();
  sim->add_option("--csrf-ttl-s", h.csrf_ttl_s, "sap_s4: CSRF token lifetime (0 = no expiry)")->capture_default_str();
  sim->add_option("--throttle-rate", h.throttle_rate, "Share of requests answered 429 + Retry-After")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  sim->add_option("--retry-after-s", h.retry_after_s, "Retry-After of 429 and outage 503 answers")
      ->capture_default_str();
  sim->add_option("--storm-at-s", h.storm_at_s, "429 storm: first starts this many seconds after start")
      ->capture_default_str();
  sim->add_option("--storm-for-s", h.storm_for_s, "429 storm length in seconds (0 = none)")->capture_default_str();
  sim->add_option("--storm-every-s", h.storm_every_s, "Repeat the storm every N seconds (0 = once)")
      ->capture_default_str();
  sim->add_option("--withhold-ms", h.withhold_ms, "How long a lost reply (timeout, ambiguous) is held back")
      ->capture_default_str();
  sim->add_option("--query-page-max", h.query_page_max,
                  "HTTP APIs: most documents per page of a document query (reconcile --source api); "
                  "more are linked as further pages")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  return sim;
}

namespace {

bool ReadTextFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in.is_open()) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
  return true;
}

// `ordersync erp-sim --api X`: the HTTP simulator, with the same signals and summary.
int RunHttpErpSim(const ErpSimCommandOptions& options, sigset_t signals) {
  ErpHttpSimOptions h = options.http;
  const ErpSimOptions& f = options.sim;
  h.api = options.api;
  h.latency = f.latency;
  h.latency_us = f.latency_us;
  h.transient_error_rate = f.transient_error_rate;
  h.reject_rate = f.reject_rate;
  h.reject_skus = f.reject_skus;
  h.reject_orders = f.reject_orders;
  h.timeout_rate = f.timeout_rate;
  h.ambiguous_rate = f.ambiguous_rate;
  h.outage_at_s = f.outage_at_s;
  h.outage_for_s = f.outage_for_s;
  h.outage_every_s = f.outage_every_s;
  h.outage_answers_errors = f.outage_answers_errors;
  h.seed = f.seed;
  h.ledger_path = f.ledger_path;
  h.rejected_path = f.rejected_path;
  for (auto [path, out, what] : {std::tuple{&options.password_file, &h.password, "--password-file"},
                                 std::tuple{&options.client_secret_file, &h.client_secret, "--client-secret-file"},
                                 std::tuple{&options.jwt_public_key_file, &h.jwt_public_key_pem, "--jwt-public-key"}}) {
    if (!path->empty() && !ReadTextFile(*path, out)) {
      spdlog::error("erp-sim: cannot read {} '{}'", what, *path);
      return 2;
    }
  }
  auto sim = ErpHttpSimulator::Start(h);
  if (!sim.ok()) {
    spdlog::error("{}", sim.status().ToString());
    return 1;
  }
  spdlog::info("erp-sim: {} API on {} (auth {}){}", h.api, (*sim)->base_url(), h.auth,
               h.auth == "oauth2" ? ", token endpoint " + (*sim)->token_url() : std::string());
  spdlog::info("faults: latency {} {} us, 503 {:.3f}, 429 {:.3f} (Retry-After {} s, storms {}s at {}s every {}s), "
               "reject {:.3f}, timeout {:.3f}, lost replies {:.3f}, outage {}s at {}s every {}s",
               h.latency, h.latency_us, h.transient_error_rate, h.throttle_rate, h.retry_after_s, h.storm_for_s,
               h.storm_at_s, h.storm_every_s, h.reject_rate, h.timeout_rate, h.ambiguous_rate, h.outage_for_s,
               h.outage_at_s, h.outage_every_s);
  auto write_summary = [&] {
    (*sim)->Flush().PermitUncheckedError();
    const std::string json = (*sim)->SummaryJson();
    if (!options.summary_path.empty()) std::ofstream(options.summary_path) << json << "\n";
    return json;
  };
  while (true) {
    timespec wait{std::max(1, options.report_every_s), 0};
    const int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) break;
    if (sig == SIGUSR1) {
      (*sim)->SetRejectionsEnabled(false);
      spdlog::warn("SIGUSR1: rejections are off from now on");
    } else if (sig == SIGUSR2) {
      write_summary();
    } else {
      const ErpHttpSimSummary s = (*sim)->Summary();
      spdlog::info("requests {} posted {} duplicate documents {} throttled {} unauthorized {} rejected {}",
                   s.http_requests, s.base.postings, s.duplicate_postings, s.throttled, s.unauthorized,
                   s.base.rejections);
    }
  }
  (*sim)->Stop();
  std::printf("%s\n", write_summary().c_str());
  return 0;
}

}  // namespace

int RunErpSim(const ErpSimCommandOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the simulator's threads start
  if (options.api != "zmq") return RunHttpErpSim(options, signals);

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
  spdlog::info("ledger: {}; SIGUSR1 turns rejections off, SIGUSR2 writes the summary (and --export)",
               o.ledger_path.empty() ? "(memory only)" : o.ledger_path);
  auto write_summary = [&] {
    (*sim)->Flush().PermitUncheckedError();
    const std::string json = (*sim)->SummaryJson();
    if (!options.summary_path.empty()) std::ofstream(options.summary_path) << json << "\n";
    if (!options.export_path.empty()) {
      Status s = WriteErpExportFile((*sim)->Documents(), options.export_path);
      if (!s.ok()) spdlog::error("export {}: {}", options.export_path, s.ToString());
    }
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
