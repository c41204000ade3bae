// Admin commands of the master data in a running `serve` (adapters/admin/admin_server.h):
//
//   master_data.status   versions, files, counts, last reload, errors, checks in force
//   master_data.reload   load the files again now (as SIGHUP does); mutating
//
// Both answer MasterDataStore::StatusJson() plus {"checks": {...}} (the [master_data.checks]
// in force); reload adds {"reload": {"ok", "error"}}.
//
// Thread-safety: the handlers run on the admin thread; the store is thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "adapters/admin/admin_server.h"
#include "adapters/master_data/master_data_store.h"
#include "engine/engine_options.h"

namespace ordersync {

nlohmann::json MasterDataChecksJson(const MasterDataCheckOptions& checks);

void RegisterMasterDataAdminCommands(AdminServer* admin, MasterDataStore* store, const MasterDataCheckOptions& checks);

}  // namespace ordersync
