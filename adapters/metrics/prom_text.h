// Reading the Prometheus text exposition format (version 0.0.4), and fetching it over
// plain HTTP from a loopback endpoint: what `ordersync status` and the tests use to read
// a running engine's /metrics. Not a general HTTP client (no TLS, no redirects, no
// chunked encoding: prometheus-cpp answers with Content-Length and closes).
//
//   Result<std::string> body = HttpGet("127.0.0.1", 9464, "/metrics", 2000);
//   PromSamples s = ParsePromText(*body);
//   double queued = s.Sum("ordersync_queued_events");
//   double exact  = s.Sum("ordersync_events_duplicate_total", {{"kind", "exact"}});
//
// Thread-safety: pure functions; PromSamples is a plain value.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace ordersync {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromSamples {
  std::vector<PromSample> samples;
  std::map<std::string, std::string> types;  // family name -> counter | gauge | histogram ...

  // Sum of the samples called `name` whose labels include every pair of `match`.
  double Sum(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> match = {}) const;
  bool Has(std::string_view name) const;
  // Distinct values of label `label` among samples called `name`, sorted.
  std::vector<std::string> LabelValues(std::string_view name, std::string_view label) const;
  // Estimated quantile q of histogram `name` (its _bucket samples, summed over other
  // labels matching `match`), as histogram_quantile() does; NaN without samples.
  double Quantile(std::string_view name, double q,
                  std::initializer_list<std::pair<std::string_view, std::string_view>> match = {}) const;
};

// Parses the text format; InvalidArgument names the first bad line.
Result<PromSamples> ParsePromText(std::string_view text);

// GET http://host:port/path; the body of a 200 answer, else an error. `timeout_ms`
// bounds connect and each read.
Result<std::string> HttpGet(const std::string& host, int port, const std::string& path, int timeout_ms);

// Splits "http://host:port/path" (or "host:port") into its parts; path defaults to /metrics.
bool SplitHttpUrl(std::string_view url, std::string* host, int* port, std::string* path);

}  // namespace ordersync
