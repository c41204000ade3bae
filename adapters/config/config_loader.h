// Loads an AppConfig from TOML and writes one back. Loading starts from the in-class
// defaults of every Options struct and applies the document on top, so an empty document
// is the default config. The document is strict: an unknown key or table, a wrong type or
// an out-of-range value is an error that names the full key, the allowed values and the
// position, e.g.
//
//   unknown key 'engine.partitons' in /etc/ordersync.toml:3:1; valid keys here: ...
//   engine.durability: expected one of "wal", "fsync", "none", got "sync" (in x.toml:5:14)
//
// configs/ordersync.toml documents every key; the build embeds it, so LoadEmbeddedDefault()
// works without any file on disk. Nothing here throws.
//
// Usage:
//   Result<AppConfig> config = path.empty() ? LoadEmbeddedDefault() : LoadConfigFile(path);
//   if (!config.ok()) { std::cerr << config.status().message() << "\n"; return 2; }
//
// Thread-safety: every function is reentrant; call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "adapters/config/app_config.h"
#include "engine/status.h"

namespace ordersync {

// Reads and loads the TOML file at `path`. A missing or unreadable file is an IOError
// naming the path and the OS reason; any content error is an InvalidArgument.
[[nodiscard]] Result<AppConfig> LoadConfigFile(const std::string& path);

// Loads a TOML document held in memory. `origin` names it in error messages (a path, or a
// label such as "<stdin>").
[[nodiscard]] Result<AppConfig> LoadConfigString(std::string_view toml, std::string_view origin);

// Loads the documented default config embedded at build time from configs/ordersync.toml.
// Equal to a default-constructed AppConfig (the loader tests hold the two together).
[[nodiscard]] Result<AppConfig> LoadEmbeddedDefault();

// The text of configs/ordersync.toml as embedded at build time, comments included.
std::string_view EmbeddedDefaultToml();

// The label error messages use for the embedded default.
inline constexpr std::string_view kEmbeddedDefaultOrigin = "<embedded configs/ordersync.toml>";

// `config` as TOML with every key spelled out (no comments). LoadConfigString() of the
// result gives back `config`.
std::string DumpConfig(const AppConfig& config);

}  // namespace ordersync
