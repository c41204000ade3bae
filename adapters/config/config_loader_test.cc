// LoadConfigString / LoadConfigFile: how each table is read and the errors a wrong
// document gives (key, allowed values, origin and position). Round trips and the
// embedded default: config_round_trip_test.cc.
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

std::string LoadError(std::string_view toml_text, std::string_view origin = "test.toml") {
  Result<AppConfig> r = LoadConfigString(toml_text, origin);
  EXPECT_FALSE(r.ok()) << "loaded without error:\n" << toml_text;
  return r.ok() ? std::string() : r.status().message();
}

TEST(ConfigLoaderTest, UnknownKeyErrorNamesFullKeyAndOrigin) {
  const std::string error = LoadError("[engine]\npartitons = 4\n", "/etc/x.toml");
  EXPECT_THAT(error, HasSubstr("unknown key 'engine.partitons' in /etc/x.toml:2:1"));
  EXPECT_THAT(error, HasSubstr("partitions"));  // lists the valid keys
}

TEST(ConfigLoaderTest, UnknownTopLevelKeyAndTablesAreErrors) {
  EXPECT_THAT(LoadError("partitions = 4\n"), HasSubstr("unknown key 'partitions'"));
  EXPECT_THAT(LoadError("[engin]\npartitions = 4\n"), HasSubstr("unknown table 'engin'"));
  EXPECT_THAT(LoadError("[engine.extra]\nx = 1\n"), HasSubstr("unknown table 'engine.extra'"));
  EXPECT_THAT(LoadError("[[routing.rulez]]\ntarget = \"a\"\n"),
              HasSubstr("unknown table 'routing.rulez'"));
  EXPECT_THAT(LoadError("[log]\nlevel = \"info\"\ncolour = true\n"),
              HasSubstr("unknown key 'log.colour' in test.toml:3:1"));
}

TEST(ConfigLoaderTest, EnumKeysRejectBadValuesNamingKeyAndChoices) {
  EXPECT_THAT(LoadError("[engine]\ndurability = \"sync\"\n"),
              HasSubstr("engine.durability: expected one of \"wal\", \"fsync\", \"none\", "
                        "got \"sync\" (in test.toml:2:14)"));
  EXPECT_THAT(LoadError("[engine]\nbill_on = \"invoice\"\n"),
              HasSubstr("engine.bill_on: expected one of \"ship\", \"delivery\", got \"invoice\""));
  EXPECT_THAT(LoadError("[log]\nlevel = \"verbose\"\n"),
              HasSubstr("log.level: expected one of \"trace\", \"debug\", \"info\", \"warn\", "
                        "\"error\", \"critical\", \"off\", got \"verbose\""));
  EXPECT_THAT(LoadError("[log]\nformat = \"xml\"\n"),
              HasSubstr("log.format: expected one of \"text\", \"json\", got \"xml\""));
  EXPECT_THAT(LoadError("[engine]\ndurability = 1\n"),
              HasSubstr("engine.durability: expected one of \"wal\", \"fsync\", \"none\", got 1"));
}

TEST(ConfigLoaderTest, WrongTypeErrorNamesKeyAndExpectedType) {
  EXPECT_THAT(LoadError("[engine]\npartitions = \"64\"\n"),
              HasSubstr("engine.partitions: expected an integer in 1..65535, got \"64\""));
  EXPECT_THAT(LoadError("[engine]\npartitions = 64.0\n"),
              HasSubstr("engine.partitions: expected an integer in 1..65535, got 64.0"));
  EXPECT_THAT(LoadError("[storage]\ndata_dir = 5\n"),
              HasSubstr("storage.data_dir: expected a non-empty string, got 5"));
  EXPECT_THAT(LoadError("engine = 5\n"), HasSubstr("engine: expected a table ([engine]), got 5"));
  EXPECT_THAT(LoadError("[routing]\nrules = 5\n"),
              HasSubstr("routing.rules: expected an array of tables ([[routing.rules]])"));
}

