// DumpConfig and the embedded default: every Options field survives TOML -> AppConfig ->
// TOML, the shipped configs/ordersync.toml equals the compiled-in defaults and documents
// every key. (Load errors: config_loader_test.cc.)
#include "adapters/config/config_loader.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <toml++/toml.h>

namespace ordersync {
namespace {

using ::testing::HasSubstr;

// Field by field, so a mismatch names the field. A new Options field must be added here,
// to the Visit functions in config_loader.cc and to configs/ordersync.toml;
// DumpConfigRoundTripsEveryKey fails until the first two agree.
void ExpectSameConfig(const AppConfig& a, const AppConfig& b) {
  const EngineOptions& e = a.engine;
  const EngineOptions& f = b.engine;
  EXPECT_EQ(e.partitions, f.partitions);
  EXPECT_EQ(e.workers, f.workers);
  EXPECT_EQ(e.partition_queue_capacity, f.partition_queue_capacity);
  EXPECT_EQ(e.priority_reserve, f.priority_reserve);
  EXPECT_EQ(e.max_batch_events, f.max_batch_events);
  EXPECT_EQ(e.group_commit_window_us, f.group_commit_window_us);
  EXPECT_EQ(e.durability, f.durability);
  EXPECT_EQ(e.bill_on, f.bill_on);
  EXPECT_EQ(e.order_cache_capacity, f.order_cache_capacity);
  EXPECT_EQ(e.dedup_cache_capacity, f.dedup_cache_capacity);
  EXPECT_EQ(e.dedup_window_s, f.dedup_window_s);
  EXPECT_EQ(e.order_retention_s, f.order_retention_s);
  EXPECT_EQ(e.journal, f.journal);
  EXPECT_EQ(e.park_timeout_s, f.park_timeout_s);
  EXPECT_EQ(e.park_timeout_by_kind_s, f.park_timeout_by_kind_s);
  EXPECT_EQ(e.routing.default_target, f.routing.default_target);
  ASSERT_EQ(e.routing.rules.size(), f.routing.rules.size());
  for (size_t i = 0; i < e.routing.rules.size(); ++i) {
    SCOPED_TRACE("routing.rules[" + std::to_string(i) + "]");
    EXPECT_EQ(e.routing.rules[i].company_code, f.routing.rules[i].company_code);
    EXPECT_EQ(e.routing.rules[i].match_kind, f.routing.rules[i].match_kind);
    if (e.routing.rules[i].match_kind) {
      EXPECT_EQ(e.routing.rules[i].kind, f.routing.rules[i].kind);
    }
    EXPECT_EQ(e.routing.rules[i].target, f.routing.rules[i].target);
  }
  EXPECT_EQ(e.validation.max_message_bytes, f.validation.max_message_bytes);
  EXPECT_EQ(e.validation.max_lines, f.validation.max_lines);
  EXPECT_EQ(a.storage.data_dir, b.storage.data_dir);
  EXPECT_EQ(a.storage.block_cache_mb, b.storage.block_cache_mb);
  EXPECT_EQ(a.storage.write_buffer_mb, b.storage.write_buffer_mb);
  EXPECT_EQ(a.storage.bloom_bits_per_key, b.storage.bloom_bits_per_key);
  EXPECT_EQ(a.storage.background_jobs, b.storage.background_jobs);
  const IngressOptions& i = a.ingress;
  const IngressOptions& j = b.ingress;
  EXPECT_EQ(i.ack_endpoint, j.ack_endpoint);
  EXPECT_EQ(i.pull_endpoint, j.pull_endpoint);
  EXPECT_EQ(i.io_threads, j.io_threads);
  EXPECT_EQ(i.max_frames_per_batch, j.max_frames_per_batch);
  EXPECT_EQ(i.max_pending_batches, j.max_pending_batches);
  EXPECT_EQ(i.busy_retry_after_ms, j.busy_retry_after_ms);
  EXPECT_EQ(i.store_error_retry_after_ms, j.store_error_retry_after_ms);
  EXPECT_EQ(i.high_water_mark, j.high_water_mark);
  EXPECT_EQ(i.curve_secret_key_file, j.curve_secret_key_file);
  EXPECT_EQ(i.curve_authorized_keys_dir, j.curve_authorized_keys_dir);
  EXPECT_EQ(i.rate_limit.global_events_per_s, j.rate_limit.global_events_per_s);
  EXPECT_EQ(i.rate_limit.global_burst, j.rate_limit.global_burst);
  EXPECT_EQ(i.rate_limit.default_events_per_s, j.rate_limit.default_events_per_s);
  EXPECT_EQ(i.rate_limit.default_burst, j.rate_limit.default_burst);
  EXPECT_EQ(i.rate_limit.max_tracked_sources, j.rate_limit.max_tracked_sources);
  ASSERT_EQ(i.rate_limit.sources.size(), j.rate_limit.sources.size());
  for (size_t k = 0; k < i.rate_limit.sources.size(); ++k) {
    SCOPED_TRACE("ingress.rate_limit.sources[" + std::to_string(k) + "]");
    EXPECT_EQ(i.rate_limit.sources[k].source, j.rate_limit.sources[k].source);
    EXPECT_EQ(i.rate_limit.sources[k].events_per_s, j.rate_limit.sources[k].events_per_s);
    EXPECT_EQ(i.rate_limit.sources[k].burst, j.rate_limit.sources[k].burst);
  }
  EXPECT_EQ(i.quarantine.max_entries, j.quarantine.max_entries);
  EXPECT_EQ(i.quarantine.max_bytes, j.quarantine.max_bytes);
  EXPECT_EQ(i.quarantine.max_frame_bytes, j.quarantine.max_frame_bytes);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.log.format, b.log.format);
  EXPECT_EQ(a.log.rate_limit_per_s, b.log.rate_limit_per_s);
  EXPECT_EQ(a.log.rate_limit_burst, b.log.rate_limit_burst);
  EXPECT_EQ(a.metrics.enabled, b.metrics.enabled);
  EXPECT_EQ(a.metrics.listen_address, b.metrics.listen_address);
  EXPECT_EQ(a.metrics.scan_interval_s, b.metrics.scan_interval_s);
  EXPECT_EQ(a.metrics.scan_max_entries, b.metrics.scan_max_entries);
  EXPECT_EQ(a.slo.order_to_ship_s, b.slo.order_to_ship_s);
  EXPECT_EQ(a.slo.ship_to_invoice_s, b.slo.ship_to_invoice_s);
  EXPECT_EQ(a.slo.parked_s, b.slo.parked_s);
  EXPECT_EQ(a.slo.outbox_age_s, b.slo.outbox_age_s);
  EXPECT_EQ(a.slo.inventory_sync_s, b.slo.inventory_sync_s);
  EXPECT_EQ(a.metrics.kpi_scan_interval_s, b.metrics.kpi_scan_interval_s);
  EXPECT_EQ(a.metrics.kpi_window_s, b.metrics.kpi_window_s);
  EXPECT_EQ(a.metrics.recovery_normal_backlog, b.metrics.recovery_normal_backlog);
  EXPECT_EQ(a.master_data.customers, b.master_data.customers);
  EXPECT_EQ(a.master_data.items, b.master_data.items);
  EXPECT_EQ(a.master_data.prices, b.master_data.prices);
  EXPECT_EQ(a.master_data.watch_interval_ms, b.master_data.watch_interval_ms);
  EXPECT_EQ(a.master_data.max_errors, b.master_data.max_errors);
  const MasterDataCheckOptions& m = a.engine.master_data;
  const MasterDataCheckOptions& n = b.engine.master_data;
  EXPECT_EQ(std::tie(m.customer, m.item, m.uom, m.currency, m.price, m.credit_hold),
            std::tie(n.customer, n.item, n.uom, n.currency, n.price, n.credit_hold));
  EXPECT_EQ(m.price_tolerance_bp, n.price_tolerance_bp);
  EXPECT_EQ(m.credit_hold_timeout_s, n.credit_hold_timeout_s);
  EXPECT_EQ(a.reconcile.margin_s, b.reconcile.margin_s);
  EXPECT_EQ(a.cluster.etcd_endpoints, b.cluster.etcd_endpoints);
  EXPECT_EQ(a.cluster.name, b.cluster.name);
  EXPECT_EQ(a.cluster.node_id, b.cluster.node_id);
  EXPECT_EQ(a.cluster.lease_ttl_s, b.cluster.lease_ttl_s);
  EXPECT_EQ(a.cluster.safety_margin_ms, b.cluster.safety_margin_ms);
  EXPECT_EQ(a.cluster.request_timeout_ms, b.cluster.request_timeout_ms);
  EXPECT_EQ(a.cluster.poll_interval_ms, b.cluster.poll_interval_ms);
  EXPECT_EQ(a.cluster.enabled, b.cluster.enabled);
  EXPECT_EQ(a.cluster.nats_urls, b.cluster.nats_urls);
  EXPECT_EQ(a.cluster.stream, b.cluster.stream);
  EXPECT_EQ(a.cluster.subject_prefix, b.cluster.subject_prefix);
  EXPECT_EQ(a.cluster.replicas, b.cluster.replicas);
  EXPECT_EQ(a.cluster.checkpoint_interval_ms, b.cluster.checkpoint_interval_ms);
  ASSERT_EQ(a.reconcile.schedules.size(), b.reconcile.schedules.size());
  for (size_t i = 0; i < a.reconcile.schedules.size(); ++i) {
    const ReconcileScheduleOptions& r = a.reconcile.schedules[i];
    const ReconcileScheduleOptions& q = b.reconcile.schedules[i];
    SCOPED_TRACE("reconcile.schedule." + r.target);
    EXPECT_EQ(std::tie(r.target, r.interval_s, r.lookback_s, r.settle_s, r.source, r.export_path),
              std::tie(q.target, q.interval_s, q.lookback_s, q.settle_s, q.source, q.export_path));
  }
  EXPECT_EQ(a.erp.read_ahead_per_partition, b.erp.read_ahead_per_partition);
  ASSERT_EQ(a.erp.targets.size(), b.erp.targets.size());
  for (size_t i = 0; i < a.erp.targets.size(); ++i) {
    const ErpTargetOptions& t = a.erp.targets[i];
    const ErpTargetOptions& u = b.erp.targets[i];
    SCOPED_TRACE("erp.targets." + t.name);
    EXPECT_EQ(t.name, u.name);
    EXPECT_EQ(t.kind, u.kind);  // HTTP target fields: erp_http_config_test.cc
    EXPECT_EQ(t.endpoint, u.endpoint);
    EXPECT_EQ(t.rate_per_s, u.rate_per_s);
    EXPECT_EQ(t.burst, u.burst);
    EXPECT_EQ(t.max_in_flight, u.max_in_flight);
    EXPECT_EQ(t.timeout_ms, u.timeout_ms);
    EXPECT_EQ(t.outbox_high_water, u.outbox_high_water);
    EXPECT_EQ(t.outbox_low_water, u.outbox_low_water);
    EXPECT_EQ(t.retry.initial_backoff_ms, u.retry.initial_backoff_ms);
    EXPECT_EQ(t.retry.max_backoff_ms, u.retry.max_backoff_ms);
    EXPECT_EQ(t.retry.multiplier_pct, u.retry.multiplier_pct);
    EXPECT_EQ(t.retry.jitter_pct, u.retry.jitter_pct);
    EXPECT_EQ(t.retry.max_attempts, u.retry.max_attempts);
    EXPECT_EQ(t.retry.max_age_s, u.retry.max_age_s);
    EXPECT_EQ(t.circuit_breaker.consecutive_failures, u.circuit_breaker.consecutive_failures);
    EXPECT_EQ(t.circuit_breaker.error_rate_pct, u.circuit_breaker.error_rate_pct);
    EXPECT_EQ(t.circuit_breaker.window, u.circuit_breaker.window);
    EXPECT_EQ(t.circuit_breaker.cooldown_ms, u.circuit_breaker.cooldown_ms);
    EXPECT_EQ(t.circuit_breaker.half_open_probes, u.circuit_breaker.half_open_probes);
  }
  EXPECT_EQ(a.admin.endpoint, b.admin.endpoint);
  EXPECT_EQ(a.admin.token_file, b.admin.token_file);
  EXPECT_EQ(a.console.enabled, b.console.enabled);
  EXPECT_EQ(a.console.listen, b.console.listen);
  EXPECT_EQ(a.console.sample_interval_s, b.console.sample_interval_s);
  EXPECT_EQ(a.console.history_s, b.console.history_s);
  EXPECT_EQ(a.edi_ingress.inbox_dir, b.edi_ingress.inbox_dir);
  EXPECT_EQ(a.edi_ingress.outbox_dir, b.edi_ingress.outbox_dir);
  EXPECT_EQ(a.edi_ingress.poll_interval_ms, b.edi_ingress.poll_interval_ms);
  EXPECT_EQ(a.edi_ingress.max_file_bytes, b.edi_ingress.max_file_bytes);
  EXPECT_EQ(a.edi_ingress.accept_unknown_partners, b.edi_ingress.accept_unknown_partners);
  EXPECT_EQ(a.edi_ingress.functional_acks, b.edi_ingress.functional_acks);
  EXPECT_EQ(a.http_ingress.enabled, b.http_ingress.enabled);
  EXPECT_EQ(a.http_ingress.listen, b.http_ingress.listen);
  EXPECT_EQ(a.http_ingress.token_file, b.http_ingress.token_file);
  EXPECT_EQ(a.http_ingress.max_body_bytes, b.http_ingress.max_body_bytes);
  EXPECT_EQ(a.http_ingress.max_events_per_request, b.http_ingress.max_events_per_request);
  EXPECT_EQ(a.http_ingress.threads, b.http_ingress.threads);
  EXPECT_EQ(a.http_ingress.keep_alive_timeout_s, b.http_ingress.keep_alive_timeout_s);
  ASSERT_EQ(a.edi.partners.size(), b.edi.partners.size());
  for (size_t k = 0; k < a.edi.partners.size(); ++k) {
    const EdiPartnerProfile& p = a.edi.partners[k];
    const EdiPartnerProfile& q = b.edi.partners[k];
    SCOPED_TRACE("edi.partners[" + std::to_string(k) + "]");
    EXPECT_EQ(p.name, q.name);
    EXPECT_EQ(p.isa_qualifier, q.isa_qualifier);
    EXPECT_EQ(p.isa_id, q.isa_id);
    EXPECT_EQ(p.company_code, q.company_code);
    EXPECT_EQ(p.currency, q.currency);
    EXPECT_EQ(p.sku_qualifier, q.sku_qualifier);
    EXPECT_EQ(p.order_ref_qualifier, q.order_ref_qualifier);
    EXPECT_EQ(p.warehouse, q.warehouse);
    EXPECT_EQ(p.uom_map, q.uom_map);
  }
}

// Every leaf key of a TOML document as "dotted.path" -> value text ([[arrays]] indexed).
void CollectLeaves(const toml::table& table, const std::string& prefix,
                   std::map<std::string, std::string>* out) {
  for (const auto& [key, node] : table) {
    const std::string path = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* t = node.as_table()) {
      CollectLeaves(*t, path, out);
    } else if (node.is_array_of_tables()) {
      const toml::array& array = *node.as_array();
      for (size_t i = 0; i < array.size(); ++i) {
        CollectLeaves(*array.get(i)->as_table(), path + "[" + std::to_string(i) + "]", out);
      }
    } else {
      std::ostringstream os;
      os << toml::toml_formatter{node};
      (*out)[path] = os.str();
    }
  }
}

