#include "adapters/config/config_loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

#include <toml++/toml.h>

#include "adapters/config/config_checks.h"
#include "adapters/config/embedded_default.h"
#include "adapters/config/option_names.h"
#include "adapters/config/table_reader.h"
#include "adapters/config/table_writer.h"
#include "adapters/erp/connectors/erp_kind.h"
#include "engine/router.h"

namespace ordersync {
namespace {

// Limits that catch typos and unit mix-ups (ms for s, bytes for MiB) rather than express
// hard engine limits. configs/ordersync.toml states each one next to its key.
constexpr int64_t kMaxQueueEvents = 16 * 1024 * 1024;
constexpr int64_t kMaxCacheEntries = int64_t{1} << 30;
constexpr int64_t kTenYearsS = int64_t{10} * 365 * 24 * 3600;
constexpr int64_t kThirtyDaysS = int64_t{30} * 24 * 3600;
constexpr int64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();

// One Visit function per section. V is TableReader (load) or TableWriter (dump): each
// line below both reads and writes one key, so the two cannot drift apart.

template <typename V>
void VisitEngine(V& v, EngineOptions& o) {
  v.Integer("partitions", o.partitions, 1, 65535);
  v.Integer("workers", o.workers, 0, 256);
  v.Integer("partition_queue_capacity", o.partition_queue_capacity, 1, kMaxQueueEvents);
  v.Integer("priority_reserve", o.priority_reserve, 0, kMaxQueueEvents);
  v.Integer("max_batch_events", o.max_batch_events, 1, 1024 * 1024);
  v.Integer("group_commit_window_us", o.group_commit_window_us, 0, 1000 * 1000);
  v.Enum("durability", o.durability, kDurabilityNames);
  v.Integer("checkpoint_interval_s", o.checkpoint_interval_s, 1, 3600);
  v.Integer("checkpoint_interval_events", o.checkpoint_interval_events, 1000, 100 * 1000 * 1000);
  v.Enum("bill_on", o.bill_on, kBillOnNames);
  v.Integer("order_cache_capacity", o.order_cache_capacity, 1, kMaxCacheEntries);
  v.Integer("dedup_cache_capacity", o.dedup_cache_capacity, 1, kMaxCacheEntries);
  v.Integer("dedup_window_s", o.dedup_window_s, 1, kTenYearsS);
  v.Integer("order_retention_s", o.order_retention_s, 1, kTenYearsS);
  v.Bool("journal", o.journal);
  v.Integer("park_timeout_s", o.park_timeout_s, 1, kThirtyDaysS);
  v.Table("park_timeout_by_kind_s", [&](V& t) {
    for (const EnumName<Milestone>& kind : MilestoneKindNames()) {
      t.Integer(kind.name, o.park_timeout_by_kind_s[static_cast<size_t>(kind.value)], 0,
                kThirtyDaysS);
    }
  });
}

template <typename V>
void VisitRouting(V& v, RoutingOptions& o) {
  v.String("default_target", o.default_target);
  v.TableArray("rules", o.rules, [](V& t, RouteRule& rule) {
    t.String("company_code", rule.company_code, StringRule::kRequired);
    t.String("target", rule.target, StringRule::kRequired);
    t.OptionalEnum("kind", rule.match_kind, rule.kind, CommandKindNames());
  });
}

template <typename V>
void VisitValidation(V& v, ValidatorOptions& o) {
  v.Integer("max_message_bytes", o.max_message_bytes, 1024, 16 * 1024 * 1024);
  v.Integer("max_lines", o.max_lines, 1, 100000);
}

template <typename V>
void VisitStorage(V& v, StorageOptions& o) {
  v.String("data_dir", o.data_dir, StringRule::kNonEmpty);
  v.Integer("block_cache_mb", o.block_cache_mb, 1, 1024 * 1024);
  v.Integer("write_buffer_mb", o.write_buffer_mb, 1, 64 * 1024);
  v.Integer("bloom_bits_per_key", o.bloom_bits_per_key, 0, 64);
  v.Integer("background_jobs", o.background_jobs, 1, 256);
  v.String("log_dir", o.log_dir);
  v.Integer("log_segment_mb", o.log_segment_mb, 1, 4096);
}

template <typename V>
void VisitLog(V& v, LogOptions& o) {
  v.OneOf("level", o.level, kLogLevelNames);
  v.OneOf("format", o.format, kLogFormatNames);
  v.Integer("rate_limit_per_s", o.rate_limit_per_s, 0, 1000000);
  v.Integer("rate_limit_burst", o.rate_limit_burst, 0, 1000000);
}

// [erp.targets.<name>.http], .auth, .document and [[...companies]]: HTTP kinds only (a
// zmq target with these tables is an error: unknown key).
template <typename V>
void VisitHttpTarget(V& v, HttpTargetOptions& o) {
  v.Table("http", [&](V& t) {
    HttpTransportOptions& x = o.transport;
    t.String("base_url", x.base_url, StringRule::kRequired);
    t.String("ca_file", x.ca_file);
    t.String("client_cert_file", x.client_cert_file);
    t.String("client_key_file", x.client_key_file);
    t.Integer("connect_timeout_ms", x.connect_timeout_ms, 1, 600 * 1000);
    t.Integer("max_requests", x.max_requests, 1, 1024);
    t.Bool("http2", x.http2);
    t.Integer("batch_size", x.batch_size, 1, 1000);
    t.Integer("batch_linger_ms", x.batch_linger_ms, 0, 10 * 1000);
    t.Integer("max_retry_after_ms", x.max_retry_after_ms, 1, 3600 * 1000);
  });
  v.Table("auth", [&](V& t) {
    HttpAuthOptions& a = o.auth;
    t.OneOf("method", a.method, kHttpAuthMethodNames);
    t.String("username", a.username);
    t.String("password_file", a.password_file);
    t.String("token_url", a.token_url);
    t.String("client_id", a.client_id);
    t.String("client_secret_file", a.client_secret_file);
    t.String("private_key_file", a.private_key_file);
    t.OneOf("jwt_algorithm", a.jwt_algorithm, kJwtAlgorithmNames);
    t.String("jwt_key_id", a.jwt_key_id);
    t.String("jwt_x5t", a.jwt_x5t);
    t.String("scope", a.scope);
    t.Integer("refresh_before_expiry_s", a.refresh_before_expiry_s, 0, 24 * 3600);
  });
  v.Table("document", [&](V& t) {
    ErpDocumentOptions& d = o.document;
    t.String("sales_organization", d.sales_organization);
    t.String("distribution_channel", d.distribution_channel);
    t.String("division", d.division);
    t.String("sales_order_type", d.sales_order_type);
    t.String("billing_type", d.billing_type);
    t.String("credit_memo_request_type", d.credit_memo_request_type);
    t.String("reference_field", d.reference_field, StringRule::kNonEmpty);
    t.String("plant", d.plant);
    t.String("storage_location", d.storage_location);
    t.String("subsidiary", d.subsidiary);
    t.String("location", d.location);
    t.String("company_id", d.company_id);
    t.String("business_unit", d.business_unit);
    t.String("source_system", d.source_system);
    t.String("transaction_source", d.transaction_source);
    t.String("invoice_type", d.invoice_type);
    t.String("credit_memo_type", d.credit_memo_type);
    t.String("customer", d.customer);
  });
  v.TableArray("companies", o.companies, [](V& t, ErpCompanyMapping& m) {
    t.String("company_code", m.company_code, StringRule::kRequired);
    t.String("erp_company", m.erp_company);
    t.String("customer", m.customer);
    t.String("location", m.location);
  });
}

template <typename V>
void VisitErpTarget(V& v, ErpTargetOptions& o) {
  v.OneOf("kind", o.kind, kErpKindNames);
  const bool http = o.kind != "zmq";
  v.String("endpoint", o.endpoint, http ? StringRule::kAny : StringRule::kRequired);
  v.Integer("rate_per_s", o.rate_per_s, 1, 10 * 1000 * 1000);
  v.Integer("burst", o.burst, 1, 10 * 1000 * 1000);
  v.Integer("max_in_flight", o.max_in_flight, 1, 1000 * 1000);
  v.Integer("timeout_ms", o.timeout_ms, 1, kThirtyDaysS * 1000);
  v.Integer("outbox_high_water", o.outbox_high_water, 1, kMaxUint32);
  v.Integer("outbox_low_water", o.outbox_low_water, 0, kMaxUint32);
  v.Table("retry", [&](V& t) {
    t.Integer("initial_backoff_ms", o.retry.initial_backoff_ms, 1, 3600 * 1000);
    t.Integer("max_backoff_ms", o.retry.max_backoff_ms, 1, 24 * 3600 * 1000);
    t.Integer("multiplier_pct", o.retry.multiplier_pct, 100, 1000);
    t.Integer("jitter_pct", o.retry.jitter_pct, 0, 100);
    t.Integer("max_attempts", o.retry.max_attempts, 0, kMaxUint32);
    t.Integer("max_age_s", o.retry.max_age_s, 0, kThirtyDaysS);
  });
  v.Table("circuit_breaker", [&](V& t) {
    t.Integer("consecutive_failures", o.circuit_breaker.consecutive_failures, 1, 1000 * 1000);
    t.Integer("error_rate_pct", o.circuit_breaker.error_rate_pct, 0, 100);
    t.Integer("window", o.circuit_breaker.window, 1, 1000 * 1000);
    t.Integer("cooldown_ms", o.circuit_breaker.cooldown_ms, 1, 24 * 3600 * 1000);
    t.Integer("half_open_probes", o.circuit_breaker.half_open_probes, 1, 1000);
  });
  if (http) VisitHttpTarget(v, o.http);
}

// [erp.targets] is keyed by target name. LoadConfigString fills `targets` with one entry
// per name in the document first (PrepareErpTargets), so reading and writing both walk
// the same list.
template <typename V>
void VisitErp(V& v, ErpOptions& o) {
  v.Integer("read_ahead_per_partition", o.read_ahead_per_partition, 1, 1024 * 1024);
  v.Table("targets", [&](V& t) {
    for (ErpTargetOptions& target : o.targets) {
      t.Table(target.name, [&](V& x) { VisitErpTarget(x, target); });
    }
  });
}

template <typename V>
void VisitAdmin(V& v, AdminOptions& o) {
  v.String("endpoint", o.endpoint);
  v.String("token_file", o.token_file);
}

template <typename V>
void VisitConsole(V& v, ConsoleOptions& o) {
  v.Bool("enabled", o.enabled);
  v.String("listen", o.listen, StringRule::kNonEmpty);
  v.Integer("sample_interval_s", o.sample_interval_s, 1, 60);
  v.Integer("history_s", o.history_s, 60, 86400);
}

template <typename V>
void VisitMetrics(V& v, MetricsOptions& o) {
  v.Bool("enabled", o.enabled);
  v.String("listen_address", o.listen_address, StringRule::kNonEmpty);
  v.Integer("scan_interval_s", o.scan_interval_s, 1, 3600);
  v.Integer("scan_max_entries", o.scan_max_entries, 1, int64_t{1} << 40);
  v.Integer("kpi_scan_interval_s", o.kpi_scan_interval_s, 10, 86400);
  v.Integer("kpi_window_s", o.kpi_window_s, 60, kThirtyDaysS);
  v.Integer("recovery_normal_backlog", o.recovery_normal_backlog, 0, int64_t{1} << 40);
}

template <typename V>
void VisitSlo(V& v, SloOptions& o) {
  v.Integer("order_to_ship_s", o.order_to_ship_s, 1, kThirtyDaysS);
  v.Integer("ship_to_invoice_s", o.ship_to_invoice_s, 1, kThirtyDaysS);
  v.Integer("parked_s", o.parked_s, 1, kThirtyDaysS);
  v.Integer("outbox_age_s", o.outbox_age_s, 1, kThirtyDaysS);
  v.Integer("inventory_sync_s", o.inventory_sync_s, 1, kThirtyDaysS);
}

template <typename V>
void VisitMasterData(V& v, MasterDataOptions& o, MasterDataCheckOptions& c) {
  v.String("customers", o.customers);
  v.String("items", o.items);
  v.String("prices", o.prices);
  v.Integer("watch_interval_ms", o.watch_interval_ms, 0, 3600 * 1000);
  v.Integer("max_errors", o.max_errors, 1, 100000);
  v.Table("checks", [&](V& t) {
    t.Bool("customer", c.customer);
    t.Bool("item", c.item);
    t.Bool("uom", c.uom);
    t.Bool("currency", c.currency);
    t.Bool("price", c.price);
    t.Bool("credit_hold", c.credit_hold);
    t.Integer("price_tolerance_bp", c.price_tolerance_bp, 0, 10000);
    t.Integer("credit_hold_timeout_s", c.credit_hold_timeout_s, 1, kThirtyDaysS);
  });
}

// [reconcile.schedule] is keyed by target name, like [erp.targets]: LoadConfigString
// fills `schedules` with one entry per name first (PrepareReconcileSchedules). A dump
// without schedules writes no [reconcile.schedule] header.
template <typename V>
void VisitReconcile(V& v, ReconcileOptions& o) {
  v.Integer("margin_s", o.margin_s, 0, 86400);
  if constexpr (std::is_same_v<V, TableWriter>) {
    if (o.schedules.empty()) return;
  }
  v.Table("schedule", [&](V& t) {
    for (ReconcileScheduleOptions& s : o.schedules) {
      t.Table(s.target, [&](V& x) {
        x.Integer("interval_s", s.interval_s, 1, 7 * 24 * 3600);
        x.Integer("lookback_s", s.lookback_s, 1, 90 * 24 * 3600);
        x.Integer("settle_s", s.settle_s, 0, 7 * 24 * 3600);
        x.OneOf("source", s.source, kReconcileSourceNames);
        x.String("export_path", s.export_path);
      });
    }
  });
}

template <typename V>
void VisitCluster(V& v, ClusterOptions& o) {
  v.StringList("etcd_endpoints", o.etcd_endpoints, /*non_empty=*/true);
  v.String("name", o.name, StringRule::kNonEmpty);
  v.String("node_id", o.node_id);
  v.Integer("lease_ttl_s", o.lease_ttl_s, 2, 600);
  v.Integer("safety_margin_ms", o.safety_margin_ms, 100, 300 * 1000);
  v.Integer("request_timeout_ms", o.request_timeout_ms, 50, 60 * 1000);
  v.Integer("poll_interval_ms", o.poll_interval_ms, 50, 60 * 1000);
  v.Bool("enabled", o.enabled);
  v.StringList("nats_urls", o.nats_urls, /*non_empty=*/true);
  v.String("stream", o.stream, StringRule::kNonEmpty);
  v.String("subject_prefix", o.subject_prefix, StringRule::kNonEmpty);
  v.Integer("replicas", o.replicas, 1, 5);
  v.Integer("checkpoint_interval_ms", o.checkpoint_interval_ms, 100, 3600 * 1000);
}

template <typename V>
void VisitRateLimits(V& v, RateLimitOptions& o) {
  v.Integer("global_events_per_s", o.global_events_per_s, 0, kMaxUint32);
  v.Integer("global_burst", o.global_burst, 0, kMaxUint32);
  v.Integer("default_events_per_s", o.default_events_per_s, 0, kMaxUint32);
  v.Integer("default_burst", o.default_burst, 0, kMaxUint32);
  v.Integer("max_tracked_sources", o.max_tracked_sources, 1, 10 * 1000 * 1000);
  v.TableArray("sources", o.sources, [](V& t, SourceRateLimit& s) {
    t.String("source", s.source, StringRule::kRequired);
    t.Integer("events_per_s", s.events_per_s, 0, kMaxUint32);
    t.Integer("burst", s.burst, 0, kMaxUint32);
  });
}

template <typename V>
void VisitIngress(V& v, IngressOptions& o) {
  v.String("ack_endpoint", o.ack_endpoint);
  v.String("pull_endpoint", o.pull_endpoint);
  v.Integer("io_threads", o.io_threads, 1, 64);
  v.Integer("max_frames_per_batch", o.max_frames_per_batch, 1, 1024 * 1024);
  v.Integer("max_pending_batches", o.max_pending_batches, 1, 1024 * 1024);
  v.Integer("busy_retry_after_ms", o.busy_retry_after_ms, 1, 3600 * 1000);
  v.Integer("store_error_retry_after_ms", o.store_error_retry_after_ms, 1, 3600 * 1000);
  v.Integer("high_water_mark", o.high_water_mark, 1, 10 * 1000 * 1000);
  v.String("curve_secret_key_file", o.curve_secret_key_file);
  v.String("curve_authorized_keys_dir", o.curve_authorized_keys_dir);
  v.Table("rate_limit", [&](V& t) { VisitRateLimits(t, o.rate_limit); });
  v.Table("quarantine", [&](V& t) {
    t.Integer("max_entries", o.quarantine.max_entries, 1, int64_t{1} << 40);
    t.Integer("max_bytes", o.quarantine.max_bytes, 1024, int64_t{1} << 50);
    t.Integer("max_frame_bytes", o.quarantine.max_frame_bytes, 0, 16 * 1024 * 1024);
  });
}

template <typename V>
void VisitEdiIngress(V& v, EdiIngressOptions& o) {
  v.String("inbox_dir", o.inbox_dir);
  v.String("outbox_dir", o.outbox_dir);
  v.Integer("poll_interval_ms", o.poll_interval_ms, 1, 3600 * 1000);
  v.Integer("max_file_bytes", o.max_file_bytes, 1024, int64_t{1} << 32);
  v.Bool("accept_unknown_partners", o.accept_unknown_partners);
  v.Bool("functional_acks", o.functional_acks);
}

template <typename V>
void VisitHttpIngress(V& v, HttpIngressOptions& o) {
  v.Bool("enabled", o.enabled);
  v.String("listen", o.listen, StringRule::kNonEmpty);
  v.String("token_file", o.token_file);
  v.Integer("max_body_bytes", o.max_body_bytes, 1024, int64_t{1} << 30);
  v.Integer("max_events_per_request", o.max_events_per_request, 1, 1024 * 1024);
  v.Integer("threads", o.threads, 1, 1024);
  v.Integer("keep_alive_timeout_s", o.keep_alive_timeout_s, 1, 3600);
}

template <typename V>
void VisitEdi(V& v, EdiOptions& o) {
  v.TableArray("partners", o.partners, [](V& t, EdiPartnerProfile& p) {
    t.String("name", p.name, StringRule::kRequired);
    t.String("isa_qualifier", p.isa_qualifier, StringRule::kRequired);
    t.String("isa_id", p.isa_id, StringRule::kRequired);
    t.String("company_code", p.company_code);
    t.String("currency", p.currency, StringRule::kNonEmpty);
    t.String("sku_qualifier", p.sku_qualifier);
    t.String("order_ref_qualifier", p.order_ref_qualifier, StringRule::kNonEmpty);
    t.String("warehouse", p.warehouse);
    t.StringMap("uom_map", p.uom_map);
  });
}

// The whole document, one line per top-level table.
template <typename V>
void VisitAppConfig(V& v, AppConfig& c) {
  v.Table("engine", [&](V& t) { VisitEngine(t, c.engine); });
  v.Table("routing", [&](V& t) { VisitRouting(t, c.engine.routing); });
  v.Table("validation", [&](V& t) { VisitValidation(t, c.engine.validation); });
  v.Table("storage", [&](V& t) { VisitStorage(t, c.storage); });
  v.Table("ingress", [&](V& t) {
    VisitIngress(t, c.ingress);
    t.Table("edi", [&](V& e) { VisitEdiIngress(e, c.edi_ingress); });
    t.Table("http", [&](V& h) { VisitHttpIngress(h, c.http_ingress); });
  });
  v.Table("log", [&](V& t) { VisitLog(t, c.log); });
  v.Table("erp", [&](V& t) { VisitErp(t, c.erp); });
  v.Table("admin", [&](V& t) { VisitAdmin(t, c.admin); });
  v.Table("metrics", [&](V& t) { VisitMetrics(t, c.metrics); });
  v.Table("slo", [&](V& t) { VisitSlo(t, c.slo); });
  v.Table("console", [&](V& t) { VisitConsole(t, c.console); });
  v.Table("edi", [&](V& t) { VisitEdi(t, c.edi); });
  v.Table("master_data", [&](V& t) { VisitMasterData(t, c.master_data, c.engine.master_data); });
  v.Table("reconcile", [&](V& t) { VisitReconcile(t, c.reconcile); });
  v.Table("cluster", [&](V& t) { VisitCluster(t, c.cluster); });
}

// Replaces config->erp.targets with one default target per [erp.targets.<name>] table of
// the document (values are then read by VisitErp), when the document has [erp.targets].
void PrepareErpTargets(const toml::table& doc, AppConfig* config) {
  const toml::table* erp = doc["erp"].as_table();
  const toml::table* targets = erp != nullptr ? (*erp)["targets"].as_table() : nullptr;
  if (targets == nullptr) return;
  // toml++ keeps keys sorted; restore file order so a dump lists targets as written.
  std::vector<std::pair<toml::source_position, std::string>> names;
  for (const auto& [name, node] : *targets) names.emplace_back(node.source().begin, std::string(name.str()));
  std::stable_sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  config->erp.targets.clear();
  for (auto& [position, name] : names) {
    ErpTargetOptions target;
    target.name = std::move(name);
    config->erp.targets.push_back(std::move(target));
  }
}

// Replaces config->reconcile.schedules with one default schedule per
// [reconcile.schedule.<target>] table of the document, in file order.
void PrepareReconcileSchedules(const toml::table& doc, AppConfig* config) {
  const toml::table* reconcile = doc["reconcile"].as_table();
  const toml::table* schedules = reconcile != nullptr ? (*reconcile)["schedule"].as_table() : nullptr;
  if (schedules == nullptr) return;
  std::vector<std::pair<toml::source_position, std::string>> names;
  for (const auto& [name, node] : *schedules) names.emplace_back(node.source().begin, std::string(name.str()));
  std::stable_sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  config->reconcile.schedules.clear();
  for (auto& [position, name] : names) {
    ReconcileScheduleOptions schedule;
    schedule.target = std::move(name);
    config->reconcile.schedules.push_back(std::move(schedule));
  }
}

static_assert(kMaxUint32 >= kMaxCacheEntries, "cache capacities are uint32_t");

}  // namespace

Result<AppConfig> LoadConfigString(std::string_view toml_text, std::string_view origin) {
  try {
    toml::table doc;
    try {
      doc = toml::parse(toml_text, std::string_view(origin));
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument("TOML parse error in " + WhereIs(e.source(), origin) +
                                     ": " + std::string(e.description()));
    }
    AppConfig config;
    PrepareErpTargets(doc, &config);
    PrepareReconcileSchedules(doc, &config);
    ReadContext context{std::string(origin), Status::OK()};
    TableReader root(&doc, "", &context);
    VisitAppConfig(root, config);
    root.Finish();
    if (!context.status.ok()) return context.status;
    ORDERSYNC_RETURN_IF_ERROR(ValidateCrossReferences(config, origin));
    return config;
  } catch (const std::exception& e) {
    return Status::Internal("loading config from " + std::string(origin) + ": " + e.what());
  }
}

Result<AppConfig> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::IOError("config file '" + path + "' is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return Status::IOError("cannot open config file '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status::IOError("cannot read config file '" + path + "': " + std::strerror(errno));
  }
  return LoadConfigString(text.str(), path);
}

std::string_view EmbeddedDefaultToml() { return kEmbeddedDefaultToml; }

Result<AppConfig> LoadEmbeddedDefault() {
  return LoadConfigString(kEmbeddedDefaultToml, kEmbeddedDefaultOrigin);
}

std::string DumpConfig(const AppConfig& config) {
  AppConfig copy = config;  // the Visit functions take mutable references
  TableWriter root("");
  VisitAppConfig(root, copy);
  return root.ToString();
}

}  // namespace ordersync