TEST(ConfigLoaderTest, OutOfRangeErrorNamesKeyAndRange) {
  EXPECT_THAT(LoadError("[engine]\npartitions = 0\n"),
              HasSubstr("engine.partitions: expected an integer in 1..65535, got 0"));
  EXPECT_THAT(LoadError("[engine]\npartitions = 65536\n"),
              HasSubstr("engine.partitions: expected an integer in 1..65535, got 65536"));
  EXPECT_THAT(LoadError("[engine]\nworkers = -1\n"),
              HasSubstr("engine.workers: expected an integer in 0..256, got -1"));
  EXPECT_THAT(LoadError("[engine]\nworkers = 257\n"),
              HasSubstr("engine.workers: expected an integer in 0..256, got 257"));
  EXPECT_THAT(LoadError("[validation]\nmax_message_bytes = 1023\n"),
              HasSubstr("validation.max_message_bytes: expected an integer in 1024..16777216"));
  EXPECT_THAT(LoadError("[validation]\nmax_message_bytes = 16777217\n"),
              HasSubstr("validation.max_message_bytes: expected an integer in 1024..16777216"));
  EXPECT_THAT(LoadError("[storage]\nbloom_bits_per_key = 65\n"),
              HasSubstr("storage.bloom_bits_per_key: expected an integer in 0..64, got 65"));
  EXPECT_THAT(LoadError("[storage]\ndata_dir = \"\"\n"),
              HasSubstr("storage.data_dir: expected a non-empty string, got \"\""));
}

