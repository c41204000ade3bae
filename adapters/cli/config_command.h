// `ordersync config show|check`: print or check configuration without starting anything.
//
// Thread-safety: stateless; call from any thread.
#pragma once

#include <ostream>
#include <string>

#include "adapters/config/app_config.h"

namespace ordersync {

// Writes `config` as TOML to `out`, headed by a comment naming `source`. Returns 0.
int RunConfigShow(const AppConfig& config, const std::string& source, std::ostream& out);

// Writes the documented built-in default (configs/ordersync.toml, comments included) to
// `out`. Returns 0.
int RunConfigShowDefault(std::ostream& out);

// Loads the file at `path`: prints "ok" to `out` and returns 0, or prints the error to
// `err` and returns 2.
int RunConfigCheck(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace ordersync
