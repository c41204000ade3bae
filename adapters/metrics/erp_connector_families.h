// Metric families of the HTTP ERP connectors: each HTTP target's ErpConnectorStats
// (adapters/erp/connectors/erp_connector.h), as the dispatcher publishes them in
// TargetStats::transport. Added by the dispatcher collector (dispatcher_collector.h) at
// scrape time; zmq targets have no samples here. Per target (label `target`):
//
//   ordersync_erp_http_requests_total                   every request (token/CSRF fetches too)
//   ordersync_erp_http_responses_total{class}           1xx 2xx 3xx 4xx 5xx
//   ordersync_erp_http_responses_by_code_total{code}    401 403 429 503
//   ordersync_erp_http_transport_errors_total{kind}     timeout | connection (no HTTP answer)
//   ordersync_erp_http_retry_after_waits_total          pauses of the target for a Retry-After
//   ordersync_erp_http_retry_after_wait_seconds_total   their total length
//   ordersync_erp_http_token_fetches_total              OAuth tokens obtained (first and refreshes)
//   ordersync_erp_http_token_refreshes_on_401_total     of which after a 401
//   ordersync_erp_http_token_failures_total             token requests that failed
//   ordersync_erp_http_csrf_fetches_total               SAP CSRF tokens fetched
//   ordersync_erp_http_csrf_refetches_on_403_total      re-fetches after "CSRF token validation failed"
//   ordersync_erp_http_batches_total                    OData $batch requests
//   ordersync_erp_http_batch_size                       histogram: commands per $batch (1, 4, 9, 19, 49, +Inf)
//   ordersync_erp_http_lookups_total                    read-before-retry / duplicate look-ups started
//   ordersync_erp_http_lookup_outcomes_total{outcome}   found | not_found | failed
//   ordersync_erp_http_connections_opened_total         TCP/TLS connections (keep-alive: << requests)
//   ordersync_erp_http_requests_in_flight               gauge
//   ordersync_erp_http_concurrency_limit                gauge: the adaptive request limit (halved by 429s)
//
// Thread-safety: pure functions on caller-owned values.
#pragma once

#include <vector>

#include <prometheus/metric_family.h>

#include "adapters/erp/outbox_dispatcher.h"

namespace ordersync {

// Appends the families above for the targets of `s` that have transport stats.
void AddErpConnectorFamilies(const DispatcherStats& s, std::vector<prometheus::MetricFamily>* out);

}  // namespace ordersync
