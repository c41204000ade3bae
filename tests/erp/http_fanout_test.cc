// The dispatcher posting to the HTTP simulators of real ERP APIs, wired the way `serve`
// wires it: a TOML config read by the config loader, the Pipeline (RocksDB store, event
// log, engine, dispatcher with one HttpTargetChannel per HTTP target, metrics endpoint),
// and `ordersync erp-sim`'s HTTPS simulators behind a test CA made with openssl. Events
// go into the engine; the ERP's ledger, its duplicate-document count, the dispatcher's
// stats, the dead-letter table, the order's trace and a metrics scrape checked with the
// real promtool say what happened. Tests assert behaviour, never timings; waits are
// generous.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/cli/pipeline.h"
#include "adapters/cli/trace_command.h"
#include "adapters/config/config_loader.h"
#include "adapters/erp/connectors/connector_test_util.h"
#include "adapters/erp/connectors/sim/erp_http_simulator.h"
#include "adapters/erp/dead_letters.h"
#include "adapters/metrics/prom_text.h"
#include "adapters/producer/milestone_builder.h"
#include "tests/support/engine_harness.h"

namespace ordersync::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class PromiseSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t cookie, const EventReport& r) override {
    reinterpret_cast<std::promise<EventOutcome>*>(cookie)->set_value(r.outcome);
  }
};
PromiseSink g_sink;

bool WaitFor(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::vector<LineSpec> OneLine() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

// Accept, reserve, pick, ship: CreateSalesOrder (1), ConfirmAllocation (2),
// PostGoodsIssue (3), CreateInvoice (4).
std::vector<EnvelopeSpec> Lifecycles(const std::string& prefix, int orders) {
  std::vector<EnvelopeSpec> out;
  for (int i = 0; i < orders; ++i) {
    const std::string o = prefix + std::to_string(i);
    out.push_back(Accepted(o, o + "-e1", OneLine()));
    out.push_back(Reserved(o, o + "-e2", "R-" + o, OneLine()));
    out.push_back(Picked(o, o + "-e3", "P-" + o, OneLine()));
    out.push_back(Shipped(o, o + "-e4", "S-" + o, OneLine()));
  }
  return out;
}

// Routing rules sending `kinds` to `target`.
std::string RulesTo(const std::string& target, const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& k : kinds) {
    out += "[[routing.rules]]\ncompany_code = \"*\"\nkind = \"" + k + "\"\ntarget = \"" + target + "\"\n";
  }
  return out;
}

// A target table of an HTTP kind with fast test policies.
std::string HttpTarget(const std::string& name, const std::string& kind, const std::string& base_url,
                       const std::string& ca_file, const std::string& extra_http = "",
                       int consecutive_failures = 1000) {
  return "[erp.targets." + name + "]\nkind = \"" + kind +
         "\"\nrate_per_s = 100000\nburst = 1000\nmax_in_flight = 64\ntimeout_ms = 500\n"
         "[erp.targets." + name + ".retry]\ninitial_backoff_ms = 20\nmax_backoff_ms = 200\n"
         "[erp.targets." + name + ".circuit_breaker]\nconsecutive_failures = " +
         std::to_string(consecutive_failures) + "\nerror_rate_pct = 0\ncooldown_ms = 300\n"
         "[erp.targets." + name + ".http]\nbase_url = \"" + base_url + "\"\nca_file = \"" + ca_file + "\"\n" +
         extra_http + "[erp.targets." + name + ".document]\ncustomer = \"10100001\"\n"
         "company_id = \"6f1e7c1a-0000-4000-8000-000000000001\"\n";
}

class HttpFanOutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TestPki(TestPki::Make());
    ASSERT_TRUE(pki_->ok) << "openssl could not make the test PKI";
  }
  static void TearDownTestSuite() {
    pki_->Remove();
    delete pki_;
  }
  void TearDown() override {
    if (pipeline_ != nullptr) pipeline_->Stop();
    pipeline_.reset();
    for (auto& s : sims_) s->Stop();
  }

  ErpHttpSimulator& StartSim(ErpHttpSimOptions o) {
    o.cert_file = pki_->server_cert;
    o.key_file = pki_->server_key;
    o.threads = 24;
    o.withhold_ms = 1200;  // a lost reply: longer than the targets' timeout_ms (500)
    o.retry_after_s = 1;
    o.latency = "uniform";
    o.latency_us = 300;
    auto sim = ErpHttpSimulator::Start(o);
    EXPECT_TRUE(sim.ok()) << sim.status().ToString();
    sims_.push_back(std::move(sim).value());
    return *sims_.back();
  }

  std::string Secret(const std::string& name, const std::string& value) {
    const std::string path = dir_.path() + "/" + name;
    WriteSecret(path, value);
    return path;
  }

  // The config `serve` would read: engine, store, metrics on an ephemeral port, no admin
  // endpoint or console, and the ERP tables given.
  void Configure(const std::string& erp_toml) {
    const std::string toml =
        "[engine]\npartitions = 8\nworkers = 2\n"
        "[storage]\ndata_dir = \"" + dir_.path() + "/db\"\nblock_cache_mb = 8\nwrite_buffer_mb = 4\n"
        "[ingress]\nack_endpoint = \"tcp://127.0.0.1:*\"\npull_endpoint = \"\"\n"
        "[metrics]\nlisten_address = \"127.0.0.1:0\"\nscan_interval_s = 3600\n"
        "[admin]\nendpoint = \"\"\n[console]\nenabled = false\n" + erp_toml;
    const std::string path = dir_.path() + "/ordersync.toml";
    std::ofstream(path) << toml;
    Result<AppConfig> config = LoadConfigFile(path);
    ASSERT_TRUE(config.ok()) << config.status().ToString() << "\n" << toml;
    config_ = std::move(config).value();
  }

  void Start() {
    PipelineOptions po;
    po.version = "test";
    auto p = Pipeline::Start(config_, po);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pipeline_ = std::move(p).value();
  }
  // serve's SIGTERM, then a new serve on the same data dir; the simulators keep running.
  void Restart() {
    pipeline_->Stop();
    pipeline_.reset();
    Start();
  }

  void SendAll(const std::vector<EnvelopeSpec>& specs) {
    std::vector<std::promise<EventOutcome>> promises(specs.size());
    MilestoneBuilder builder;
    for (size_t i = 0; i < specs.size(); ++i) {
      InboundEvent ev;
      ev.bytes = EventBuffer::Copy(builder.Build(specs[i]));
      ev.sink = &g_sink;
      ev.cookie = reinterpret_cast<uint64_t>(&promises[i]);
      Status s;
      while ((s = pipeline_->engine()->Submit(std::move(ev))).IsBusy()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    for (auto& p : promises) EXPECT_EQ(p.get_future().get(), EventOutcome::kApplied);
  }

  size_t OutboxSize() {
    pipeline_->engine()->Checkpoint().PermitUncheckedError();  // the outbox table shows checkpoints
    size_t n = 0;
    for (auto it = pipeline_->store()->NewIterator(Table::kOutbox, "", ""); it->Valid(); it->Next()) ++n;
    return n;
  }
  bool WaitUntilDrained() {
    return WaitFor([&] {
      const DispatcherStats s = pipeline_->dispatcher()->Stats();
      return s.window == 0 && s.unread == 0 && OutboxSize() == 0;
    });
  }
  TargetStats Target(const std::string& name) {
    for (const TargetStats& t : pipeline_->dispatcher()->Stats().targets) {
      if (t.name == name) return t;
    }
    ADD_FAILURE() << "no target " << name;
    return {};
  }
  std::vector<DeadLetterRecord> DeadLetters() {
    std::vector<DeadLetterRecord> out;
    EXPECT_TRUE(ListDeadLetters(pipeline_->store(), DeadLetterFilter{}, 0, &out).ok());
    return out;
  }

  // The metrics page as `serve` exports it, after `promtool check metrics` passed on it.
  PromSamples ScrapeCheckedByPromtool() {
    auto body = HttpGet("127.0.0.1", pipeline_->observability()->port(), "/metrics", 5000);
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    if (!body.ok()) return {};
    const std::string file = dir_.path() + "/scrape.txt";
    std::ofstream(file) << *body;
    std::string output;
    FILE* p = popen((std::string(PROMTOOL) + " check metrics < " + file + " 2>&1").c_str(), "r");
    char buf[4096];
    size_t n;
    while (p != nullptr && (n = fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
    const int status = p == nullptr ? -1 : pclose(p);
    // promtool reports lint problems (e.g. a counter without _total) with exit status 3.
    EXPECT_EQ(status, 0) << output;
    auto parsed = ParsePromText(*body);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? *parsed : PromSamples{};
  }

  // Every command posted once across the ledgers, each order's commands in sequence
  // (the ledgers merged by posting time), `expected` commands in all.
  static void ExpectPostedOnceInSequence(const std::vector<ErpHttpSimulator*>& sims, size_t expected) {
    std::vector<ErpPosting> all;
    for (ErpHttpSimulator* s : sims) {
      for (ErpPosting& p : s->Ledger()) all.push_back(std::move(p));
      EXPECT_EQ(s->Summary().duplicate_postings, 0u);
    }
    std::map<std::string, int> times;
    for (const ErpPosting& p : all) ++times[p.command_id];
    for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << "posted " << n << " times: " << id;
    EXPECT_EQ(times.size(), expected);
    std::stable_sort(all.begin(), all.end(),
                     [](const ErpPosting& a, const ErpPosting& b) { return a.posted_at_ns < b.posted_at_ns; });
    std::map<std::string, uint64_t> last;
    for (const ErpPosting& p : all) {
      EXPECT_EQ(p.order_cmd_seq, last[p.order_id] + 1) << p.command_id << " posted out of sequence";
      last[p.order_id] = p.order_cmd_seq;
    }
  }

  static TestPki* pki_;
  TempDir dir_;
  AppConfig config_;
  std::vector<std::unique_ptr<ErpHttpSimulator>> sims_;
  std::unique_ptr<Pipeline> pipeline_;
};
TestPki* HttpFanOutTest::pki_ = nullptr;

// SAP S/4HANA (Basic + CSRF, OData $batch, no idempotent create) and a webhook
// (Idempotency-Key): 10 % (SAP) and 20 % (webhook) of replies lost after the ERP committed, 2 % answered 429 with
// Retry-After, and serve restarted with requests in flight. Every command posts once:
// the lost ones are found by read-before-retry (SAP) or replayed by key (webhook).
TEST_F(HttpFanOutTest, SapAndWebhookPostEveryCommandOnceThroughLostRepliesThrottlingAndARestart) {
  ErpHttpSimOptions so;
  so.api = "sap_s4";
  so.auth = "basic";
  so.username = "ORDERSYNC";
  so.password = "s4-secret";
  so.ambiguous_rate = 0.1;
  so.throttle_rate = 0.02;
  so.seed = 7;
  ErpHttpSimulator& sap = StartSim(so);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  wo.ambiguous_rate = 0.2;
  wo.seed = 8;
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"sap\"\n" +
            RulesTo("hook", {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder"}) +
            HttpTarget("sap", "sap_s4", sap.base_url(), pki_->ca_cert, "batch_size = 10\n") +
            "[erp.targets.sap.auth]\nmethod = \"basic\"\nusername = \"ORDERSYNC\"\npassword_file = \"" +
            Secret("s4.pw", "s4-secret") + "\"\n" + HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp",
                                                               pki_->ca_cert));
  Start();
  const int kOrders = 40;
  const std::vector<EnvelopeSpec> events = Lifecycles("SO-", kOrders);
  SendAll(std::vector<EnvelopeSpec>(events.begin(), events.begin() + events.size() / 2));
  // Restart while requests of this run are on their way (60 SAP commands, one per order
  // at a time; lost replies are withheld 1.2 s).
  ASSERT_TRUE(WaitFor([&] { return sap.Summary().base.postings >= 10; }));
  Restart();
  SendAll(std::vector<EnvelopeSpec>(events.begin() + events.size() / 2, events.end()));
  ASSERT_TRUE(WaitUntilDrained());

  ExpectPostedOnceInSequence({&sap, &hook}, kOrders * 4);
  const ErpHttpSimSummary s = sap.Summary();
  EXPECT_GT(s.base.ambiguous_injected, 0u);
  EXPECT_GT(s.lookups, 0u);  // read-before-retry after the lost replies and the restart
  EXPECT_GT(s.csrf_tokens_issued, 0u);
  EXPECT_GT(hook.Summary().replayed + hook.Summary().base.duplicates_received, 0u);
  const TargetStats t = Target("sap");
  EXPECT_EQ(t.dead_lettered, 0u);
  EXPECT_EQ(t.auth_failures, 0u);
  ASSERT_TRUE(t.has_transport_stats);
  EXPECT_GT(t.transport.http_2xx, 0u);
  EXPECT_GT(t.transport.csrf_fetches, 0u);
  EXPECT_TRUE(DeadLetters().empty());

  // The trace shows each attempt's HTTP status and the ERP's document number.
  pipeline_->engine()->Checkpoint().PermitUncheckedError();
  OrderTrace trace;
  ASSERT_TRUE(BuildOrderTrace(pipeline_->store(), 8, "SO-" + std::to_string(kOrders - 1), &trace).ok());
  std::map<std::string, std::string> documents;  // command kind -> document of its final answer
  bool saw_http_status = false;
  for (const TraceStep& step : trace.steps) {
    if (step.kind != "command_acked") continue;
    EXPECT_THAT(step.reason, AnyOf(StartsWith("HTTP "), StartsWith("no HTTP answer (")));
    saw_http_status = true;
    if (step.outcome == "Posted" || step.outcome == "AlreadyPosted") documents[step.command_kind] = step.erp_document_id;
  }
  EXPECT_TRUE(saw_http_status);
  EXPECT_FALSE(documents["CreateSalesOrder"].empty());
  EXPECT_FALSE(documents["CreateInvoice"].empty());
  std::ostringstream text;
  PrintTraceText(trace, 0, text);
  EXPECT_THAT(text.str(), HasSubstr("document " + documents["CreateSalesOrder"]));

  // The connectors' counters reach the metrics page.
  const PromSamples m = ScrapeCheckedByPromtool();
  EXPECT_GT(m.Sum("ordersync_erp_http_responses_total", {{"target", "sap"}, {"class", "2xx"}}), 0);
  EXPECT_GT(m.Sum("ordersync_erp_http_csrf_fetches_total", {{"target", "sap"}}), 0);
  EXPECT_GT(m.Sum("ordersync_erp_http_requests_total", {{"target", "hook"}}), 0);
  EXPECT_EQ(m.Sum("ordersync_erp_auth_failures_total", {{"target", "sap"}}), 0);
}

// Business Central (OAuth client credentials, JSON $batch, and an ERP that accepts a
// second document with the same externalDocumentNumber): with a wrong client secret
// every attempt ends as an auth failure — the circuit opens, the failures are counted
// (metric and alert), nothing is dead-lettered and nothing posts. With the secret fixed
// and serve restarted, every command posts once although 15 % of BC's replies are lost:
// read-before-retry finds them, so no second document appears.
TEST_F(HttpFanOutTest, BusinessCentralAuthFailureOpensTheCircuitWithoutDeadLetteringThenPostsOnce) {
  ErpHttpSimOptions bo;
  bo.api = "d365_bc";
  bo.auth = "oauth2";
  bo.client_id = "ordersync-bc";
  bo.client_secret = "right-secret";
  bo.token_ttl_s = 2;
  bo.ambiguous_rate = 0.15;
  bo.seed = 11;
  ErpHttpSimulator& bc = StartSim(bo);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  wo.seed = 12;
  ErpHttpSimulator& hook = StartSim(wo);
  const std::string secret = Secret("bc.secret", "wrong-secret");
  Configure("[routing]\ndefault_target = \"bc\"\n" +
            RulesTo("hook", {"ConfirmAllocation", "ReleaseAllocation", "CancelSalesOrder", "PostGoodsIssue",
                             "PostInventoryAdjustment"}) +
            HttpTarget("bc", "d365_bc", bc.base_url(), pki_->ca_cert, "batch_size = 10\n") +
            "[erp.targets.bc.auth]\nmethod = \"oauth2_client_secret\"\ntoken_url = \"" + bc.token_url() +
            "\"\nclient_id = \"ordersync-bc\"\nclient_secret_file = \"" + secret + "\"\n" +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert));
  Start();
  const int kOrders = 30;
  SendAll(Lifecycles("BC-", kOrders));
  // Refused credentials: the circuit opens, and its probes keep meeting the refusal.
  ASSERT_TRUE(WaitFor([&] {
    const TargetStats t = Target("bc");
    return t.auth_failures >= 3 && t.circuit_opened >= 2;
  }));
  const TargetStats refused = Target("bc");
  EXPECT_EQ(refused.dead_lettered, 0u);
  EXPECT_EQ(refused.posted, 0u);
  EXPECT_GT(refused.transport.token_failures, 0u);
  EXPECT_TRUE(DeadLetters().empty());
  EXPECT_TRUE(bc.Ledger().empty());
  EXPECT_GT(OutboxSize(), 0u);  // the commands wait in the outbox
  {
    const PromSamples m = ScrapeCheckedByPromtool();
    EXPECT_GE(m.Sum("ordersync_erp_auth_failures_total", {{"target", "bc"}}), 3);
    EXPECT_GE(m.Sum("ordersync_erp_circuit_opened_total", {{"target", "bc"}}), 2);
    EXPECT_GT(m.Sum("ordersync_erp_http_token_failures_total", {{"target", "bc"}}), 0);
  }

  // The operator fixes the secret and restarts serve.
  WriteSecret(secret, "right-secret");
  Restart();
  ASSERT_TRUE(WaitUntilDrained());
  ExpectPostedOnceInSequence({&bc, &hook}, kOrders * 4);
  const ErpHttpSimSummary s = bc.Summary();
  EXPECT_GT(s.base.ambiguous_injected, 0u);
  EXPECT_EQ(s.duplicate_postings, 0u);  // BC would have taken a second document
  const TargetStats t = Target("bc");
  EXPECT_EQ(t.auth_failures, 0u);
  EXPECT_EQ(t.dead_lettered, 0u);
  EXPECT_GT(t.transport.lookups_found, 0u);  // lost replies found, not posted again
  EXPECT_GT(t.transport.token_fetches, 0u);
  EXPECT_GT(t.transport.batches, 0u);
  EXPECT_TRUE(DeadLetters().empty());
}

// A rejection by the ERP (NetSuite's o:errorDetails) dead-letters the command with the
// ERP's own words and blocks the order; the trace shows the 400.
TEST_F(HttpFanOutTest, NetSuiteRejectionIsDeadLetteredWithTheErpsMessage) {
  ErpHttpSimOptions no;
  no.api = "netsuite";
  no.reject_orders = {"NS-1"};
  ErpHttpSimulator& ns = StartSim(no);
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"ns\"\n" + RulesTo("hook", {"ConfirmAllocation", "ReleaseAllocation"}) +
            HttpTarget("ns", "netsuite", ns.base_url(), pki_->ca_cert) +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert));
  Start();
  SendAll(Lifecycles("NS-", 3));
  ASSERT_TRUE(WaitUntilDrained());
  const std::vector<DeadLetterRecord> dead = DeadLetters();
  ASSERT_EQ(dead.size(), 4u);  // NS-1's sales order and, blocked behind it, its other three commands
  EXPECT_EQ(dead[0].order_id, "NS-1");
  EXPECT_EQ(dead[0].reason, "rejected");
  EXPECT_THAT(dead[0].message, HasSubstr("Invalid Field Value"));
  EXPECT_THAT(dead[0].message, Not(StartsWith("HTTP")));  // the ERP's words, as they came
  EXPECT_EQ(Target("ns").rejected, 1u);
  pipeline_->engine()->Checkpoint().PermitUncheckedError();
  OrderTrace trace;
  ASSERT_TRUE(BuildOrderTrace(pipeline_->store(), 8, "NS-1", &trace).ok());
  bool saw = false;
  for (const TraceStep& step : trace.steps) {
    if (step.kind == "command_acked" && step.outcome == "Rejected") {
      saw = true;
      EXPECT_THAT(step.reason, StartsWith("HTTP 400: "));
    }
  }
  EXPECT_TRUE(saw);
  ExpectPostedOnceInSequence({&ns, &hook}, 2 * 4);
}