std::map<std::string, std::string> Leaves(std::string_view toml_text) {
  std::map<std::string, std::string> out;
  CollectLeaves(toml::parse(toml_text), "", &out);
  return out;
}

// A config in which every field differs from its default.
AppConfig EveryFieldChanged() {
  AppConfig c;
  c.engine.partitions = 128;
  c.engine.workers = 12;
  c.engine.partition_queue_capacity = 8192;
  c.engine.priority_reserve = 512;
  c.engine.max_batch_events = 256;
  c.engine.group_commit_window_us = 250;
  c.engine.durability = Durability::kFsync;
  c.engine.checkpoint_interval_s = 7;
  c.engine.checkpoint_interval_events = 55555;
  c.engine.bill_on = BillOn::kDelivery;
  c.engine.order_cache_capacity = 1000;
  c.engine.dedup_cache_capacity = 2000;
  c.engine.dedup_window_s = 3600;
  c.engine.order_retention_s = 86400;
  c.engine.journal = false;
  c.engine.park_timeout_s = 60;
  // Index 0 is Milestone::NONE, which has no key.
  for (size_t i = 1; i < kMilestoneKinds; ++i) c.engine.park_timeout_by_kind_s[i] = 100 + i;
  c.engine.routing.default_target = "";
  c.engine.routing.rules.push_back({"DE01", true, CommandKind::CreateInvoice, "billing-eu"});
  c.engine.routing.rules.push_back({"*", false, CommandKind::CreateSalesOrder, "erp_main-2"});
  c.engine.validation.max_message_bytes = 4096;
  c.engine.validation.max_lines = 50;
  c.storage.data_dir = "/var/lib/ordersync \"data\" é";
  c.storage.block_cache_mb = 1024;
  c.storage.write_buffer_mb = 32;
  c.storage.bloom_bits_per_key = 0;
  c.storage.background_jobs = 8;
  c.storage.log_dir = "/var/lib/ordersync-log";
  c.storage.log_segment_mb = 16;
  c.ingress.ack_endpoint = "tcp://127.0.0.1:9100";
  c.ingress.pull_endpoint = "";
  c.ingress.io_threads = 2;
  c.ingress.max_frames_per_batch = 256;
  c.ingress.max_pending_batches = 64;
  c.ingress.busy_retry_after_ms = 5;
  c.ingress.store_error_retry_after_ms = 2500;
  c.ingress.high_water_mark = 5000;
  c.ingress.curve_secret_key_file = "/etc/ordersync/server.key";
  c.ingress.curve_authorized_keys_dir = "/etc/ordersync/producers";
  c.ingress.rate_limit.global_events_per_s = 100000;
  c.ingress.rate_limit.global_burst = 200000;
  c.ingress.rate_limit.default_events_per_s = 5000;
  c.ingress.rate_limit.default_burst = 6000;
  c.ingress.rate_limit.max_tracked_sources = 50;
  c.ingress.rate_limit.sources.push_back({"WMS-EAST", 20000, 0});
  c.ingress.rate_limit.sources.push_back({"TMS \"eu\"", 0, 10});
  c.ingress.quarantine.max_entries = 500;
  c.ingress.quarantine.max_bytes = 1 << 20;
  c.ingress.quarantine.max_frame_bytes = 0;
  c.log.level = "debug";
  c.log.format = "json";
  c.log.rate_limit_per_s = 0;
  c.log.rate_limit_burst = 7;
  c.metrics.enabled = false;
  c.metrics.listen_address = "[::1]:19464";
  c.metrics.scan_interval_s = 30;
  c.metrics.scan_max_entries = 5000;
  c.slo.order_to_ship_s = 172800;
  c.slo.ship_to_invoice_s = 7200;
  c.slo.parked_s = 120;
  c.slo.outbox_age_s = 900;
  c.erp.read_ahead_per_partition = 64;
  ErpTargetOptions& erp = c.erp.targets.at(0);  // the default target "erp", every field changed
  erp.endpoint = "ipc:///run/erp \"a\" é.sock";
  erp.rate_per_s = 50;
  erp.burst = 5;
  erp.max_in_flight = 8;
  erp.timeout_ms = 750;
  erp.outbox_high_water = 1000;
  erp.outbox_low_water = 10;
  erp.retry = {7, 8, 150, 0, 9, 60};
  erp.circuit_breaker = {3, 0, 10, 250, 2};
  erp.kind = "webhook";  // an HTTP kind (its own keys: erp_http_config_test.cc)
  erp.http.transport.base_url = "https://127.0.0.1:1/hook";
  for (const char* name : {"billing-eu", "erp_main-2"}) {
    ErpTargetOptions t;
    t.name = name;
    t.endpoint = std::string("tcp://10.0.0.1:72") + (t.name == "billing-eu" ? "01" : "02");
    c.erp.targets.push_back(t);
  }
  c.admin.endpoint = "tcp://0.0.0.0:7299";
  c.admin.token_file = "/etc/ordersync/admin.token";
  c.console = {false, "10.0.0.5:8443", 5, 3600};
  c.edi_ingress.inbox_dir = "/srv/edi/in";
  c.edi_ingress.outbox_dir = "/srv/edi/out";
  c.edi_ingress.poll_interval_ms = 100;
  c.edi_ingress.max_file_bytes = 1 << 20;
  c.edi_ingress.accept_unknown_partners = true;
  c.edi_ingress.functional_acks = false;
  c.http_ingress.enabled = true;
  c.http_ingress.listen = "0.0.0.0:8080";
  c.http_ingress.token_file = "/etc/ordersync/http.token";
  c.http_ingress.max_body_bytes = 65536;
  c.http_ingress.max_events_per_request = 100;
  c.http_ingress.threads = 2;
  c.http_ingress.keep_alive_timeout_s = 30;
  EdiPartnerProfile partner;
  partner.name = "ACME-3PL";
  partner.isa_qualifier = "ZZ";
  partner.isa_id = "ACME \"3PL\"";
  partner.company_code = "US01";
  partner.currency = "EUR";
  partner.sku_qualifier = "VN";
  partner.order_ref_qualifier = "IA";
  partner.warehouse = "WH-3PL";
  partner.uom_map = {{"CA", "CS"}, {"PC", "EA"}};
  c.edi.partners.push_back(partner);
  c.metrics.kpi_scan_interval_s = 60;
  c.metrics.kpi_window_s = 3600;
  c.metrics.recovery_normal_backlog = 50;
  c.slo.inventory_sync_s = 300;
  c.master_data.customers = "/srv/md/customers.csv";
  c.master_data.items = "/srv/md/items.jsonl";
  c.master_data.prices = "/srv/md/prices.csv";
  c.master_data.watch_interval_ms = 0;
  c.master_data.max_errors = 5;
  c.engine.master_data.customer = c.engine.master_data.item = c.engine.master_data.uom = true;
  c.engine.master_data.currency = c.engine.master_data.price = c.engine.master_data.credit_hold = true;
  c.engine.master_data.price_tolerance_bp = 50;
  c.engine.master_data.credit_hold_timeout_s = 3600;
  c.reconcile.margin_s = 60;
  c.cluster.etcd_endpoints = {"http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379"};
  c.cluster.name = "site-east";
  c.cluster.node_id = "node-1";
  c.cluster.lease_ttl_s = 9;
  c.cluster.safety_margin_ms = 2000;
  c.cluster.request_timeout_ms = 800;
  c.cluster.poll_interval_ms = 250;
  c.cluster.enabled = true;
  c.cluster.nats_urls = {"nats://n1:4222", "tls://n2:4222"};
  c.cluster.stream = "OS_WEST";
  c.cluster.subject_prefix = "west";
  c.cluster.replicas = 5;
  c.cluster.checkpoint_interval_ms = 750;
  // Scheduled reconciles (reconcile_schedule_config_test.cc): one per source, in the
  // order the targets are listed, which the dump keeps.
  c.reconcile.schedules = {{"billing-eu", 600, 7200, 60, "export", "/srv/erp/billing \"eu\".csv"},
                           {"erp", 86400, 30 * 86400, 0, "api", ""}};
  return c;
}

