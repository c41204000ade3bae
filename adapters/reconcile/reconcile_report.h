// How a reconcile is shown: JSON (`ordersync reconcile --json`, the admin command, the
// scheduler's log) and a human table.
//
// JSON:
//   {"target", "period": {"from", "to", "margin_s"}, "source", "clean",
//    "summary": {"erp_documents", "foreign_documents", "acknowledged", "matched",
//                "missing_in_erp", "unknown_to_ordersync", "mismatch", "pending"},
//    "differences": [{"class", "command_id", "order_id", "kind", "detail",
//                     "acknowledged_at", "ordersync_document", "erp_document",
//                     "posted_at", "export_line", "repairable"}],
//    "repair": {"dry_run", "commands": [command_id...], "repaired", "not_repairable":
//               [{"command_id", "why"}]}}                  (when a repair was asked for)
//
// Thread-safety: pure functions.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/reconcile/reconciler.h"

namespace ordersync {

// What --repair did (or would do, in a dry run).
struct RepairOutcome {
  bool dry_run = true;
  std::vector<std::string> commands;  // re-driven (or to be), with their original ids
  size_t repaired = 0;                // appended to the outbox
  std::vector<std::pair<std::string, std::string>> not_repairable;  // command_id, why
};

nlohmann::json ReconcileReportJson(const ReconcileReport& report, const RepairOutcome* repair);
// The table, from the JSON (so the CLI prints an admin answer the same way).
void PrintReconcileTable(const nlohmann::json& report, std::ostream& out);

}  // namespace ordersync
