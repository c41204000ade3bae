// [reconcile] and [reconcile.schedule.<target>]: the margin, scheduled reconciles loaded
// in file order with their defaults, and the errors a wrong schedule gives at start
// (unknown target, empty window, a source the target cannot give, missing export path).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/config/config_loader.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

constexpr const char* kTargets =
    "[routing]\ndefault_target = \"erp\"\n"
    "[erp.targets.erp]\nendpoint = \"tcp://127.0.0.1:7200\"\n"
    "[erp.targets.bc]\nkind = \"d365_bc\"\n[erp.targets.bc.http]\nbase_url = \"https://bc.example.com\"\n"
    "[[routing.rules]]\ncompany_code = \"BC\"\ntarget = \"bc\"\nkind = \"CreateSalesOrder\"\n";

std::string LoadError(const std::string& toml_text) {
  Result<AppConfig> r = LoadConfigString(toml_text, "test.toml");
  EXPECT_FALSE(r.ok()) << "loaded without error:\n" << toml_text;
  return r.ok() ? std::string() : r.status().message();
}

TEST(ReconcileScheduleConfigTest, MarginAloneSchedulesNothing) {
  Result<AppConfig> ok = LoadConfigString("[reconcile]\nmargin_s = 120\n", "t");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->reconcile.margin_s, 120u);
  EXPECT_TRUE(ok->reconcile.schedules.empty());
  EXPECT_EQ(DumpConfig(*ok).find("reconcile.schedule"), std::string::npos) << "no empty header in the dump";
}

TEST(ReconcileScheduleConfigTest, SchedulesLoadInFileOrderWithDefaults) {
  Result<AppConfig> ok = LoadConfigString(std::string(kTargets) +
                                              "[reconcile.schedule.erp]\nexport_path = \"/srv/erp.csv\"\n"
                                              "[reconcile.schedule.bc]\nsource = \"api\"\ninterval_s = 600\n"
                                              "lookback_s = 7200\nsettle_s = 0\n",
                                          "t");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->reconcile.schedules.size(), 2u);
  const ReconcileScheduleOptions& erp = ok->reconcile.schedules[0];
  EXPECT_EQ(erp.target, "erp");
  EXPECT_EQ(erp.source, "export");
  EXPECT_EQ(erp.export_path, "/srv/erp.csv");
  EXPECT_EQ(erp.interval_s, 3600u);
  EXPECT_EQ(erp.lookback_s, 86400u);
  EXPECT_EQ(erp.settle_s, 900u);
  const ReconcileScheduleOptions& bc = ok->reconcile.schedules[1];
  EXPECT_EQ(bc.target, "bc");
  EXPECT_EQ(bc.source, "api");
  EXPECT_EQ(bc.interval_s, 600u);
  EXPECT_EQ(bc.settle_s, 0u);
  // `ordersync config` prints them back, and that loads to the same schedules.
  const std::string dumped = DumpConfig(*ok);
  EXPECT_THAT(dumped, HasSubstr("[reconcile.schedule.erp]\ninterval_s = 3600\nlookback_s = 86400\nsettle_s = 900\n"
                                "source = \"export\"\nexport_path = \"/srv/erp.csv\"\n"));
  Result<AppConfig> again = LoadConfigString(dumped, "dump.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << dumped;
  EXPECT_EQ(DumpConfig(*again), dumped);
}

TEST(ReconcileScheduleConfigTest, WrongSchedulesAreRefusedWithTheKeyAndWhy) {
  const std::string t = kTargets;
  EXPECT_EQ(LoadError(t + "[reconcile.schedule.sap]\nexport_path = \"x.csv\"\n"),
            "reconcile.schedule.sap: ERP target 'sap' is not defined (no [erp.targets.sap] table) (in test.toml)");
  EXPECT_THAT(LoadError(t + "[reconcile.schedule.erp]\nexport_path = \"x.csv\"\ninterval_s = 0\n"),
              HasSubstr("reconcile.schedule.erp.interval_s"));
  EXPECT_THAT(LoadError(t + "[reconcile.schedule.erp]\nexport_path = \"x.csv\"\ninterval_s = 9999999\n"),
              HasSubstr("reconcile.schedule.erp.interval_s"));
  EXPECT_EQ(LoadError(t + "[reconcile.schedule.erp]\nexport_path = \"x.csv\"\nlookback_s = 600\nsettle_s = 900\n"),
            "reconcile.schedule.erp.lookback_s: 600 must exceed settle_s 900 (each run checks now - lookback_s .. "
            "now - settle_s) (in test.toml)");
  EXPECT_EQ(LoadError(t + "[reconcile.schedule.erp]\n"),
            "reconcile.schedule.erp.export_path: required for source \"export\" (the file the ERP drops) (in "
            "test.toml)");
  EXPECT_EQ(LoadError(t + "[reconcile.schedule.erp]\nsource = \"api\"\n"),
            "reconcile.schedule.erp.source: \"api\" needs an HTTP target, and 'erp' is kind \"zmq\" (use source = "
            "\"export\") (in test.toml)");
  EXPECT_THAT(LoadError(t + "[reconcile.schedule.erp]\nsource = \"ftp\"\n"),
              HasSubstr("reconcile.schedule.erp.source: expected one of \"export\", \"api\""));
  EXPECT_THAT(LoadError(t + "[reconcile.schedule.erp]\nexport_path = \"x.csv\"\nintervall_s = 60\n"),
              HasSubstr("unknown key 'reconcile.schedule.erp.intervall_s'"));
  EXPECT_THAT(LoadError(t + "[reconcile.schedule]\nerp = 5\n"), HasSubstr("reconcile.schedule.erp"));
  // The old spelling, never implemented, stays an unknown key.
  EXPECT_THAT(LoadError("[[reconcile.schedules]]\ntarget = \"erp\"\n"), HasSubstr("schedules"));
}

}  // namespace
}  // namespace ordersync
