// ReconcileOptions: [reconcile] — the tolerance every `ordersync reconcile` uses, and the
// scheduled reconciles `serve` runs per ERP target ([reconcile.schedule.<target>];
// docs/reconcile.md, "Scheduled reconciles"). Not reloadable: read at start.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ordersync {

// Where a scheduled reconcile reads the ERP's documents.
inline constexpr std::string_view kReconcileSourceExport = "export";  // a file the ERP drops
inline constexpr std::string_view kReconcileSourceApi = "api";        // the target's HTTP API
inline constexpr std::string_view kReconcileSourceNames[] = {kReconcileSourceExport, kReconcileSourceApi};

// One [reconcile.schedule.<target>] table: `serve` reconciles `target` every interval_s
// over the window [now - lookback_s, now - settle_s), as a dry run (nothing is repaired;
// `ordersync reconcile --repair` does that), and publishes the result as metrics
// (ordersync_reconcile_*; docs/operations.md).
struct ReconcileScheduleOptions {
  // The ERP target ([erp.targets.<name>]); the table's name.
  std::string target;
  // Seconds between runs (the first runs when serve starts). Range 1..604800 (a week).
  // Default: 3600.
  uint32_t interval_s = 3600;
  // How far back each run looks. Longer catches late-found losses again on every run
  // but reads more of the store and the export. Must exceed settle_s. Range 1..7776000
  // (90 days). Default: 86400.
  uint32_t lookback_s = 86400;
  // Recent postings left out of each run because the ERP's export (or API) lags behind
  // its postings: an acknowledgement younger than this is not yet expected there.
  // Range 0..604800. Default: 900.
  uint32_t settle_s = 900;
  // "export": the file at export_path (CSV or JSON lines, docs/reconcile.md), re-read on
  // every run; a missing or unreadable file makes the run fail (counted, with the
  // reason). "api": ask the target's HTTP API (HTTP kinds only). Default: "export".
  std::string source = std::string(kReconcileSourceExport);
  // The ERP export file (source = "export"; required there, unused otherwise).
  std::string export_path;
};

struct ReconcileOptions {
  // Posting times in the ERP and acknowledgement times here differ by up to this much
  // at a period's edges: documents this close outside the period still match, and are
  // not reported. Range 0..86400. Default: 900.
  uint32_t margin_s = 900;
  // [reconcile.schedule.<target>], in file order. Default: none (no scheduled runs).
  std::vector<ReconcileScheduleOptions> schedules;
};

}  // namespace ordersync
