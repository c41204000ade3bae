// ReconcileRequest: one `ordersync reconcile` as the CLI, the admin command
// "reconcile.run" and serve's schedule ask for it, and the function that carries it out
// on a store (and, for --repair, an engine on that store) and answers the report JSON
// (adapters/reconcile/reconcile_report.h).
//
//   ReconcileRequest r;  r.target = "erp";  r.export_file = "/srv/erp/may.csv";
//   r.from_ns = ...;  r.to_ns = ...;  r.repair = true;  r.dry_run = false;
//   Result<nlohmann::json> report = RunReconcileRequest(store, engine, r, now_ns);
//   RegisterReconcileAdminCommand(admin, store, engine);   // serve
//
// The JSON arguments of "reconcile.run" are the request's fields: {"target", "export",
// "source_label", "from", "to" (RFC 3339 or date), "margin_s", "repair", "dry_run"}
// (the engine reads an export; `reconcile --source api` reads the ERP's API itself and
// hands the documents over as one). The command is
// registered as mutating (with repair and !dry_run it appends to the outbox, the path of
// `dlq replay`), so it needs the admin token when one is configured.
//
// Thread-safety: RunReconcileRequest is reentrant; it blocks until a repair is durable.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/admin/admin_server.h"
#include "adapters/reconcile/reconcile_service.h"
#include "engine/engine.h"
#include "engine/state_store.h"

namespace ordersync {

struct ReconcileRequest {
  std::string target;       // required
  // Where the ERP's documents come from: "export" (export_file) or "api" (the target's
  // query API; the caller passes the source, see RunReconcileRequest).
  std::string source = "export";
  std::string export_file;  // required for source "export" (CSV or JSON lines; docs/reconcile.md)
  // Shown as the report's source instead of "export <file>" (the CLI hands documents it
  // read from the API to a running engine as a file). Default: "".
  std::string source_label;
  int64_t from_ns = 0;      // [from, to) of acknowledgement / posting time
  int64_t to_ns = 0;
  uint32_t margin_s = 900;
  bool repair = false;      // list (and with !dry_run, re-drive) the missing commands
  bool dry_run = true;
};

// The request from admin arguments (InvalidArgument naming the argument when wrong).
Result<ReconcileRequest> ReconcileRequestFromJson(const nlohmann::json& args);
nlohmann::json ReconcileRequestToJson(const ReconcileRequest& r);

// Runs `r` on `store`; `engine` (may be null unless r.repair && !r.dry_run) is the engine
// on the same store (a running one is checkpointed first, so the store shows every
// acknowledgement processed so far). `source` (may be null for source "export") gives
// the ERP's documents instead of r.export_file: the target's API source
// (connector_query_source.h) for source "api".
Result<nlohmann::json> RunReconcileRequest(StateStore* store, Engine* engine, const ReconcileRequest& r,
                                           int64_t now_ns, ErpDocumentSource* source = nullptr);

// "reconcile.run" on a running engine.
void RegisterReconcileAdminCommand(AdminServer* admin, StateStore* store, Engine* engine);

}  // namespace ordersync
