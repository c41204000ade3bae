// HttpFanOutTest: the fixture of the HTTP fan-out tests (http_fanout_test.cc,
// http_fanout_kinds_test.cc). It wires the dispatcher the way `serve` does: a TOML config
// read by the config loader, the Pipeline (RocksDB store, event log, engine, dispatcher
// with one HttpTargetChannel per HTTP target, metrics endpoint), and `ordersync
// erp-sim`'s HTTPS simulators (ErpHttpSimulator) behind a test CA made with openssl once
// per suite. Helpers submit events and wait for the engine's verdicts, wait for the
// outbox to drain, read the dispatcher's stats and the dead-letter table, scrape the
// metrics page through the real promtool, and check the simulators' ledgers (every
// command posted once, each order's commands in sequence). Waits are generous; nothing
// asserts a timing.
//
// Thread-safety: a gtest fixture; its methods run on the test's thread (the simulators
// and the pipeline run their own threads, and their public methods are thread-safe).
#pragma once

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

class PromiseSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t cookie, const EventReport& r) override {
    reinterpret_cast<std::promise<EventOutcome>*>(cookie)->set_value(r.outcome);
  }
};
inline PromiseSink g_sink;

inline bool WaitFor(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

inline std::vector<LineSpec> OneLine() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

// Accept, reserve, pick, ship: CreateSalesOrder (1), ConfirmAllocation (2),
// PostGoodsIssue (3), CreateInvoice (4).
inline std::vector<EnvelopeSpec> Lifecycles(const std::string& prefix, int orders) {
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
inline std::string RulesTo(const std::string& target, const std::vector<std::string>& kinds) {
  std::string out;
  for (const std::string& k : kinds) {
    out += "[[routing.rules]]\ncompany_code = \"*\"\nkind = \"" + k + "\"\ntarget = \"" + target + "\"\n";
  }
  return out;
}

// A target table of an HTTP kind with fast test policies.
inline std::string HttpTarget(const std::string& name, const std::string& kind, const std::string& base_url,
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

  static inline TestPki* pki_ = nullptr;
  TempDir dir_;
  AppConfig config_;
  std::vector<std::unique_ptr<ErpHttpSimulator>> sims_;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace ordersync::testing
