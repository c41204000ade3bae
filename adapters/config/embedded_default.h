// The text of configs/ordersync.toml, compiled in. The definition is generated at
// configure time from embedded_default.cc.in (see CMakeLists.txt); use it through
// EmbeddedDefaultToml() / LoadEmbeddedDefault() in config_loader.h.
#pragma once

#include <string_view>

namespace ordersync {

extern const std::string_view kEmbeddedDefaultToml;

}  // namespace ordersync
