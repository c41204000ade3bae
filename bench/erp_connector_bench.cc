// ERP connector throughput: postings/s and CPU per posting of one HttpConnector against
// its HTTPS simulator (forked into a child process, so getrusage of this process is the
// connector's own CPU), at a fixed simulated ERP latency, single requests vs OData
// $batch. Each command is a CreateSalesOrder of its own order, kept max_in_flight deep
// like the dispatcher's window. Results: docs/benchmarks.md ("ERP connectors").
//
//   build/release/bench/erp_connector_bench [--seconds 5] [--latency-ms 20] [--api sap_s4]
//                                           [--batch 50] [--max-requests 8] [--max-in-flight 256]
//
// Without --api every connector runs single, and sap_s4 / d365_bc also with $batch.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "adapters/erp/connectors/connector_test_util.h"
#include "adapters/erp/connectors/sim/erp_http_simulator.h"

namespace ordersync {
namespace {

struct Args {
  double seconds = 5;
  uint32_t latency_ms = 20;
  std::string api;
  uint32_t batch = 50;
  uint32_t max_requests = 8;
  uint32_t max_in_flight = 256;
};

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs one configuration; prints one result line.
int RunOne(const Args& a, const TestPki& pki, const std::string& api, uint32_t batch) {
  int port_pipe[2];
  if (pipe(port_pipe) != 0) return 1;
  const pid_t child = fork();
  if (child == 0) {
    ErpHttpSimOptions so;
    so.api = api;
    so.cert_file = pki.server_cert;
    so.key_file = pki.server_key;
    so.latency_us = a.latency_ms * 1000;
    so.threads = static_cast<int>(a.max_requests) + 8;
    auto sim = ErpHttpSimulator::Start(so);
    int port = sim.ok() ? (*sim)->port() : -1;
    [[maybe_unused]] ssize_t w = write(port_pipe[1], &port, sizeof(port));
    pause();  // until SIGTERM
    _exit(0);
  }
  int port = -1;
  if (read(port_pipe[0], &port, sizeof(port)) != sizeof(port) || port <= 0) return 1;
  ErpTargetOptions t;
  t.name = api;
  t.kind = api;
  t.max_in_flight = a.max_in_flight;
  t.timeout_ms = 10000;
  t.http.transport.base_url = "https://127.0.0.1:" + std::to_string(port) + (api == "webhook" ? "/hook" : "");
  t.http.transport.ca_file = pki.ca_cert;
  t.http.transport.max_requests = a.max_requests;
  t.http.transport.batch_size = batch;
  t.http.document.customer = "C-1000";
  t.http.document.company_id = "6f1e7c1a-0000-4000-8000-000000000001";
  auto c = CreateErpConnector(t);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
    return 1;
  }
  using Clock = std::chrono::steady_clock;
  uint64_t next = 0, posted = 0, failed = 0;
  std::vector<ErpCompletion> out;
  auto post_more = [&] {
    while ((*c)->in_flight() < (*c)->capacity()) {
      const std::string order = "B-" + std::to_string(next++);
      const TestCommand cmd = MakeTestCommand(order, CommandKind::CreateSalesOrder, order, 1);
      if (!(*c)->Post(cmd.buffer, next, false).ok()) break;
    }
  };
  // Warm-up (connections, TLS sessions), then the measured run.
  const auto warm_end = Clock::now() + std::chrono::milliseconds(500);
  while (Clock::now() < warm_end) {
    post_more();
    out.clear();
    (*c)->Poll(&out, 5);
  }
  const double cpu0 = CpuSeconds();
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration<double>(a.seconds);
  while (Clock::now() < end) {
    post_more();
    out.clear();
    (*c)->Poll(&out, 5);
    for (const ErpCompletion& x : out) (x.status == AckStatus::Posted ? posted : failed) += 1;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  const ErpConnectorStats s = (*c)->Stats();
  (*c)->Stop();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  std::printf("%-14s %-7s batch=%-3u max_requests=%-3u max_in_flight=%-4u latency=%ums  %9.0f postings/s  "
              "%7.1f us CPU/posting  requests=%llu connections=%llu failed=%llu\n",
              api.c_str(), batch > 1 ? "$batch" : "single", batch, a.max_requests, a.max_in_flight, a.latency_ms,
              posted / elapsed, posted > 0 ? cpu * 1e6 / posted : 0.0,
              static_cast<unsigned long long>(s.http_requests), static_cast<unsigned long long>(s.connections_opened),
              static_cast<unsigned long long>(failed));
  std::fflush(stdout);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) {
  using namespace ordersync;
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const std::string v = argv[i + 1];
    if (k == "--seconds") a.seconds = std::stod(v);
    else if (k == "--latency-ms") a.latency_ms = std::stoul(v);
    else if (k == "--api") a.api = v;
    else if (k == "--batch") a.batch = std::stoul(v);
    else if (k == "--max-requests") a.max_requests = std::stoul(v);
    else if (k == "--max-in-flight") a.max_in_flight = std::stoul(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  TestPki pki = TestPki::Make();
  if (!pki.ok) {
    std::fprintf(stderr, "openssl could not make the benchmark's PKI\n");
    return 1;
  }
  int rc = 0;
  const std::vector<std::string> apis = a.api.empty()
                                            ? std::vector<std::string>{"netsuite", "sap_s4", "d365_bc", "oracle_fusion", "webhook"}
                                            : std::vector<std::string>{a.api};
  for (const std::string& api : apis) {
    rc |= RunOne(a, pki, api, 1);
    if (api == "sap_s4" || api == "d365_bc") rc |= RunOne(a, pki, api, a.batch);
  }
  pki.Remove();
  return rc;
}
