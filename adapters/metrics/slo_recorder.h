// SloRecorder: the business SLO histograms, fed when the ERP acknowledges a command.
//
//   ordersync_order_to_ship_seconds{target}    PostGoodsIssue acknowledged  - order_accepted_at_ns
//   ordersync_ship_to_invoice_seconds{target}  CreateInvoice acknowledged   - event_occurred_at_ns
//
// Both start at a milestone's occurred_at (the business time the warehouse or sales
// system reported, carried in the ErpCommand) and end when the ERP acknowledged the
// posting (Posted or AlreadyPosted). With engine.bill_on = "delivery" the invoice is
// caused by DeliveryConfirmed, so ship_to_invoice then measures delivery-to-invoice.
// The ERP dispatcher (adapters/erp) calls OnCommandAcked on every successful
// acknowledgement; commands without the timestamps (0) are not recorded.
//
// Lock-free: one StatsHistogram pair per target, fixed at construction, updated with
// relaxed fetch_add (RecordShared); Read() may run concurrently (a scrape).
//
// Thread-safety: OnCommandAcked and Read from any thread, concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/stats_histogram.h"
#include "erp_generated.h"

namespace ordersync {

// Bucket bounds of the SLO histograms, in milliseconds: 1 min .. 7 days, with bounds at
// the default SLOs (1 h ship-to-invoice, 1 day order-to-ship).
inline constexpr int64_t kSloBoundsMs[] = {
    60'000,     300'000,    900'000,     1'800'000,   3'600'000,   7'200'000,    14'400'000,
    28'800'000, 43'200'000, 86'400'000, 172'800'000, 259'200'000, 604'800'000};

class SloRecorder {
 public:
  // `targets`: the ERP target names (label values); acks for any other target are
  // recorded under the target "other".
  explicit SloRecorder(std::vector<std::string> targets);

  // The ERP acknowledged `command` (Posted or AlreadyPosted) at `acked_at_ns`.
  void OnCommandAcked(const ErpCommand& command, int64_t acked_at_ns);
  // The same from the command's fields (for callers that do not hold the flatbuffer).
  void OnCommandAcked(std::string_view target, CommandKind kind, int64_t event_occurred_at_ns,
                      int64_t order_accepted_at_ns, int64_t acked_at_ns);

  struct TargetSeries {
    std::string target;
    HistogramSnapshot order_to_ship_ms;
    HistogramSnapshot ship_to_invoice_ms;
  };
  std::vector<TargetSeries> Read() const;

 private:
  struct PerTarget {
    std::string name;
    StatsHistogram order_to_ship{kSloBoundsMs};
    StatsHistogram ship_to_invoice{kSloBoundsMs};
  };
  PerTarget* Find(std::string_view target);

  std::vector<std::unique_ptr<PerTarget>> targets_;  // last one is "other"
};

}  // namespace ordersync