// 429 with Retry-After: the dispatcher retries the command no sooner than the ERP asked
// (the journal's answer and re-send times show it), and a throttling ERP is no failure
// for the circuit breaker (it opens after one failure here, and stays closed).
TEST_F(HttpFanOutTest, RateLimitedAttemptIsRetriedNoSoonerThanRetryAfterAndKeepsTheCircuitClosed) {
  ErpHttpSimOptions wo;
  wo.api = "webhook";
  wo.throttle_rate = 1.0;  // every request: 429, Retry-After: 1
  ErpHttpSimulator& hook = StartSim(wo);
  Configure("[routing]\ndefault_target = \"hook\"\n" +
            HttpTarget("hook", "webhook", hook.base_url() + "/hooks/erp", pki_->ca_cert, "", 1));
  Start();
  SendAll(Lifecycles("RL-", 1));
  ASSERT_TRUE(WaitFor([&] { return Target("hook").retry_after_delays >= 2; }));
  hook.SetThrottleRate(0);
  ASSERT_TRUE(WaitUntilDrained());
  ExpectPostedOnceInSequence({&hook}, 4);
  const TargetStats t = Target("hook");
  EXPECT_GE(t.rate_limited, 2u);
  EXPECT_EQ(t.circuit_opened, 0u);
  EXPECT_EQ(t.dead_lettered, 0u);
  EXPECT_GE(t.transport.http_429, 2u);
  EXPECT_GE(t.transport.retry_after_waits, 2u);

  pipeline_->engine()->Checkpoint().PermitUncheckedError();
  OrderTrace trace;
  ASSERT_TRUE(BuildOrderTrace(pipeline_->store(), 8, "RL-0", &trace).ok());
  int checked = 0;
  for (size_t i = 0; i < trace.steps.size(); ++i) {
    const TraceStep& answer = trace.steps[i];
    if (answer.kind != "command_acked" || answer.reason.rfind("HTTP 429", 0) != 0) continue;
    for (size_t j = i + 1; j < trace.steps.size(); ++j) {
      const TraceStep& resend = trace.steps[j];
      if (resend.kind != "command_sent" || resend.command_id != answer.command_id) continue;
      EXPECT_GE(resend.at_ns - answer.at_ns, 1'000'000'000 - 5'000'000)  // 1 s, less clock granularity
          << answer.command_id << " re-sent " << (resend.at_ns - answer.at_ns) / 1'000'000 << " ms after a 429";
      ++checked;
      break;
    }
  }
  EXPECT_GE(checked, 2);
}

}  // namespace
}  // namespace ordersync::testing
