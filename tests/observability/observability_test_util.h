// Helpers shared by the observability tests: an engine harness with Observability on an
// ephemeral loopback port, scraping it, and running a command with its output.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "adapters/config/app_config.h"
#include "adapters/metrics/observability.h"
#include "adapters/metrics/prom_text.h"
#include "tests/support/engine_harness.h"

namespace ordersync::testing {

// An AppConfig for Observability next to an EngineHarness: ephemeral port, no background
// rescans during the test (it calls ScanOnce itself).
inline AppConfig ObservabilityTestConfig(const EngineOptions& engine) {
  AppConfig c;
  c.engine = engine;
  c.metrics.listen_address = "127.0.0.1:0";
  c.metrics.scan_interval_s = 3600;
  return c;
}

inline PromSamples Scrape(const Observability& obs, std::string* body_out = nullptr) {
  auto body = HttpGet("127.0.0.1", obs.port(), "/metrics", 5000);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  if (!body.ok()) return {};
  if (body_out != nullptr) *body_out = *body;
  auto parsed = ParsePromText(*body);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : PromSamples{};
}

// Runs `command` with sh; returns its exit status and stdout+stderr.
inline int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) output->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace ordersync::testing
