// ReconcileOptions: [reconcile] — how `serve` reconciles ERP targets on a schedule
// (adapters/reconcile/reconcile_scheduler.h) and the tolerance every reconcile uses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ordersync {

// One scheduled reconcile of one ERP target ([[reconcile.schedules]]).
struct ReconcileSchedule {
  // The ERP target (an [erp.targets.<name>] table). Required.
  std::string target;
  // Seconds between two runs. Range 60..604800. Default: 3600.
  uint32_t interval_s = 3600;
  // Each run covers acknowledgements of [now - settle_s - period_s, now - settle_s).
  // Range 60..31536000. Default: 86400 (a day).
  uint64_t period_s = 86400;
  // The most recent seconds left out, so postings the ERP has not exported yet are not
  // reported missing. Range 0..86400. Default: 600.
  uint32_t settle_s = 600;
  // The ERP export file read at each run (CSV or JSON lines, docs/reconcile.md). "" =
  // ask the target's API (HTTP targets whose connector can list documents). Default: "".
  std::string export_file;
};

struct ReconcileOptions {
  // Posting times in the ERP and acknowledgement times here differ by up to this much
  // at a period's edges: documents this close outside the period still match, and are
  // not reported. Range 0..86400. Default: 900.
  uint32_t margin_s = 900;
  // Scheduled runs of `serve`; none by default.
  std::vector<ReconcileSchedule> schedules;
};

}  // namespace ordersync
