#include "adapters/metrics/erp_connector_families.h"

#include <algorithm>
#include <string>

#include "adapters/metrics/metric_families.h"

namespace ordersync {
namespace {

// Upper bounds of ErpConnectorStats::batch_size_buckets (1, 2-4, 5-9, 10-19, 20-49, 50+).
constexpr int64_t kBatchSizeBounds[] = {1, 4, 9, 19, 49};

}  // namespace

void AddErpConnectorFamilies(const DispatcherStats& s, std::vector<prometheus::MetricFamily>* out) {
  using prometheus::MetricType;
  std::vector<const TargetStats*> http;
  for (const TargetStats& t : s.targets) {
    if (t.has_transport_stats) http.push_back(&t);
  }
  if (http.empty()) return;
  auto per_target = [&](const char* name, const char* help, MetricType type, auto value) {
    auto& f = AddFamily(out, name, help, type);
    for (const TargetStats* t : http) AddSample(&f, static_cast<double>(value(t->transport)), {{"target", t->name}});
  };
  using S = ErpConnectorStats;
  per_target("ordersync_erp_http_requests_total", "HTTP requests sent to the ERP (token and CSRF fetches included).",
             MetricType::Counter, [](const S& c) { return c.http_requests; });
  {
    auto& f = AddFamily(out, "ordersync_erp_http_responses_total", "HTTP answers of the ERP, by status class.",
                        MetricType::Counter);
    for (const TargetStats* t : http) {
      const S& c = t->transport;
      const std::pair<const char*, uint64_t> classes[] = {
          {"1xx", c.http_1xx}, {"2xx", c.http_2xx}, {"3xx", c.http_3xx}, {"4xx", c.http_4xx}, {"5xx", c.http_5xx}};
      for (const auto& [name, n] : classes) AddSample(&f, static_cast<double>(n), {{"target", t->name}, {"class", name}});
    }
  }
  {
    auto& f = AddFamily(out, "ordersync_erp_http_responses_by_code_total",
                        "HTTP answers of the ERP with a status the dispatcher acts on: 401 and 403 (auth), 429 "
                        "(rate limited), 503 (unavailable).",
                        MetricType::Counter);
    for (const TargetStats* t : http) {
      const S& c = t->transport;
      const std::pair<const char*, uint64_t> codes[] = {
          {"401", c.http_401}, {"403", c.http_403}, {"429", c.http_429}, {"503", c.http_503}};
      for (const auto& [code, n] : codes) AddSample(&f, static_cast<double>(n), {{"target", t->name}, {"code", code}});
    }
  }
  {
    auto& f = AddFamily(out, "ordersync_erp_http_transport_errors_total",
                        "HTTP requests that got no answer: timed out, or the connection failed or broke.",
                        MetricType::Counter);
    for (const TargetStats* t : http) {
      const S& c = t->transport;
      AddSample(&f, static_cast<double>(c.timeouts), {{"target", t->name}, {"kind", "timeout"}});
      AddSample(&f, static_cast<double>(c.transport_errors - std::min(c.transport_errors, c.timeouts)),
                {{"target", t->name}, {"kind", "connection"}});
    }
  }
  per_target("ordersync_erp_http_retry_after_waits_total",
             "Times the target paused for the ERP's Retry-After (429, or 503 with Retry-After).", MetricType::Counter,
             [](const S& c) { return c.retry_after_waits; });
  per_target("ordersync_erp_http_retry_after_wait_seconds_total", "Total pause the ERP asked for with Retry-After.",
             MetricType::Counter, [](const S& c) { return static_cast<double>(c.retry_after_wait_ms) / 1000.0; });
  per_target("ordersync_erp_http_token_fetches_total", "OAuth 2.0 access tokens obtained (the first and refreshes).",
             MetricType::Counter, [](const S& c) { return c.token_fetches; });
  per_target("ordersync_erp_http_token_refreshes_on_401_total", "Token refreshes forced by a 401 answer.",
             MetricType::Counter, [](const S& c) { return c.token_refreshes_on_401; });
  per_target("ordersync_erp_http_token_failures_total", "Token requests that failed (refused or unreachable).",
             MetricType::Counter, [](const S& c) { return c.token_failures; });
  per_target("ordersync_erp_http_csrf_fetches_total", "SAP CSRF tokens fetched.", MetricType::Counter,
             [](const S& c) { return c.csrf_fetches; });
  per_target("ordersync_erp_http_csrf_refetches_on_403_total",
             "CSRF tokens fetched again after a 403 \"CSRF token validation failed\".", MetricType::Counter,
             [](const S& c) { return c.csrf_refetches_on_403; });
  per_target("ordersync_erp_http_batches_total", "OData $batch requests sent.", MetricType::Counter,
             [](const S& c) { return c.batches; });
  {
    auto& f = AddFamily(out, "ordersync_erp_http_batch_size", "Commands per OData $batch request.",
                        MetricType::Histogram);
    for (const TargetStats* t : http) {
      const S& c = t->transport;
      HistogramSnapshot h;
      h.bounds = kBatchSizeBounds;
      for (size_t i = 0; i < 6; ++i) h.counts[i] = c.batch_size_buckets[i];
      h.count = c.batches;
      h.sum = static_cast<int64_t>(c.batched_commands);
      AddHistogram(&f, h, 1.0, {{"target", t->name}});
    }
  }
  per_target("ordersync_erp_http_lookups_total",
             "Look-ups of a command in the ERP started (read-before-retry after an unknown outcome, duplicate "
             "answers, 4xx that may mean already posted).",
             MetricType::Counter, [](const S& c) { return c.lookups; });
  {
    auto& f = AddFamily(out, "ordersync_erp_http_lookup_outcomes_total",
                        "Look-ups by outcome: found (answered AlreadyPosted, no second document), not_found (posted), "
                        "failed (the attempt ends transient).",
                        MetricType::Counter);
    for (const TargetStats* t : http) {
      const S& c = t->transport;
      AddSample(&f, static_cast<double>(c.lookups_found), {{"target", t->name}, {"outcome", "found"}});
      AddSample(&f, static_cast<double>(c.lookups_not_found), {{"target", t->name}, {"outcome", "not_found"}});
      AddSample(&f, static_cast<double>(c.lookups_failed), {{"target", t->name}, {"outcome", "failed"}});
    }
  }
  per_target("ordersync_erp_http_connections_opened_total",
             "TCP/TLS connections opened to the ERP (keep-alive reuse keeps this far below the requests).",
             MetricType::Counter, [](const S& c) { return c.connections_opened; });
  per_target("ordersync_erp_http_requests_in_flight", "HTTP requests on their way to the ERP.", MetricType::Gauge,
             [](const S& c) { return c.requests_in_flight; });
  per_target("ordersync_erp_http_concurrency_limit",
             "Current request limit of the target: http.max_requests, halved by each 429 and grown back gradually.",
             MetricType::Gauge, [](const S& c) { return c.concurrency_limit; });
}

}  // namespace ordersync
