// The engine's exception queue (Table::kExceptions) as operators see it: list the events
// the engine parked-and-timed-out or could not apply, and re-drive them once the cause
// is fixed. A re-drive submits the recorded envelope again with InboundEvent.replay = true
// (exact dedup on event_id is skipped; business dedup still keeps a fact from applying
// twice) and deletes the exception record once the new outcome is durable, whatever it
// is: applied, parked again, a new exception (with its own new record), or a duplicate.
// Records whose event could not be submitted (Busy after retries, invalid) are kept and
// reported.
//
// Ids: "<partition>/<exception_seq>", e.g. "3/17" (the record's key).
//
// Thread-safety: reentrant; ReplayExceptions blocks until the outcomes are durable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

struct ExceptionInfo {
  uint32_t partition = 0;
  uint64_t seq = 0;
  std::string id;  // "partition/seq"
  std::string order_id;
  std::string event_id;
  std::string stage;
  std::string failure_class;
  std::string reason;
  int64_t recorded_at_ns = 0;
  std::string envelope;
};

// Criteria combine with AND; `all` selects everything. An unselective filter lists all
// but replays nothing.
struct ExceptionFilter {
  std::vector<std::string> ids;
  std::string order_id;
  std::string failure_class;  // invalid_input | business_rule | missing_prerequisite | ...
  bool all = false;
  size_t limit = 0;  // list only

  bool Selective() const { return all || !ids.empty() || !order_id.empty() || !failure_class.empty(); }
  bool Matches(const ExceptionInfo& e) const;
};

Status ListExceptions(StateStore* store, const ExceptionFilter& filter, std::vector<ExceptionInfo>* out);

struct ExceptionReplayResult {
  std::string id;
  std::string order_id;
  std::string event_id;
  std::string outcome;  // applied | parked | excepted | duplicate_* | store_error | busy | invalid:<code>
  std::string reason;
  bool removed = false;  // the old record was deleted
};

// Re-drives the selected exceptions through `engine` (running on `store`). REQUIRES:
// filter.Selective().
Result<std::vector<ExceptionReplayResult>> ReplayExceptions(StateStore* store, Engine* engine,
                                                            const ExceptionFilter& filter, Durability durability);

nlohmann::json ExceptionJson(const ExceptionInfo& e);
nlohmann::json ExceptionFilterToJson(const ExceptionFilter& f);
ExceptionFilter ExceptionFilterFromJson(const nlohmann::json& args);
nlohmann::json ExceptionReplayJson(const std::vector<ExceptionReplayResult>& results);

}  // namespace ordersync
