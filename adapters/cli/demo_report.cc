#include "adapters/cli/demo_report.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace ordersync {
namespace {

std::string Format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }
uint64_t Delta(uint64_t now, uint64_t before) { return now >= before ? now - before : 0; }

// Samples of `h` in buckets wholly above `threshold` (same unit as the bounds).
uint64_t Above(const HistogramSnapshot& h, int64_t threshold) {
  uint64_t n = 0;
  for (size_t i = 1; i <= h.bounds.size(); ++i) {
    if (h.bounds[i - 1] >= threshold) n += h.counts[i];
  }
  return n;
}

std::string Ms(double ns) { return Format("%.1f ms", ns / 1e6); }

// "1 retry", "3 retries".
std::string Count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

uint64_t OutboxDepth(const DemoSample& s) { return s.dispatcher.window + s.dispatcher.unread; }

uint64_t DeadLettered(const DemoSample& s) {
  uint64_t n = 0;
  for (const TargetStats& t : s.dispatcher.targets) n += t.dead_lettered;
  return n;
}

uint64_t SloBreaches(const DemoSample& s) {
  uint64_t n = 0;
  for (const SloRecorder::TargetSeries& t : s.slo) {
    n += Above(t.order_to_ship_ms, static_cast<int64_t>(s.slo_order_to_ship_s) * 1000);
    n += Above(t.ship_to_invoice_ms, static_cast<int64_t>(s.slo_ship_to_invoice_s) * 1000);
  }
  return n;
}

double HistogramDeltaQuantile(const HistogramSnapshot& before, const HistogramSnapshot& now, double q) {
  const size_t buckets = now.bounds.size() + 1;
  uint64_t total = 0;
  for (size_t i = 0; i < buckets; ++i) total += Delta(now.counts[i], before.counts[i]);
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets; ++i) {
    const uint64_t n = Delta(now.counts[i], before.counts[i]);
    if (n == 0 || static_cast<double>(seen + n) < rank) {
      seen += n;
      continue;
    }
    if (i == now.bounds.size()) return static_cast<double>(now.bounds.back());  // +Inf: the largest bound
    const double lo = i == 0 ? 0.0 : static_cast<double>(now.bounds[i - 1]);
    const double hi = static_cast<double>(now.bounds[i]);
    return lo + (hi - lo) * (rank - static_cast<double>(seen)) / static_cast<double>(n);
  }
  return static_cast<double>(now.bounds.back());
}

void PrintProgressHeader(std::ostream& out) {
  out << "  time  events/s  ack p99 | parked exceptions | outbox   DLQ ERP posted | at risk breaches | ERP\n";
}

void PrintProgressLine(const DemoSample& before, const DemoSample& now, std::ostream& out) {
  const double dt = std::max(1e-3, now.elapsed_s - before.elapsed_s);
  const double rate = static_cast<double>(Delta(now.ingress.frames_received, before.ingress.frames_received)) / dt;
  const double p99 = HistogramDeltaQuantile(before.ingress.ack_latency_ns, now.ingress.ack_latency_ns, 0.99);
  std::string erp = now.erp_down ? "DOWN (scheduled outage)" : "up";
  for (const TargetStats& t : now.dispatcher.targets) {
    if (t.circuit != "closed") {
      erp += ", circuit " + t.circuit;
      break;
    }
  }
  auto retries = [](const DemoSample& s) {
    uint64_t n = 0;
    for (const TargetStats& t : s.dispatcher.targets) n += t.retries;
    return n;
  };
  const uint64_t retries_now = Delta(retries(now), retries(before));
  if (retries_now > 0) erp += ", " + Count(retries_now, "retry", "retries");
  out << Format("[%4.0fs] %8.0f %8s | %6lld %10llu | %6llu %5llu %10llu | %7llu %8llu | %s\n", now.elapsed_s, rate,
                p99 > 0 ? Ms(p99).c_str() : "-", static_cast<long long>(now.engine.parked_now),
                U(now.engine.events_excepted), U(OutboxDepth(now)), U(DeadLettered(now)), U(now.erp.postings),
                U(now.scan.orders_at_risk), U(SloBreaches(now)), erp.c_str());
  out.flush();
}

