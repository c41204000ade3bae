#include "adapters/metrics/event_logger.h"

#include <chrono>

#include <spdlog/pattern_formatter.h>

namespace ordersync {
namespace {

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ [%^%l%$] %v";
// %v is the pre-escaped rest of the object: "msg":"...","kind":"...",...
constexpr const char* kJsonPattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})";

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (u < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Text values: quoted when empty or containing spaces, quotes or '='.
void AppendTextValue(std::string* out, std::string_view s) {
  if (!s.empty() && s.find_first_of(" \"=\n\t") == std::string_view::npos) {
    out->append(s);
    return;
  }
  AppendJsonString(out, s);
}

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

EventLogger::EventLogger(const EventLoggerOptions& options, std::vector<spdlog::sink_ptr> sinks,
                   spdlog::level::level_enum level)
    : json_(options.format == "json"),
      limiter_(options.rate_limit_per_s, options.rate_limit_burst),
      logger_(std::make_shared<spdlog::logger>("ordersync.events", sinks.begin(), sinks.end())) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->set_pattern(json_ ? kJsonPattern : kTextPattern);
  logger_->set_formatter(std::move(formatter));
  logger_->set_level(level);
}

void EventLogger::Log(spdlog::level::level_enum level, std::string_view kind, const EventFields& fields,
                   std::string_view msg) {
  if (!logger_->should_log(level)) return;
  uint64_t suppressed = 0;
  if (!limiter_.Allow(kind, SteadyNs(), &suppressed)) return;
  if (suppressed > 0) WriteSuppressed(kind, suppressed);
  std::string line;
  line.reserve(160 + msg.size());
  const std::pair<std::string_view, std::string_view> kv[] = {{"kind", kind},
                                                              {"order_id", fields.order_id},
                                                              {"event_id", fields.event_id},
                                                              {"correlation_id", fields.correlation_id},
                                                              {"source", fields.source}};
  // Lines about an event always carry order_id and correlation_id (empty if unknown);
  // other lines only the fields they have.
  const bool about_event = !fields.order_id.empty() || !fields.event_id.empty();
  auto skip = [about_event](std::string_view k, std::string_view v) {
    return v.empty() && (!about_event || (k != "order_id" && k != "correlation_id"));
  };
  if (json_) {
    line.append("\"msg\":");
    AppendJsonString(&line, msg);
    for (const auto& [k, v] : kv) {
      if (skip(k, v)) continue;
      line.append(",\"").append(k).append("\":");
      AppendJsonString(&line, v);
    }
  } else {
    line.append(msg);
    for (const auto& [k, v] : kv) {
      if (skip(k, v)) continue;
      line.push_back(' ');
      line.append(k).push_back('=');
      AppendTextValue(&line, v);
    }
  }
  logger_->log(level, "{}", line);
}

void EventLogger::WriteSuppressed(std::string_view kind, uint64_t n) {
  std::string line;
  const std::string msg = "suppressed " + std::to_string(n) + " '" + std::string(kind) + "' messages (log rate limit)";
  if (json_) {
    line.append("\"msg\":");
    AppendJsonString(&line, msg);
    line.append(",\"kind\":");
    AppendJsonString(&line, kind);
    line.append(",\"suppressed\":").append(std::to_string(n));
  } else {
    line.append(msg).append(" kind=").append(kind).append(" suppressed=").append(std::to_string(n));
  }
  logger_->log(spdlog::level::warn, "{}", line);
}

void EventLogger::FlushSuppressed() {
  for (const auto& [kind, n] : limiter_.TakeSuppressed()) WriteSuppressed(kind, n);
  logger_->flush();
}

}  // namespace ordersync
