// Dead-letter operations as the CLI sees them, in JSON: the admin endpoint runs them
// inside a running engine, and `ordersync dlq` runs the same code on a stopped engine's
// data directory (read-only for list/show; for replay it opens an Engine on the store so
// its workers allocate the outbox seqs, see ReplayWithEngine).
//
// JSON shapes:
//   dead letter  {"id" (= command_id), "order_id", "order_cmd_seq", "kind", "target",
//                 "reason", "message", "blocked_by", "attempts", "dead_lettered_at_ns",
//                 "age_s", "needs_review", "partition"[, "command": {...} with detail]}
//   list         {"dead_letters": [...], "count", "blocked_orders": [{"order_id",
//                 "state", "from_seq", "blocked_by", "reason", "needs_review"}]}
//   replay       {"replayed": [{"order_id", "command_ids"}], "commands", "skipped":
//                 [{"order_id", "why"}]}
//   purge        {"purged": [command_id...], "unblocked_orders": [order_id...]}
//   filter args  {"ids": [...], "order", "target", "reason", "older_than_s",
//                 "newer_than_s", "all", "limit"}
//
// Thread-safety: reentrant; see dead_letters.h for who may mutate.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "adapters/erp/dead_letters.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "engine/engine.h"

namespace ordersync {

nlohmann::json DeadLetterJson(const DeadLetterRecord& r, int64_t now_ns, bool detail);
nlohmann::json DeadLetterFilterToJson(const DeadLetterFilter& filter);
// Throws nlohmann::json::exception on wrongly typed fields.
DeadLetterFilter DeadLetterFilterFromJson(const nlohmann::json& args);

Result<nlohmann::json> DlqList(StateStore* store, const DeadLetterFilter& filter, int64_t now_ns);
// NotFound if no dead letter has that id (command_id).
Result<nlohmann::json> DlqShow(StateStore* store, const std::string& id, int64_t now_ns);

nlohmann::json ReplayReportJson(const ReplayReport& report);
nlohmann::json PurgeReportJson(const PurgeReport& report);

// Replay without a dispatcher (the engine was stopped; the caller opened `engine` on the
// data directory, without an outbox listener). Submits one DeadLetterReplayTask per
// partition and waits until each is durable. The next dispatcher to start finds the
// re-appended commands in the outbox and the Replayed markers in the dead-letter table.
Result<ReplayReport> ReplayWithEngine(StateStore* store, Engine* engine, const DeadLetterFilter& filter,
                                      int64_t now_ns);

}  // namespace ordersync