TEST(ConfigLoaderTest, EmbeddedDefaultEqualsDefaultConstructedConfig) {
  Result<AppConfig> loaded = LoadEmbeddedDefault();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectSameConfig(*loaded, AppConfig{});
  EXPECT_EQ(DumpConfig(*loaded), DumpConfig(AppConfig{}));
}

TEST(ConfigLoaderTest, EmbeddedDefaultDocumentsEveryKey) {
  // The loader rejects keys it does not know, so the file has no extra keys; this checks
  // it is not missing any.
  const auto documented = Leaves(EmbeddedDefaultToml());
  for (const auto& [key, value] : Leaves(DumpConfig(AppConfig{}))) {
    EXPECT_TRUE(documented.count(key)) << "configs/ordersync.toml does not set " << key;
  }
}

TEST(ConfigLoaderTest, EmptyDocumentGivesDefaults) {
  Result<AppConfig> loaded = LoadConfigString("", "empty.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ExpectSameConfig(*loaded, AppConfig{});
}

TEST(ConfigLoaderTest, DumpConfigRoundTripsEveryKey) {
  const AppConfig changed = EveryFieldChanged();
  const std::string dumped = DumpConfig(changed);
  Result<AppConfig> loaded = LoadConfigString(dumped, "dump.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString() << "\n" << dumped;
  ExpectSameConfig(*loaded, changed);
  EXPECT_EQ(DumpConfig(*loaded), dumped);

  // Every key the default dump has carries a different value here, so the round trip
  // above exercised each one.
  const auto changed_leaves = Leaves(dumped);
  for (const auto& [key, value] : Leaves(DumpConfig(AppConfig{}))) {
    ASSERT_TRUE(changed_leaves.count(key)) << key;
    EXPECT_NE(changed_leaves.at(key), value) << key << " not changed by EveryFieldChanged()";
  }
}

TEST(ConfigLoaderTest, PartialDocumentKeepsOtherDefaults) {
  Result<AppConfig> loaded = LoadConfigString("[engine]\npartitions = 8\n", "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  AppConfig expected;
  expected.engine.partitions = 8;
  ExpectSameConfig(*loaded, expected);
}

}  // namespace
}  // namespace ordersync
