// [erp.targets.<name>] of HTTP kinds: the http/auth/document/companies tables load,
// round-trip through DumpConfig, are refused on zmq targets, and a routing that sends a
// command kind to an ERP that cannot take it is an error at start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/config/config_loader.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

constexpr const char* kSapTarget =
    "[routing]\ndefault_target = \"s4\"\n"
    "[[routing.rules]]\ncompany_code = \"*\"\nkind = \"ConfirmAllocation\"\ntarget = \"wms\"\n"
    "[[routing.rules]]\ncompany_code = \"*\"\nkind = \"ReleaseAllocation\"\ntarget = \"wms\"\n"
    "[[routing.rules]]\ncompany_code = \"*\"\nkind = \"CancelSalesOrder\"\ntarget = \"wms\"\n"
    "[erp.targets.wms]\nendpoint = \"tcp://127.0.0.1:7200\"\n"
    "[erp.targets.s4]\nkind = \"sap_s4\"\ntimeout_ms = 8000\n"
    "[erp.targets.s4.http]\nbase_url = \"https://s4.example.com\"\nca_file = \"/etc/ssl/s4-ca.pem\"\n"
    "max_requests = 4\nbatch_size = 50\n"
    "[erp.targets.s4.auth]\nmethod = \"basic\"\nusername = \"ORDERSYNC\"\npassword_file = \"/etc/ordersync/s4.pw\"\n"
    "[erp.targets.s4.document]\nsales_organization = \"1710\"\nreference_field = \"YY1_OrdersyncId_SDH\"\n"
    "[[erp.targets.s4.companies]]\ncompany_code = \"US01\"\nerp_company = \"1710\"\ncustomer = \"17100001\"\n";

TEST(ErpHttpConfigTest, SapTargetLoadsAndRoundTrips) {
  Result<AppConfig> loaded = LoadConfigString(kSapTarget, "x.toml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const ErpTargetOptions* s4 = loaded->erp.FindTarget("s4");
  ASSERT_NE(s4, nullptr);
  EXPECT_EQ(s4->kind, "sap_s4");
  EXPECT_EQ(s4->http.transport.base_url, "https://s4.example.com");
  EXPECT_EQ(s4->http.transport.batch_size, 50u);
  EXPECT_EQ(s4->http.transport.max_requests, 4u);
  EXPECT_EQ(s4->http.auth.method, "basic");
  EXPECT_EQ(s4->http.document.sales_organization, "1710");
  EXPECT_EQ(s4->http.document.division, "00");  // unset keys keep their defaults
  ASSERT_EQ(s4->http.companies.size(), 1u);
  EXPECT_EQ(s4->http.companies[0].customer, "17100001");
  const std::string dumped = DumpConfig(*loaded);
  Result<AppConfig> again = LoadConfigString(dumped, "dump.toml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << dumped;
  EXPECT_EQ(DumpConfig(*again), dumped);
  // Secrets are paths: the password itself never reaches a dump.
  EXPECT_THAT(dumped, HasSubstr("password_file = \"/etc/ordersync/s4.pw\""));
}

std::string LoadError(const std::string& toml) {
  Result<AppConfig> r = LoadConfigString(toml, "x.toml");
  EXPECT_FALSE(r.ok()) << toml;
  return r.ok() ? "" : r.status().message();
}

TEST(ErpHttpConfigTest, KindTheErpCannotTakeIsAnErrorNamingKindAndFix) {
  EXPECT_THAT(LoadError("[routing]\ndefault_target = \"s4\"\n"
                        "[erp.targets.s4]\nkind = \"sap_s4\"\n[erp.targets.s4.http]\nbase_url = \"https://x\"\n"),
              HasSubstr("erp.targets.s4: routing sends ConfirmAllocation commands of companies no rule names to "
                        "this target, and a sap_s4 target cannot take ConfirmAllocation"));
  EXPECT_THAT(LoadError("[routing]\ndefault_target = \"zmq\"\n"
                        "[[routing.rules]]\ncompany_code = \"DE01\"\ntarget = \"bc\"\n"
                        "[erp.targets.zmq]\nendpoint = \"tcp://127.0.0.1:7200\"\n"
                        "[erp.targets.bc]\nkind = \"d365_bc\"\n[erp.targets.bc.http]\nbase_url = \"https://x\"\n"),
              HasSubstr("company_code 'DE01'"));
}

TEST(ErpHttpConfigTest, HttpKeysOnZmqTargetAndMissingPiecesAreErrors) {
  EXPECT_THAT(LoadError("[erp.targets.erp]\nendpoint = \"tcp://x:1\"\n[erp.targets.erp.http]\nbase_url = \"https://x\"\n"),
              HasSubstr("unknown table 'erp.targets.erp.http'"));
  EXPECT_THAT(LoadError("[routing]\ndefault_target = \"w\"\n[erp.targets.w]\nkind = \"webhook\"\n"),
              HasSubstr("erp.targets.w.http.base_url: required for kind \"webhook\""));
  EXPECT_THAT(LoadError("[routing]\ndefault_target = \"w\"\n[erp.targets.w]\nkind = \"webhook\"\n"
                        "[erp.targets.w.http]\nbase_url = \"https://x\"\n[erp.targets.w.auth]\nmethod = \"oauth2_jwt\"\n"),
              HasSubstr("erp.targets.w.auth.token_url: required by method \"oauth2_jwt\""));
  EXPECT_THAT(LoadError("[erp.targets.erp]\nkind = \"sap\"\n"), HasSubstr("erp.targets.erp.kind"));
}

}  // namespace
}  // namespace ordersync
