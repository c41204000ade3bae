#include "bench/e2e/bench_setup.h"

#include <cstdio>
#include <filesystem>
#include <utility>

#include "adapters/config/config_loader.h"

namespace ordersync::bench {

std::optional<AppConfig> LoadServeConfig(const char* tool, const std::string& path) {
  Result<AppConfig> config = LoadConfigFile(path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s: %s\n", tool, config.status().ToString().c_str());
    return std::nullopt;
  }
  return std::move(config).value();
}

std::unique_ptr<RocksDbStore> OpenFreshStore(const char* tool, StorageOptions storage, const std::string& data_dir) {
  std::filesystem::remove_all(data_dir);
  storage.data_dir = data_dir;
  Result<std::unique_ptr<RocksDbStore>> store = RocksDbStore::Open(storage);
  if (!store.ok()) {
    std::fprintf(stderr, "%s: %s\n", tool, store.status().ToString().c_str());
    return nullptr;
  }
  return std::move(store).value();
}

}  // namespace ordersync::bench
