#include "adapters/cli/loadgen_command.h"

#include <cstdio>
#include <fstream>

#include "adapters/ingress/curve_keys.h"

namespace ordersync {
namespace {

// The configured endpoint as a client would connect to it.
std::string ClientEndpoint(std::string bound) {
  const std::string any = "://0.0.0.0:";
  if (auto at = bound.find(any); at != std::string::npos) bound.replace(at, any.size(), "://127.0.0.1:");
  const std::string star = "://*:";
  if (auto at = bound.find(star); at != std::string::npos) bound.replace(at, star.size(), "://127.0.0.1:");
  return bound;
}

}  // namespace

int RunLoadgenCommand(const AppConfig& config, LoadgenCommandOptions options, std::ostream& out, std::ostream& err) {
  LoadgenOptions& o = options.load;
  o.endpoint = !options.endpoint.empty()
                   ? options.endpoint
                   : ClientEndpoint(o.push ? config.ingress.pull_endpoint : config.ingress.ack_endpoint);
  if (o.endpoint.empty() || o.endpoint.find(":*") != std::string::npos) {
    err << "ordersync loadgen: no endpoint to connect to; pass --endpoint tcp://HOST:PORT\n";
    return 2;
  }
  if (!options.curve_server_key.empty() || !options.curve_key.empty()) {
    if (options.curve_server_key.empty() || options.curve_key.empty()) {
      err << "ordersync loadgen: CURVE needs both --curve-server-key (server .pub) and --curve-key (own .key)\n";
      return 2;
    }
    Result<std::string> server = ReadCurveKeyFile(options.curve_server_key);
    Result<std::string> secret = ReadCurveKeyFile(options.curve_key);
    if (!server.ok() || !secret.ok()) {
      err << "ordersync loadgen: " << (!server.ok() ? server.status() : secret.status()).message() << "\n";
      return 1;
    }
    Result<std::string> pub = CurvePublicKeyOf(*secret);
    if (!pub.ok()) {
      err << "ordersync loadgen: " << options.curve_key << ": " << pub.status().message() << "\n";
      return 1;
    }
    o.curve_server_public_z85 = *server;
    o.curve_secret_z85 = *secret;
    o.curve_public_z85 = *pub;
  }
  char line[512];
  std::snprintf(line, sizeof(line),
                "ordersync loadgen: %u %s producers -> %s, %s, %.0f s, batches of %u, window %u\n"
                "  mix: %.1f%% exact dup, %.1f%% business dup, %.1f%% out of order, %.2f%% malformed, "
                "%.1f%% same-day orders%s\n",
                o.producers, o.push ? "PUSH" : "DEALER", o.endpoint.c_str(),
                o.rate > 0 ? (std::to_string(static_cast<long long>(o.rate)) + " ev/s").c_str() : "flat out",
                o.seconds, o.batch_events, o.window, 100 * o.exact_duplicate_share, 100 * o.business_duplicate_share,
                100 * o.out_of_order_share, 100 * o.malformed_share, 100 * o.same_day_share,
                o.burst_every_s > 0 ? ", with bursts" : "");
  out << line << std::flush;
  uint64_t last_sent = 0;
  double last_t = 0;
  const LoadgenSummary s = RunLoadgen(o, [&](const LoadgenProgress& p) {
    if (options.quiet) return;
    const double rate = p.elapsed_s > last_t ? (p.sent - last_sent) / (p.elapsed_s - last_t) : 0;
    last_sent = p.sent;
    last_t = p.elapsed_s;
    // Whole seconds at the default interval, tenths below it (--progress-every).
    const int stamp = std::snprintf(line, sizeof(line), o.progress_every_s >= 1 ? "[%4.0fs]" : "[%6.1fs]", p.elapsed_s);
    std::snprintf(line + stamp, sizeof(line) - stamp,
                  " sent %9llu (%7.0f ev/s) answered %9llu | accepted %llu duplicate %llu rejected %llu | "
                  "retries busy %llu throttled %llu | resends %llu\n",
                  static_cast<unsigned long long>(p.sent), rate, static_cast<unsigned long long>(p.answered),
                  static_cast<unsigned long long>(p.accepted), static_cast<unsigned long long>(p.duplicate),
                  static_cast<unsigned long long>(p.rejected), static_cast<unsigned long long>(p.busy_retries),
                  static_cast<unsigned long long>(p.throttled_retries), static_cast<unsigned long long>(p.resends));
    out << line << std::flush;
  });
  std::snprintf(line, sizeof(line), "\nSummary (%s, %.1f s)\n", o.push ? "fire-and-forget" : "acknowledged", s.seconds);
  out << line;
  std::snprintf(line, sizeof(line),
                "  sent       %llu events of %llu orders (%llu duplicates, %llu malformed of which %llu mutated, "
                "%llu same-day)\n",
                static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.orders),
                static_cast<unsigned long long>(s.duplicates_sent), static_cast<unsigned long long>(s.malformed_sent),
                static_cast<unsigned long long>(s.mutated_sent), static_cast<unsigned long long>(s.same_day_sent));
  out << line;
  if (!o.push) {
    std::snprintf(line, sizeof(line),
                  "  answered   %llu accepted, %llu duplicate, %llu rejected; %llu unexpected, %llu unanswered\n"
                  "  retries    %llu busy, %llu throttled (resent after retry_after_ms); %llu batches resent after "
                  "a timeout, %llu reconnects\n"
                  "  rate       %.0f events/s answered\n"
                  "  ack latency per batch  p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
                  static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.duplicate),
                  static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.unexpected),
                  static_cast<unsigned long long>(s.unanswered), static_cast<unsigned long long>(s.busy_retries),
                  static_cast<unsigned long long>(s.throttled_retries),
                  static_cast<unsigned long long>(s.batches_resent), static_cast<unsigned long long>(s.reconnects),
                  s.events_per_s, s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms);
    out << line;
    if (s.busy_retry_after.count > 0) {
      const RetryAfterStats& r = s.busy_retry_after;
      std::snprintf(line, sizeof(line), "  Busy hints retry_after_ms min %u  mean %.1f  max %u\n", r.min_ms,
                    static_cast<double>(r.sum_ms) / r.count, r.max_ms);
      out << line;
    }
    if (!s.first_unexpected.empty()) out << "  first unexpected answer: " << s.first_unexpected << "\n";
  } else {
    std::snprintf(line, sizeof(line), "  rate       %.0f events/s sent (no acknowledgements on this endpoint)\n",
                  s.events_per_s);
    out << line;
    if (s.unanswered > 0) out << "  " << s.unanswered << " events could not be sent before the drain timeout\n";
  }
  if (!options.json_file.empty()) {
    std::ofstream json(options.json_file);
    json << LoadgenSummaryJson(o, s) << "\n";
    if (!json) {
      err << "ordersync loadgen: cannot write " << options.json_file << "\n";
      return 1;
    }
  }
  return s.unexpected == 0 && s.unanswered == 0 ? 0 : 1;
}

}  // namespace ordersync
