// End to end: a real Prometheus server (Debian's `prometheus`, on loopback, in a temp
// dir, on a free port) scrapes a running engine's metrics endpoint every second, and its
// HTTP query API returns the business metric the scenario set. Bounded: gives up after
// kDeadline.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/observability/observability_test_util.h"

namespace ordersync::testing {
namespace {

constexpr auto kDeadline = std::chrono::seconds(25);

// A free loopback TCP port (bound, read back, released).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// The Prometheus server process; SIGTERM (then SIGKILL) on destruction.
class PrometheusProcess {
 public:
  PrometheusProcess(const std::string& dir, int port) {
    const std::string config = dir + "/prometheus.yml";
    const std::string log = dir + "/prometheus.log";
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = freopen(log.c_str(), "w", stdout);
      (void)f;
      dup2(fileno(stdout), STDERR_FILENO);
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
      const std::string tsdb = "--storage.tsdb.path=" + dir + "/tsdb";
      const std::string cfg = "--config.file=" + config;
      execl(PROMETHEUS, PROMETHEUS, cfg.c_str(), listen.c_str(), tsdb.c_str(), "--log.level=warn",
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

TEST(PrometheusEndToEndTest, ServerScrapesEngineAndAnswersBusinessMetricQuery) {
  ASSERT_EQ(access(PROMETHEUS, X_OK), 0) << "prometheus not installed (scripts/bootstrap installs it)";
  EngineHarness harness;
  const AppConfig config = ObservabilityTestConfig(harness.options());
  auto obs = Observability::Start(config, &harness.engine(), &harness.store(), "e2e", &harness.clock());
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();

  // One shipment that the ERP has not acknowledged yet.
  for (const auto& r : harness.SendAll({Accepted("SO-E", "e1", {{1, "SKU-1", 3}}),
                                        Reserved("SO-E", "e2", "RES-1", {{1, "SKU-1", 3}}),
                                        Picked("SO-E", "e3", "PCK-1", {{1, "SKU-1", 3}}),
                                        Shipped("SO-E", "e4", "SHP-1", {{1, "SKU-1", 3}})})) {
    ASSERT_EQ(r.outcome, EventOutcome::kApplied) << r.reason;
  }
  ASSERT_TRUE((*obs)->scanner()->ScanOnce().ok());

  TempDir dir;
  const int prom_port = FreePort();
  ASSERT_GT(prom_port, 0);
  std::ofstream(dir.path() + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: ordersync\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << (*obs)->port() << "']\n";
  PrometheusProcess prometheus(dir.path(), prom_port);

  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  std::string answer;
  bool found = false;
  while (std::chrono::steady_clock::now() < deadline && !found) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    ASSERT_TRUE(prometheus.running()) << "prometheus exited; log in " << dir.path();
    auto body = HttpGet("127.0.0.1", prom_port, "/api/v1/query?query=ordersync_shipments_pending_erp_posting", 2000);
    if (!body.ok()) continue;  // not up yet
    answer = *body;
    found = answer.find("\"job\":\"ordersync\"") != std::string::npos;
  }
  ASSERT_TRUE(found) << "no sample within " << kDeadline.count() << " s; last answer: " << answer;
  EXPECT_THAT(answer, ::testing::HasSubstr("\"status\":\"success\""));
  EXPECT_THAT(answer, ::testing::ContainsRegex("\"value\":\\[[0-9.]+,\"1\"\\]"));

  auto up = HttpGet("127.0.0.1", prom_port, "/api/v1/query?query=up%7Bjob%3D%22ordersync%22%7D", 2000);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_THAT(*up, ::testing::ContainsRegex("\"value\":\\[[0-9.]+,\"1\"\\]"));
  (*obs)->Stop();
}

}  // namespace
}  // namespace ordersync::testing
