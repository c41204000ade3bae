// MetricsOptions and SloOptions: the [metrics] and [slo] tables of the TOML config, one
// field per key, with the defaults configs/ordersync.toml documents.
//
// The SLO thresholds drive the orders-at-risk and oldest-command gauges computed by the
// store scan (store_scanner.h); the alert rules in configs/prometheus/ordersync-alerts.yml
// use the same defaults (change both together).
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>

namespace ordersync {

struct MetricsOptions {
  // Serve Prometheus metrics at http://<listen_address>/metrics. Default: true.
  bool enabled = true;
  // host:port the metrics endpoint binds. Loopback by default: the endpoint has no
  // authentication, so expose it beyond the host only behind a firewall or a TLS
  // proxy (docs/operations.md). Port 0 picks a free port (logged). Default:
  // "127.0.0.1:9464".
  std::string listen_address = "127.0.0.1:9464";
  // Seconds between scans of the store for the gauges that are not counted on the hot
  // path (outbox/DLQ/exception/quarantine depths, orders at risk, oldest unposted
  // command). Each scan reads those tables once, on its own thread. Shorter is fresher
  // and costs more reads. Default: 10.
  uint32_t scan_interval_s = 10;
  // Most entries one scan reads per table; beyond it the gauges count what was read and
  // ordersync_scan_truncated is 1. Bounds a scan when a queue has run away.
  // Default: 1000000.
  uint64_t scan_max_entries = 1000000;
  // Seconds between scans of the order journals for the synchronisation KPIs
  // (traceability, inventory synchronisation accuracy; adapters/metrics/sync_kpi_scan.h):
  // a heavier pass than the queue scan. Range 10..86400. Default: 300.
  uint32_t kpi_scan_interval_s = 300;
  // The window those KPIs cover (orders whose journal has an entry this recent).
  // Range 60..2592000. Default: 86400 (a day).
  uint64_t kpi_window_s = 86400;
  // Integration recovery time (adapters/metrics/recovery_tracker.h): an outage episode
  // ends once the target's backlog is at most the larger of its level before the episode
  // and this. Range 0..2^40. Default: 0.
  uint64_t recovery_normal_backlog = 0;
};

struct SloOptions {
  // Order accepted (occurred_at) to ERP acknowledgement of the goods issue. Histogram
  // ordersync_order_to_ship_seconds; alert OrderToShipSloBreached. Default: 86400 (1 day).
  uint64_t order_to_ship_s = 86400;
  // Shipment (occurred_at of the event that triggered the invoice) to ERP
  // acknowledgement of the invoice. Histogram ordersync_ship_to_invoice_seconds; alert
  // ShipToInvoiceP95OverSlo. Default: 3600 (1 hour).
  uint64_t ship_to_invoice_s = 3600;
  // An event parked longer than this puts its order at risk (reason "parked"). Keep it
  // below engine.park_timeout_s, after which the event becomes an exception.
  // Default: 300.
  uint64_t parked_s = 300;
  // A command in the outbox (not yet acknowledged by the ERP) longer than this puts its
  // order at risk (reason "outbox"); alert OutboxAgeOverSlo. Default: 600.
  uint64_t outbox_age_s = 600;
  // An InventoryAdjusted fact counts as synchronised when the ERP acknowledged its
  // PostInventoryAdjustment within this many seconds of its occurred_at (gauges
  // ordersync_inventory_sync_accuracy_ratio, ordersync_inventory_adjustments).
  // Default: 900 (15 minutes).
  uint64_t inventory_sync_s = 900;
};

}  // namespace ordersync
