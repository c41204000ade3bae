// What `ordersync demo` prints: the per-second progress line and the final summary,
// rendered from snapshots of the running components (DemoSample). Pure functions of
// their arguments, no I/O besides the ostream they are given.
//
//   DemoSample prev = ..., now = ...;
//   PrintProgressHeader(out);
//   PrintProgressLine(prev, now, out);          // once a second
//   PrintDemoSummary(facts, first, last, out);  // at the end
//
// Thread-safety: none needed (no shared state); call from one thread per ostream.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "adapters/erp/erp_simulator.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "adapters/ingress/ingress_stats.h"
#include "adapters/ingress/loadgen.h"
#include "adapters/metrics/slo_recorder.h"
#include "adapters/metrics/store_scanner.h"
#include "engine/engine_stats.h"

namespace ordersync {

// One look at every component, taken by the demo's main thread.
struct DemoSample {
  double elapsed_s = 0;   // since the ERP simulator started (the outage schedule's clock)
  bool erp_down = false;  // the simulator's outage is scheduled now
  EngineStats engine;
  IngressStats ingress;
  DispatcherStats dispatcher;
  ScanSnapshot scan;
  ErpSimSummary erp;
  std::vector<SloRecorder::TargetSeries> slo;
  uint64_t slo_order_to_ship_s = 0;  // [slo] thresholds, for breaches
  uint64_t slo_ship_to_invoice_s = 0;
};

// Commands in the outbox: read into the dispatcher's window (in flight included) or not yet read.
uint64_t OutboxDepth(const DemoSample& s);
// Commands the dispatcher moved to the dead-letter queue, all targets.
uint64_t DeadLettered(const DemoSample& s);
// SLO histogram samples above their [slo] threshold (bucket resolution), all targets.
uint64_t SloBreaches(const DemoSample& s);
// Quantile q of the samples added to `now` since `before` (same bounds), interpolated
// within the bucket as Prometheus' histogram_quantile does; 0 without samples.
double HistogramDeltaQuantile(const HistogramSnapshot& before, const HistogramSnapshot& now, double q);

void PrintProgressHeader(std::ostream& out);
// One line: the second's events/s and ack p99, then the current state.
void PrintProgressLine(const DemoSample& before, const DemoSample& now, std::ostream& out);

// What the summary needs besides the samples.
struct DemoFacts {
  double seconds = 0;                          // producers' generating time asked for
  uint32_t outage_at_s = 0, outage_for_s = 0;  // 0 for_s: no outage
  uint64_t max_outbox_depth = 0;
  double max_outbox_at_s = 0;
  bool drained = false;     // at the end, everything issued was posted or dead-lettered
  double drained_at_s = 0;  // first look after the outage with an empty outbox (0: none)
  LoadgenSummary load;
  std::string metrics_url;   // "" when no endpoint was served
  std::string metrics_note;  // why it is not at the configured address
  std::string console_url;   // "" = not served
  double linger_s = 0;
  std::string data_dir;
  std::string sample_order;  // an order of this run with ERP postings ("" if none)
  uint64_t sample_order_postings = 0;
  // How to invoke ordersync again, e.g. "build/release/adapters/cli/ordersync", with
  // " --config FILE" when the demo ran with one.
  std::string cli;
};

// "What happened" and "Where to look next". `first` is the sample before any traffic.
void PrintDemoSummary(const DemoFacts& facts, const DemoSample& first, const DemoSample& last, std::ostream& out);

// `word` quoted for a POSIX shell when it needs it.
std::string ShellQuote(const std::string& word);

}  // namespace ordersync