TEST(ConfigLoaderTest, RangeBoundsAreInclusive) {
  Result<AppConfig> loaded = LoadConfigString(
      "[engine]\npartitions = 65535\nworkers = 0\n"
      "[validation]\nmax_message_bytes = 16777216\n",
      "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->engine.partitions, 65535u);
  EXPECT_EQ(loaded->engine.workers, 0u);
  EXPECT_EQ(loaded->engine.validation.max_message_bytes, 16u * 1024 * 1024);
}

TEST(ConfigLoaderTest, ParkTimeoutByKindOverridesOnlyThatKind) {
  Result<AppConfig> loaded = LoadConfigString(
      "[engine]\npark_timeout_s = 300\n"
      "[engine.park_timeout_by_kind_s]\nShipmentDispatched = 3600\n",
      "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->engine.ParkTimeoutSeconds(Milestone::ShipmentDispatched), 3600u);
  EXPECT_EQ(loaded->engine.ParkTimeoutSeconds(Milestone::OrderAccepted), 300u);
  EXPECT_EQ(loaded->engine.ParkTimeoutSeconds(Milestone::DeliveryConfirmed), 300u);
}

TEST(ConfigLoaderTest, ParkTimeoutByUnknownKindIsError) {
  const std::string error =
      LoadError("[engine.park_timeout_by_kind_s]\nOrderAccept = 60\n");
  EXPECT_THAT(error, HasSubstr("unknown key 'engine.park_timeout_by_kind_s.OrderAccept'"));
  EXPECT_THAT(error, HasSubstr("OrderAccepted"));
  EXPECT_THAT(LoadError("[engine.park_timeout_by_kind_s]\nNONE = 60\n"),
              HasSubstr("unknown key 'engine.park_timeout_by_kind_s.NONE'"));
  EXPECT_THAT(LoadError("[engine.park_timeout_by_kind_s]\nPickCompleted = -5\n"),
              HasSubstr("engine.park_timeout_by_kind_s.PickCompleted: expected an integer in "
                        "0..2592000, got -5"));
}

TEST(ConfigLoaderTest, RoutingRulesKeepFileOrderAndOptionalKind) {
  Result<AppConfig> loaded = LoadConfigString(
      "[routing]\ndefault_target = \"\"\n"
      "[[routing.rules]]\ncompany_code = \"DE01\"\nkind = \"CreateInvoice\"\n"
      "target = \"billing-eu\"\n"
      "[[routing.rules]]\ncompany_code = \"*\"\ntarget = \"erp-main\"\n"
      "[erp.targets.billing-eu]\nendpoint = \"tcp://127.0.0.1:7201\"\n"
      "[erp.targets.erp-main]\nendpoint = \"tcp://127.0.0.1:7202\"\n",
      "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const RoutingOptions& routing = loaded->engine.routing;
  EXPECT_EQ(routing.default_target, "");
  ASSERT_EQ(routing.rules.size(), 2u);
  EXPECT_EQ(routing.rules[0].company_code, "DE01");
  EXPECT_TRUE(routing.rules[0].match_kind);
  EXPECT_EQ(routing.rules[0].kind, CommandKind::CreateInvoice);
  EXPECT_EQ(routing.rules[0].target, "billing-eu");
  EXPECT_EQ(routing.rules[1].company_code, "*");
  EXPECT_FALSE(routing.rules[1].match_kind);
  EXPECT_EQ(routing.rules[1].target, "erp-main");
}

TEST(ConfigLoaderTest, RoutingRuleErrorsNameTheRule) {
  EXPECT_THAT(LoadError("[[routing.rules]]\ncompany_code = \"DE01\"\n"),
              HasSubstr("routing.rules[0]: missing required key 'target'"));
  EXPECT_THAT(LoadError("[[routing.rules]]\ncompany_code = \"A\"\ntarget = \"t\"\n"
                        "[[routing.rules]]\ncompany_code = \"B\"\ntarget = \"t\"\n"
                        "kind = \"Invoice\"\n"),
              HasSubstr("routing.rules[1].kind: expected one of \"CreateSalesOrder\", "));
  EXPECT_THAT(LoadError("[[routing.rules]]\ncompany_code = \"A\"\ntarget = \"t\"\nprio = 1\n"),
              HasSubstr("unknown key 'routing.rules[0].prio'"));
  EXPECT_THAT(LoadError("[[routing.rules]]\ncompany_code = \"\"\ntarget = \"t\"\n"),
              HasSubstr("routing.rules[0].company_code: expected a non-empty string"));
}

TEST(ConfigLoaderTest, IngressRateLimitSourcesKeepFileOrderAndNameBadKeys) {
  Result<AppConfig> loaded = LoadConfigString(
      "[ingress]\nack_endpoint = \"tcp://127.0.0.1:*\"\n"
      "[ingress.rate_limit]\ndefault_events_per_s = 100\n"
      "[[ingress.rate_limit.sources]]\nsource = \"WMS-EAST\"\nevents_per_s = 5000\nburst = 9000\n"
      "[[ingress.rate_limit.sources]]\nsource = \"TMS\"\n",
      "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const IngressOptions& in = loaded->ingress;
  EXPECT_EQ(in.ack_endpoint, "tcp://127.0.0.1:*");
  EXPECT_EQ(in.pull_endpoint, "tcp://0.0.0.0:7101");  // untouched default
  EXPECT_EQ(in.rate_limit.default_events_per_s, 100u);
  ASSERT_EQ(in.rate_limit.sources.size(), 2u);
  EXPECT_EQ(in.rate_limit.sources[0].source, "WMS-EAST");
  EXPECT_EQ(in.rate_limit.sources[0].events_per_s, 5000u);
  EXPECT_EQ(in.rate_limit.sources[0].burst, 9000u);
  EXPECT_EQ(in.rate_limit.sources[1].source, "TMS");
  EXPECT_EQ(in.rate_limit.sources[1].events_per_s, 0u);
  EXPECT_THAT(LoadError("[[ingress.rate_limit.sources]]\nevents_per_s = 5\n"),
              HasSubstr("ingress.rate_limit.sources[0]: missing required key 'source'"));
  EXPECT_THAT(LoadError("[ingress]\nmax_frames_per_batch = 0\n"),
              HasSubstr("ingress.max_frames_per_batch: expected an integer in 1..1048576, got 0"));
  EXPECT_THAT(LoadError("[ingress.quarantine]\nmax_entrys = 5\n"),
              HasSubstr("unknown key 'ingress.quarantine.max_entrys'"));
}

TEST(ConfigLoaderTest, MissingFileGivesClearError) {
  Result<AppConfig> loaded = LoadConfigFile("/nonexistent/dir/ordersync.toml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Status::Code::kIOError);
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("cannot open config file '/nonexistent/dir/ordersync.toml': "
                        "No such file or directory"));
}

TEST(ConfigLoaderTest, DirectoryIsNotAConfigFile) {
  Result<AppConfig> loaded = LoadConfigFile("/tmp");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("'/tmp' is a directory"));
}

TEST(ConfigLoaderTest, LoadConfigFileReadsFileAndNamesItInErrors) {
  char path[] = "/tmp/config_loader_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::ofstream(path) << "[storage]\ndata_dir = \"/srv/os\"\n";
  }
  Result<AppConfig> loaded = LoadConfigFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->storage.data_dir, "/srv/os");
  {
    std::ofstream(path) << "[storage]\ndata_dri = \"/srv/os\"\n";
  }
  loaded = LoadConfigFile(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(),
              HasSubstr("unknown key 'storage.data_dri' in " + std::string(path) + ":2:1"));
  std::remove(path);
}

TEST(ConfigLoaderTest, ParseErrorHasLineAndColumn) {
  const std::string error = LoadError("[engine]\npartitions = 4\nworkers = = 2\n", "bad.toml");
  EXPECT_THAT(error, HasSubstr("TOML parse error in bad.toml:3:"));
  EXPECT_THAT(LoadError("[engine]\n[engine]\n", "dup.toml"),
              HasSubstr("TOML parse error in dup.toml:2:"));
}

TEST(ConfigLoaderTest, DumpConfigWritesSectionsInDocumentOrder) {
  const std::string dumped = DumpConfig(AppConfig{});
  const size_t engine = dumped.find("[engine]\n");
  const size_t by_kind = dumped.find("[engine.park_timeout_by_kind_s]\n");
  const size_t routing = dumped.find("[routing]\n");
  const size_t log = dumped.find("[log]\n");
  ASSERT_NE(engine, std::string::npos);
  EXPECT_LT(engine, by_kind);
  EXPECT_LT(by_kind, routing);
  EXPECT_LT(routing, log);
  EXPECT_THAT(dumped, HasSubstr("durability = \"wal\"\n"));
  EXPECT_THAT(dumped, HasSubstr("partitions = 64\n"));
}

TEST(ConfigLoaderTest, ErpTargetsTablesReplaceTheDefaultSet) {
  Result<AppConfig> loaded = LoadConfigString(
      "[routing]\ndefault_target = \"sap-eu\"\n"
      "[[routing.rules]]\ncompany_code = \"US01\"\ntarget = \"d365-us\"\n"
      "[erp.targets.sap-eu]\nendpoint = \"tcp://127.0.0.1:7201\"\nrate_per_s = 200\n"
      "[erp.targets.sap-eu.retry]\nmax_attempts = 5\n"
      "[erp.targets.d365-us]\nendpoint = \"tcp://127.0.0.1:7202\"\n"
      "[erp.targets.d365-us.circuit_breaker]\ncooldown_ms = 100\n",
      "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_EQ(loaded->erp.targets.size(), 2u);
  EXPECT_EQ(loaded->erp.FindTarget("erp"), nullptr);
  const ErpTargetOptions* sap = loaded->erp.FindTarget("sap-eu");
  ASSERT_NE(sap, nullptr);
  EXPECT_EQ(sap->endpoint, "tcp://127.0.0.1:7201");
  EXPECT_EQ(sap->rate_per_s, 200u);
  EXPECT_EQ(sap->retry.max_attempts, 5u);
  EXPECT_EQ(sap->burst, ErpTargetOptions{}.burst);  // unset keys keep their defaults
  const ErpTargetOptions* d365 = loaded->erp.FindTarget("d365-us");
  ASSERT_NE(d365, nullptr);
  EXPECT_EQ(d365->circuit_breaker.cooldown_ms, 100u);
}

TEST(ConfigLoaderTest, RouteToUndefinedErpTargetIsErrorNamingTheKey) {
  EXPECT_THAT(LoadError("[[routing.rules]]\ncompany_code = \"DE01\"\ntarget = \"sap-eu\"\n"),
              HasSubstr("routing.rules[0].target: ERP target 'sap-eu' is not defined"));
  // Defining only other targets drops the default "erp", which the default route names.
  EXPECT_THAT(LoadError("[erp.targets.sap-eu]\nendpoint = \"tcp://127.0.0.1:7201\"\n"),
              HasSubstr("routing.default_target: ERP target 'erp' is not defined"));
  EXPECT_THAT(LoadError("[routing]\ndefault_target = \"\"\n[erp.targets.a]\n"),
              HasSubstr("erp.targets.a: missing required key 'endpoint'"));
}

TEST(ConfigLoaderTest, ErpTargetErrorsNameTheKey) {
  EXPECT_THAT(LoadError("[erp.targets.erp]\nendpoint = \"tcp://x:1\"\nrate_per_s = 0\n"),
              HasSubstr("erp.targets.erp.rate_per_s: expected an integer in 1..10000000, got 0"));
  EXPECT_THAT(LoadError("[erp.targets.erp]\nendpoint = \"tcp://x:1\"\nrate = 5\n"),
              HasSubstr("unknown key 'erp.targets.erp.rate'"));
  EXPECT_THAT(LoadError("[erp.targets.erp]\nendpoint = \"tcp://x:1\"\n"
                        "[erp.targets.erp.retry]\njitter_pct = 101\n"),
              HasSubstr("erp.targets.erp.retry.jitter_pct: expected an integer in 0..100, got 101"));
  EXPECT_THAT(LoadError("[erp.targets.erp]\nendpoint = \"tcp://x:1\"\n"
                        "outbox_high_water = 10\noutbox_low_water = 11\n"),
              HasSubstr("erp.targets.erp.outbox_low_water: 11 is above outbox_high_water 10"));
  EXPECT_THAT(LoadError("[erp]\ntargets = 5\n"), HasSubstr("erp.targets: expected a table"));
}

TEST(ConfigLoaderTest, AdminTableIsRead) {
  Result<AppConfig> loaded =
      LoadConfigString("[admin]\nendpoint = \"\"\ntoken_file = \"/etc/t\"\n", "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->admin.endpoint, "");
  EXPECT_EQ(loaded->admin.token_file, "/etc/t");
}

TEST(ConfigLoaderTest, MetricsAndSloTablesLoadAndCheckRanges) {
  Result<AppConfig> loaded = LoadConfigString(
      "[metrics]\nlisten_address = \"0.0.0.0:9500\"\nscan_interval_s = 5\n"
      "[slo]\nship_to_invoice_s = 1800\n",
      "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->metrics.listen_address, "0.0.0.0:9500");
  EXPECT_EQ(loaded->metrics.scan_interval_s, 5u);
  EXPECT_EQ(loaded->slo.ship_to_invoice_s, 1800u);
  EXPECT_EQ(loaded->slo.order_to_ship_s, SloOptions{}.order_to_ship_s);
  EXPECT_THAT(LoadError("[metrics]\nscan_interval_s = 0\n"),
              HasSubstr("metrics.scan_interval_s: expected an integer in 1..3600, got 0"));
  EXPECT_THAT(LoadError("[metrics]\nlisten_address = \"\"\n"),
              HasSubstr("metrics.listen_address: expected a non-empty string"));
  EXPECT_THAT(LoadError("[slo]\nparked_s = 0\n"), HasSubstr("slo.parked_s: expected an integer in 1..2592000"));
}


TEST(ConfigLoaderTest, MasterDataCheckNeedsItsFile) {
  EXPECT_EQ(LoadError("[master_data.checks]\ncredit_hold = true\n"),
            "master_data.checks.credit_hold: needs master_data.customers (the file it checks against) (in test.toml)");
  EXPECT_EQ(LoadError("[master_data]\ncustomers = \"c.csv\"\n[master_data.checks]\nprice = true\n"),
            "master_data.checks.price: needs master_data.prices (the file it checks against) (in test.toml)");
  Result<AppConfig> ok = LoadConfigString(
      "[master_data]\nitems = \"i.csv\"\n[master_data.checks]\nitem = true\nuom = true\n", "test.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->engine.master_data.uom);
  EXPECT_FALSE(ok->engine.master_data.price);
}

TEST(ConfigLoaderTest, ClusterSectionIsReadAndChecked) {
  Result<AppConfig> ok = LoadConfigString(
      "[cluster]\netcd_endpoints = [\"http://a:2379\", \"http://b:2379\"]\nname = \"east\"\n"
      "node_id = \"n1\"\nlease_ttl_s = 10\nsafety_margin_ms = 2500\n",
      "test.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->cluster.etcd_endpoints, (std::vector<std::string>{"http://a:2379", "http://b:2379"}));
  EXPECT_EQ(ok->cluster.node_id, "n1");
  EXPECT_EQ(ok->cluster.lease_ttl_s, 10u);
  EXPECT_EQ(ok->cluster.poll_interval_ms, ClusterOptions{}.poll_interval_ms);
  EXPECT_THAT(LoadError("[cluster]\netcd_endpoints = []\n"),
              HasSubstr("cluster.etcd_endpoints: expected a non-empty array of non-empty strings"));
  EXPECT_THAT(LoadError("[cluster]\netcd_endpoints = \"http://a:2379\"\n"),
              HasSubstr("cluster.etcd_endpoints: expected a non-empty array"));
  EXPECT_THAT(LoadError("[cluster]\netcd_endpoints = [\"a:2379\"]\n"),
              HasSubstr("cluster.etcd_endpoints: 'a:2379' is not an etcd client URL"));
  EXPECT_THAT(LoadError("[cluster]\nnode_id = \"a/b\"\n"), HasSubstr("cluster.node_id: 'a/b' may use only"));
  EXPECT_FALSE(ok->cluster.enabled);
  EXPECT_EQ(ok->cluster.replicas, 3u);
  Result<AppConfig> on = LoadConfigString(
      "[cluster]\nenabled = true\nnode_id = \"n2\"\nnats_urls = [\"nats://a:4222\", \"nats://b:4222\"]\n"
      "stream = \"OS_EAST\"\nsubject_prefix = \"east\"\nreplicas = 1\ncheckpoint_interval_ms = 2000\n",
      "test.toml");
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_TRUE(on->cluster.enabled);
  EXPECT_EQ(on->cluster.nats_urls, (std::vector<std::string>{"nats://a:4222", "nats://b:4222"}));
  EXPECT_EQ(on->cluster.stream, "OS_EAST");
  EXPECT_EQ(on->cluster.subject_prefix, "east");
  EXPECT_EQ(on->cluster.replicas, 1u);
  EXPECT_EQ(on->cluster.checkpoint_interval_ms, 2000u);
  EXPECT_THAT(LoadError("[cluster]\nenabled = true\n"), HasSubstr("cluster.node_id: required when cluster.enabled"));
  EXPECT_THAT(LoadError("[cluster]\nnats_urls = [\"a:4222\"]\n"), HasSubstr("cluster.nats_urls: 'a:4222' is not a NATS URL"));
  EXPECT_THAT(LoadError("[cluster]\nsubject_prefix = \"a.b\"\n"), HasSubstr("cluster.subject_prefix: 'a.b' may use only"));
  EXPECT_THAT(LoadError("[cluster]\nreplicas = 7\n"), HasSubstr("cluster.replicas: expected an integer in 1..5"));
  EXPECT_THAT(LoadError("[cluster]\nname = \"\"\n"), HasSubstr("cluster.name: expected a non-empty string"));
  EXPECT_THAT(LoadError("[cluster]\nlease_ttl_s = 1\n"), HasSubstr("cluster.lease_ttl_s: expected an integer in 2..600"));
  EXPECT_THAT(LoadError("[cluster]\nlease_ttl_s = 4\nsafety_margin_ms = 2500\n"),
              HasSubstr("cluster.safety_margin_ms: 2500 is more than half of lease_ttl_s"));
  EXPECT_THAT(LoadError("[cluster]\nlease_ttl_s = 3\nsafety_margin_ms = 500\nrequest_timeout_ms = 1500\n"),
              HasSubstr("cluster.request_timeout_ms: 1500 is more than a third of lease_ttl_s"));
}

}  // namespace
}  // namespace ordersync
