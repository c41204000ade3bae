// EventLogger: structured, rate-limited log lines about events, on the process's spdlog
// sinks. Every line names the event it is about (order_id, event_id, correlation_id,
// source), in the configured format:
//
//   text: 2024-05-01T12:00:00.123Z [warning] event excepted: business_rule:order_cancelled
//         kind=exception order_id=SO-1 event_id=e-9 correlation_id=c-9 source=WMS-EAST
//   json: {"ts":"2024-05-01T12:00:00.123Z","level":"warning","msg":"event excepted: ...",
//          "kind":"exception","order_id":"SO-1","event_id":"e-9","correlation_id":"c-9",
//          "source":"WMS-EAST"}
//
// Lines pass a LogLimiter per `kind` (log.rate_limit_per_s / log.rate_limit_burst);
// when lines were suppressed, the next line of the kind is preceded by
//   "suppressed 1234 'exception' messages" (level warn, field suppressed=1234),
// and FlushSuppressed() (called by serve every few seconds and at exit) reports the
// rest. Components that log about events (ingress rejections, exceptions, dead letters)
// use it instead of spdlog directly.
//
//   EventLogger log(options, spdlog::default_logger()->sinks());
//   log.Warn("exception", {.order_id = o, .event_id = e, .correlation_id = c}, "event excepted: {}", reason);
//
// Thread-safety: all methods from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "adapters/metrics/log_limiter.h"

namespace ordersync {

struct EventLoggerOptions {
  std::string format = "text";  // "text" | "json" (as log.format)
  uint32_t rate_limit_per_s = 20;
  uint32_t rate_limit_burst = 100;
};

// What a line is about. Views must stay valid during the call.
struct EventFields {
  std::string_view order_id;
  std::string_view event_id;
  std::string_view correlation_id;
  std::string_view source;
};

class EventLogger {
 public:
  EventLogger(const EventLoggerOptions& options, std::vector<spdlog::sink_ptr> sinks,
           spdlog::level::level_enum level = spdlog::level::info);

  void Log(spdlog::level::level_enum level, std::string_view kind, const EventFields& fields, std::string_view msg);

  template <typename... Args>
  void Warn(std::string_view kind, const EventFields& fields, fmt::format_string<Args...> f, Args&&... args) {
    if (!logger_->should_log(spdlog::level::warn)) return;
    Log(spdlog::level::warn, kind, fields, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Info(std::string_view kind, const EventFields& fields, fmt::format_string<Args...> f, Args&&... args) {
    if (!logger_->should_log(spdlog::level::info)) return;
    Log(spdlog::level::info, kind, fields, fmt::format(f, std::forward<Args>(args)...));
  }

  // Writes a "suppressed N messages" line for every kind with unreported suppressions.
  void FlushSuppressed();

  const LogLimiter& limiter() const { return limiter_; }

 private:
  void WriteSuppressed(std::string_view kind, uint64_t n);

  const bool json_;
  LogLimiter limiter_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace ordersync
