// ReconcileOptions: [reconcile] — the tolerance every `ordersync reconcile` uses
// (docs/reconcile.md). Scheduled reconciles in `serve` are not implemented yet.
#pragma once

#include <cstdint>

namespace ordersync {

struct ReconcileOptions {
  // Posting times in the ERP and acknowledgement times here differ by up to this much
  // at a period's edges: documents this close outside the period still match, and are
  // not reported. Range 0..86400. Default: 900.
  uint32_t margin_s = 900;
};

}  // namespace ordersync
