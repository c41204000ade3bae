// AppConfig: everything one ordersync process is configured with, one member per TOML
// table family. Each member is the Options struct of the component that owns it, so the
// component's in-class defaults are the process defaults; adapters/config/config_loader.h
// fills an AppConfig from TOML and configs/ordersync.toml documents every field.
//
// Adding a table: add the component's Options member here, then one Visit function and
// one line in VisitAppConfig (adapters/config/config_loader.cc) and the documented keys
// in configs/ordersync.toml. The loader tests catch a missing piece.
//
// Thread-safety: plain values; copy freely, share read-only.
#pragma once

#include <string>

#include "adapters/admin/admin_options.h"
#include "adapters/cluster/cluster_options.h"
#include "adapters/console/console_options.h"
#include "adapters/edi/edi_options.h"
#include "adapters/erp/erp_options.h"
#include "adapters/http/http_options.h"
#include "adapters/ingress/ingress_options.h"
#include "adapters/master_data/master_data_options.h"
#include "adapters/metrics/metrics_options.h"
#include "adapters/reconcile/reconcile_options.h"
#include "adapters/storage/storage_options.h"
#include "engine/engine_options.h"

namespace ordersync {

// How the process logs (adapters/cli/logging.h). Not reloadable.
struct LogOptions {
  // Least severe level written: trace, debug, info, warn, error, critical or off.
  // Default: "info".
  std::string level = "info";
  // "text": one human-readable line per record. "json": one JSON object per line
  // (ts, level, msg) for log shippers. Default: "text".
  std::string format = "text";
  // Lines about events (rejected frames, exceptions, dead letters; adapters/metrics/
  // event_log.h) per second, per message kind; beyond it lines are suppressed and
  // summarised ("suppressed N messages"). 0 = unlimited. Default: 20.
  uint32_t rate_limit_per_s = 20;
  // Lines of one kind that may be written at once before the rate applies. 0 = one
  // second's worth. Default: 100.
  uint32_t rate_limit_burst = 100;
};

struct AppConfig {
  // [engine], [engine.park_timeout_by_kind_s], [routing], [validation]
  EngineOptions engine;
  // [storage]
  StorageOptions storage;
  // [ingress], [ingress.rate_limit] (with [[ingress.rate_limit.sources]]), [ingress.quarantine]
  IngressOptions ingress;
  // [log]
  LogOptions log;
  // [erp], [erp.targets.<name>] (with .retry, .circuit_breaker)
  ErpOptions erp;
  // [admin]
  AdminOptions admin;
  // [metrics]
  MetricsOptions metrics;
  // [slo]
  SloOptions slo;
  // [console]
  ConsoleOptions console;
  // [ingress.edi]: the EDI inbox transport
  EdiIngressOptions edi_ingress;
  // [ingress.http]: the HTTP/JSON ingress
  HttpIngressOptions http_ingress;
  // [edi] with [[edi.partners]]: trading-partner profiles
  EdiOptions edi;
  // [master_data] (the checks: [master_data.checks] -> engine.master_data)
  MasterDataOptions master_data;
  // [reconcile] (the margin `ordersync reconcile` uses), [reconcile.schedule.<target>]
  // (scheduled reconciles in `serve`)
  ReconcileOptions reconcile;
  // [cluster]: etcd endpoints, cluster name, node id, ownership lease timing
  ClusterOptions cluster;
};

}  // namespace ordersync
