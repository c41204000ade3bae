// Metrics of the EDI and HTTP ingresses, read at scrape time through `read` callbacks (the
// ingresses keep relaxed atomic counters; a scrape copies them). Plain snapshot structs,
// so adapters/metrics does not depend on adapters/edi or adapters/http.
//
//   ordersync_edi_files_total{result="processed|rejected"}, ordersync_edi_sets_total,
//   ordersync_edi_sets_rejected_total, ordersync_edi_events_total{status="accepted|duplicate"},
//   ordersync_edi_rejected_total{reason} (reason families, all from 0: edi_missing_segment,
//   edi_bad_isa, ...), ordersync_edi_acks_written_total, ordersync_edi_quarantined_total
//   ordersync_http_requests_total, ordersync_http_events_total{status} (Accepted, Duplicate,
//   Rejected, Throttled, Busy), ordersync_http_requests_refused_total{reason}
//   (unauthorized, invalid_json, body_too_large)
//
// Thread-safety: Collect from any thread; `read` must be callable from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>

namespace ordersync {

struct EdiMetricsSnapshot {
  uint64_t files = 0, files_rejected = 0, sets = 0, sets_rejected = 0, accepted = 0, duplicate = 0;
  uint64_t acks_written = 0, quarantined = 0;
  std::vector<std::pair<std::string, uint64_t>> rejected_by_reason;
};

struct HttpMetricsSnapshot {
  uint64_t requests = 0, accepted = 0, duplicate = 0, rejected = 0, throttled = 0, busy = 0;
  uint64_t unauthorized = 0, bad_json = 0, too_large = 0;
};

std::shared_ptr<prometheus::Collectable> MakeEdiCollector(std::function<EdiMetricsSnapshot()> read);
std::shared_ptr<prometheus::Collectable> MakeHttpCollector(std::function<HttpMetricsSnapshot()> read);

}  // namespace ordersync
