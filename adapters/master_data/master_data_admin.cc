#include "adapters/master_data/master_data_admin.h"

namespace ordersync {

nlohmann::json MasterDataChecksJson(const MasterDataCheckOptions& c) {
  return {{"customer", c.customer},
          {"item", c.item},
          {"uom", c.uom},
          {"currency", c.currency},
          {"price", c.price},
          {"credit_hold", c.credit_hold},
          {"price_tolerance_bp", c.price_tolerance_bp},
          {"credit_hold_timeout_s", c.credit_hold_timeout_s}};
}

void RegisterMasterDataAdminCommands(AdminServer* admin, MasterDataStore* store, const MasterDataCheckOptions& checks) {
  const nlohmann::json checks_json = MasterDataChecksJson(checks);
  admin->Register("master_data.status", {"master data: versions, files, counts, last reload, errors", false,
                                         [store, checks_json](const nlohmann::json&) -> Result<nlohmann::json> {
                                           nlohmann::json s = store->StatusJson();
                                           s["checks"] = checks_json;
                                           return s;
                                         }});
  admin->Register("master_data.reload", {"load the master-data files again now (as SIGHUP does)", true,
                                         [store, checks_json](const nlohmann::json&) -> Result<nlohmann::json> {
                                           Status reloaded = store->Reload("admin");
                                           nlohmann::json s = store->StatusJson();
                                           s["checks"] = checks_json;
                                           s["reload"] = {{"ok", reloaded.ok()},
                                                          {"error", reloaded.ok() ? "" : reloaded.message()}};
                                           return s;
                                         }});
}

}  // namespace ordersync
