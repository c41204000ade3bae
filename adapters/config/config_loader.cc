#include "adapters/config/config_loader.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

#include "adapters/config/embedded_default.h"
#include "adapters/config/option_names.h"
#include "adapters/config/table_reader.h"
#include "adapters/config/table_writer.h"

namespace ordersync {
namespace {

// Limits that catch typos and unit mix-ups (ms for s, bytes for MiB) rather than express
// hard engine limits. configs/ordersync.toml states each one next to its key.
constexpr int64_t kMaxQueueEvents = 16 * 1024 * 1024;
constexpr int64_t kMaxCacheEntries = int64_t{1} << 30;
constexpr int64_t kTenYearsS = int64_t{10} * 365 * 24 * 3600;
constexpr int64_t kThirtyDaysS = int64_t{30} * 24 * 3600;
constexpr int64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();

// One Visit function per section. V is TableReader (load) or TableWriter (dump): each
// line below both reads and writes one key, so the two cannot drift apart.

template <typename V>
void VisitEngine(V& v, EngineOptions& o) {
  v.Integer("partitions", o.partitions, 1, 65535);
  v.Integer("workers", o.workers, 0, 256);
  v.Integer("partition_queue_capacity", o.partition_queue_capacity, 1, kMaxQueueEvents);
  v.Integer("priority_reserve", o.priority_reserve, 0, kMaxQueueEvents);
  v.Integer("max_batch_events", o.max_batch_events, 1, 1024 * 1024);
  v.Integer("group_commit_window_us", o.group_commit_window_us, 0, 1000 * 1000);
  v.Enum("durability", o.durability, kDurabilityNames);
  v.Enum("bill_on", o.bill_on, kBillOnNames);
  v.Integer("order_cache_capacity", o.order_cache_capacity, 1, kMaxCacheEntries);
  v.Integer("dedup_cache_capacity", o.dedup_cache_capacity, 1, kMaxCacheEntries);
  v.Integer("dedup_window_s", o.dedup_window_s, 1, kTenYearsS);
  v.Integer("order_retention_s", o.order_retention_s, 1, kTenYearsS);
  v.Bool("journal", o.journal);
  v.Integer("park_timeout_s", o.park_timeout_s, 1, kThirtyDaysS);
  v.Table("park_timeout_by_kind_s", [&](V& t) {
    for (const EnumName<Milestone>& kind : MilestoneKindNames()) {
      t.Integer(kind.name, o.park_timeout_by_kind_s[static_cast<size_t>(kind.value)], 0,
                kThirtyDaysS);
    }
  });
}

template <typename V>
void VisitRouting(V& v, RoutingOptions& o) {
  v.String("default_target", o.default_target);
  v.TableArray("rules", o.rules, [](V& t, RouteRule& rule) {
    t.String("company_code", rule.company_code, StringRule::kRequired);
    t.String("target", rule.target, StringRule::kRequired);
    t.OptionalEnum("kind", rule.match_kind, rule.kind, CommandKindNames());
  });
}

template <typename V>
void VisitValidation(V& v, ValidatorOptions& o) {
  v.Integer("max_message_bytes", o.max_message_bytes, 1024, 16 * 1024 * 1024);
  v.Integer("max_lines", o.max_lines, 1, 100000);
}

template <typename V>
void VisitStorage(V& v, StorageOptions& o) {
  v.String("data_dir", o.data_dir, StringRule::kNonEmpty);
  v.Integer("block_cache_mb", o.block_cache_mb, 1, 1024 * 1024);
  v.Integer("write_buffer_mb", o.write_buffer_mb, 1, 64 * 1024);
  v.Integer("bloom_bits_per_key", o.bloom_bits_per_key, 0, 64);
  v.Integer("background_jobs", o.background_jobs, 1, 256);
}

template <typename V>
void VisitLog(V& v, LogOptions& o) {
  v.OneOf("level", o.level, kLogLevelNames);
  v.OneOf("format", o.format, kLogFormatNames);
}

// The whole document, one line per top-level table.
template <typename V>
void VisitAppConfig(V& v, AppConfig& c) {
  v.Table("engine", [&](V& t) { VisitEngine(t, c.engine); });
  v.Table("routing", [&](V& t) { VisitRouting(t, c.engine.routing); });
  v.Table("validation", [&](V& t) { VisitValidation(t, c.engine.validation); });
  v.Table("storage", [&](V& t) { VisitStorage(t, c.storage); });
  v.Table("log", [&](V& t) { VisitLog(t, c.log); });
}

static_assert(kMaxUint32 >= kMaxCacheEntries, "cache capacities are uint32_t");

}  // namespace

Result<AppConfig> LoadConfigString(std::string_view toml_text, std::string_view origin) {
  try {
    toml::table doc;
    try {
      doc = toml::parse(toml_text, std::string_view(origin));
    } catch (const toml::parse_error& e) {
      return Status::InvalidArgument("TOML parse error in " + WhereIs(e.source(), origin) +
                                     ": " + std::string(e.description()));
    }
    AppConfig config;
    ReadContext context{std::string(origin), Status::OK()};
    TableReader root(&doc, "", &context);
    VisitAppConfig(root, config);
    root.Finish();
    if (!context.status.ok()) return context.status;
    return config;
  } catch (const std::exception& e) {
    return Status::Internal("loading config from " + std::string(origin) + ": " + e.what());
  }
}

Result<AppConfig> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::IOError("config file '" + path + "' is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return Status::IOError("cannot open config file '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status::IOError("cannot read config file '" + path + "': " + std::strerror(errno));
  }
  return LoadConfigString(text.str(), path);
}

std::string_view EmbeddedDefaultToml() { return kEmbeddedDefaultToml; }

Result<AppConfig> LoadEmbeddedDefault() {
  return LoadConfigString(kEmbeddedDefaultToml, kEmbeddedDefaultOrigin);
}

std::string DumpConfig(const AppConfig& config) {
  AppConfig copy = config;  // the Visit functions take mutable references
  TableWriter root("");
  VisitAppConfig(root, copy);
  return root.ToString();
}

}  // namespace ordersync
