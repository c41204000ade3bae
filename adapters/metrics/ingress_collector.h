// Ingress metrics: the ZeroMQ ingress's IngressStats (adapters/ingress/ingress_stats.h),
// read at scrape time through `read` (e.g. [ingress] { return ingress->Stats(); }), so
// the ingress thread pays nothing beyond its own relaxed counters.
//
//   ordersync_ingress_frames_received_total, ordersync_ingress_batches_received_total{endpoint},
//   ordersync_ingress_events_{accepted,duplicate,busy}_total,
//   ordersync_ingress_events_rejected_total{reason} (every RejectCode name and
//   batch_too_large, all from 0), ordersync_ingress_events_throttled_total{source} (the
//   sources of the startup rate-limit config and "other", all from 0),
//   ordersync_ingress_ack_latency_seconds (histogram),
//   ordersync_ingress_store_errors_total, ordersync_ingress_auth_failures_total,
//   ordersync_ingress_acks_{sent,undeliverable}_total, ordersync_ingress_pending_batches,
//   ordersync_ingress_quarantined_total, ordersync_ingress_quarantine_{dropped,errors}_total
//
// Thread-safety: Collect from any thread; `read` must be callable from any thread.
#pragma once

#include <functional>
#include <memory>

#include <prometheus/collectable.h>

#include "adapters/ingress/ingress_stats.h"

namespace ordersync {

std::shared_ptr<prometheus::Collectable> MakeIngressCollector(std::function<IngressStats()> read);

}  // namespace ordersync
