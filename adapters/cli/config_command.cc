#include "adapters/cli/config_command.h"

#include "adapters/config/config_loader.h"

namespace ordersync {

int RunConfigShow(const AppConfig& config, const std::string& source, std::ostream& out) {
  out << "# ordersync effective configuration (source: " << source << ")\n\n"
      << DumpConfig(config);
  return 0;
}

int RunConfigShowDefault(std::ostream& out) {
  out << EmbeddedDefaultToml();
  return 0;
}

int RunConfigCheck(const std::string& path, std::ostream& out, std::ostream& err) {
  Result<AppConfig> config = LoadConfigFile(path);
  if (!config.ok()) {
    err << "ordersync: config error: " << config.status().message() << "\n";
    return 2;
  }
  out << "ok\n";
  return 0;
}

}  // namespace ordersync
