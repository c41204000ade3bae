// The setup shared by the e2e benchmark tools that run on serve's TOML and a fresh RocksDB
// directory (e2e_preload, e2e_write_profile, e2e_rocksdb_ceiling). A failure is printed on
// stderr as "<tool>: <error>"; the caller then exits (2 for the config, 1 for the store).
//
// Thread-safety: plain functions; call them from main before the tool starts its threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/config/app_config.h"
#include "adapters/storage/rocksdb_store.h"

namespace ordersync::bench {

// serve's TOML at `path`, or nullopt if it cannot be loaded.
std::optional<AppConfig> LoadServeConfig(const char* tool, const std::string& path);

// A RocksDbStore with `storage`'s options on `data_dir` (removed first), or nullptr if it
// cannot be opened.
std::unique_ptr<RocksDbStore> OpenFreshStore(const char* tool, StorageOptions storage, const std::string& data_dir);

}  // namespace ordersync::bench