void PrintDemoSummary(const DemoFacts& f, const DemoSample& first, const DemoSample& last, std::ostream& out) {
  const EngineStats& e0 = first.engine;
  const EngineStats& e = last.engine;
  const IngressStats& i0 = first.ingress;
  const IngressStats& in = last.ingress;
  auto d = [](uint64_t now, uint64_t before) { return U(Delta(now, before)); };
  out << "\nWhat happened\n";
  out << Format("  producers   %llu events for %llu orders sent by the simulated producers over ZeroMQ in %.0f s,\n",
                U(f.load.sent), U(f.load.orders), f.seconds)
      << Format("              answered in acknowledged batches once durable (ack p50 %.1f ms, p99 %.1f ms)\n",
                f.load.p50_ms, f.load.p99_ms);
  out << Format("  accepted    %llu events: %llu applied on arrival; %llu arrived ahead of an earlier event of their\n",
                d(in.accepted, i0.accepted), d(e.events_applied, e0.events_applied),
                d(e.events_parked, e0.events_parked))
      << Format("              order, were parked, and %llu of them were applied once it came (resequenced)\n",
                d(e.events_unparked, e0.events_unparked));
  if (e.parked_now > 0) {
    out << Format(
               "              %lld still parked: the producers stopped before sending the earlier event they wait "
               "for\n",
               static_cast<long long>(e.parked_now))
        << "              (left alone they become exceptions after [engine] park_timeout_s)\n";
  }
  out << Format(
             "  duplicates  %llu exact (same event_id again) and %llu business (same fact, new event_id) absorbed:\n",
             d(e.duplicates_exact, e0.duplicates_exact), d(e.duplicates_business, e0.duplicates_business))
      << "              nothing changed and no second ERP command\n";
  std::string reasons;
  for (size_t r = 0; r < kIngressRejectReasons; ++r) {
    const uint64_t n = Delta(in.rejected_by_reason[r], i0.rejected_by_reason[r]);
    if (n == 0) continue;
    reasons += (reasons.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(IngressRejectReasonName(r));
  }
  out << Format("  rejected    %llu malformed frames rejected with a reason and quarantined (%llu records)%s\n",
                d(in.rejected, i0.rejected), d(in.quarantined, i0.quarantined), reasons.empty() ? "" : ":");
  if (!reasons.empty()) out << "              " << reasons << "\n";
  out << Format("  exceptions  %llu events recorded as exceptions (a business rule refused them)\n",
                d(e.events_excepted, e0.events_excepted));
  uint64_t retries = 0, transient = 0, timeouts = 0, opened = 0;
  for (const TargetStats& t : last.dispatcher.targets) {
    retries += t.retries;
    transient += t.transient_errors;
    timeouts += t.timeouts;
    opened += t.circuit_opened;
  }
  if (f.outage_for_s > 0) {
    std::string end = Format("still held %llu when the demo stopped waiting", U(OutboxDepth(last)));
    if (f.drained) end = f.drained_at_s > 0 ? Format("drained by %.0f s", f.drained_at_s) : "drained";
    out << Format("  ERP outage  the ERP answered \"unavailable\" from %u s to %u s: %llu failed attempts\n",
                  f.outage_at_s, f.outage_at_s + f.outage_for_s, U(transient + timeouts))
        << Format("              (%llu timeouts), %s with backoff, circuit breaker opened %s;\n", U(timeouts),
                  Count(retries, "retry", "retries").c_str(), Count(opened, "time", "times").c_str())
        << Format("              the outbox peaked at %llu commands (at %.0f s) and %s\n", U(f.max_outbox_depth),
                  f.max_outbox_at_s, end.c_str());
  } else {
    out << Format("  ERP         no outage scheduled; %s; the outbox peaked at %llu commands and %s\n",
                  Count(retries, "retry", "retries").c_str(), U(f.max_outbox_depth),
                  f.drained ? "drained" : "did not drain in time");
  }
  const uint64_t issued = Delta(e.commands_emitted, e0.commands_emitted);
  const uint64_t dead = Delta(DeadLettered(last), DeadLettered(first));
  out << Format("  ERP posted  %llu commands issued; the ERP posted %llu, with %llu duplicates and %llu out of order\n",
                U(issued), U(last.erp.postings), U(last.erp.duplicates_received), U(last.erp.out_of_order_arrivals))
      << Format("              (as the simulated ERP counted them); %llu dead-lettered", U(dead));
  const uint64_t accounted = last.erp.postings + dead;
  if (accounted < issued) {
    out << Format("; %llu still in the outbox (posted on the next start)", U(issued - accounted));
  } else if (accounted > issued) {
    out << Format("; %llu more than issued this run (left in the outbox by an earlier run)", U(accounted - issued));
  }
  out << "\n";
  for (const TargetStats& t : last.dispatcher.targets) {
    if (!t.has_transport_stats) continue;
    const ErpConnectorStats& h = t.transport;
    out << Format("  ERP HTTP    target %s (%s): %llu requests over %llu connections: %llu 2xx, %llu 4xx, %llu 5xx "
                  "(%llu 503),\n",
                  t.name.c_str(), h.kind.c_str(), U(h.http_requests), U(h.connections_opened), U(h.http_2xx),
                  U(h.http_4xx), U(h.http_5xx), U(h.http_503))
        << Format("              %llu Retry-After waits (%.1f s), %llu OAuth tokens, %llu CSRF tokens, %llu $batch "
                  "requests, %llu look-ups (%llu found)\n",
                  U(h.retry_after_waits), h.retry_after_wait_ms / 1000.0, U(h.token_fetches), U(h.csrf_fetches),
                  U(h.batches), U(h.lookups), U(h.lookups_found));
  }
  const uint64_t breaches = SloBreaches(last);
  out << Format("  SLOs        %llu orders at risk at the last store scan, %llu SLO breaches (order-to-ship %llu s,\n",
                U(last.scan.orders_at_risk), U(breaches), U(last.slo_order_to_ship_s))
      << Format("              ship-to-invoice %llu s)\n", U(last.slo_ship_to_invoice_s));
  if (f.load.unexpected > 0 || f.load.unanswered > 0) {
    out << Format("  NOT AS EXPECTED: %llu events got an unexpected answer, %llu none%s%s\n", U(f.load.unexpected),
                  U(f.load.unanswered),
                  f.load.first_unexpected.empty() ? "" : "; first: ", f.load.first_unexpected.c_str());
  }

  const std::string dir = ShellQuote(f.data_dir);
  const std::string& cli = f.cli;
  out << "\nWhere to look next (the data dir is kept: " << f.data_dir << ")\n";
  if (!f.metrics_url.empty()) {
    out << "  metrics     " << f.metrics_url
        << (f.linger_s > 0 ? " (served until the linger ends)" : " was served during the run (--linger S keeps it up)")
        << "\n";
  } else {
    out << "  metrics     not served" << (f.metrics_note.empty() ? "" : ": " + f.metrics_note) << "\n";
  }
  if (!f.console_url.empty()) {
    out << "  console     " << f.console_url
        << (f.linger_s > 0 ? " (served until the linger ends)" : " was served during the run (--linger S keeps it up)")
        << "\n";
  }
  if (!f.sample_order.empty()) {
    out << "  an order    " << cli << " trace --data-dir " << dir << " " << ShellQuote(f.sample_order) << "\n";
  }
  out << "  quarantine  " << cli << " quarantine list --data-dir " << dir << "\n";
  out << "  ERP DLQ     " << cli << " dlq list --data-dir " << dir << "\n";
  out << "  clean up    rm -rf " << dir << "\n";
}

std::string ShellQuote(const std::string& word) {
  constexpr std::string_view kSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-";
  if (!word.empty() && word.find_first_not_of(kSafe) == std::string::npos) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace ordersync
