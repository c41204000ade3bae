// ERP fan-out metrics: the OutboxDispatcher's DispatcherStats (adapters/erp/
// outbox_dispatcher.h), read at scrape time through `read` (e.g. [d] { return
// d->Stats(); }); the dispatcher thread pays nothing for them. Per target:
//
//   ordersync_erp_commands_sent_total, ordersync_erp_retries_total,
//   ordersync_erp_acks_total{status = posted | already_posted | transient | rejected},
//   ordersync_erp_attempt_failures_total{reason = timeout | no_connection},
//   ordersync_erp_dead_lettered_total, ordersync_erp_circuit_opened_total,
//   ordersync_erp_auth_failures_total, ordersync_erp_rate_limited_total,
//   ordersync_erp_retry_after_delays_total (HTTP targets; 0 for zmq),
//   ordersync_erp_circuit_state (0 closed, 1 half-open, 2 open), ordersync_erp_in_flight,
//   ordersync_erp_backlog, ordersync_erp_ingress_blocked (1 while events routed there get Busy),
//   ordersync_erp_post_latency_seconds (histogram: attempt sent → ErpAck, any status)
//
// and for the dispatcher as a whole: ordersync_erp_window_commands,
// ordersync_erp_unread_commands, ordersync_erp_acknowledged_total,
// ordersync_erp_blocked_orders, ordersync_erp_stale_acks_total,
// ordersync_erp_partitions_adopted, ordersync_erp_dropped_not_owned_total,
// ordersync_erp_late_answers_ignored_total; and the HTTP targets'
// connector families (erp_connector_families.h: ordersync_erp_http_*).
//
// Thread-safety: Collect from any thread; `read` must be callable from any thread.
#pragma once

#include <functional>
#include <memory>

#include <prometheus/collectable.h>

#include "adapters/erp/outbox_dispatcher.h"

namespace ordersync {

std::shared_ptr<prometheus::Collectable> MakeDispatcherCollector(std::function<DispatcherStats()> read);

// 0 closed, 1 half_open, 2 open (anything else: 2, to be safe).
double CircuitStateValue(const std::string& circuit);

}  // namespace ordersync
