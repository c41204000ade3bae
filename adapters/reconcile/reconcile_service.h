// ReconcileService: one reconcile run end to end — the ERP's documents from a source
// (an export file here, or the target's own API: connector_query_source.h), ordersync's
// view from the store, the comparison,
// and, when asked, the repair: the commands missing in the ERP are re-driven through the
// dispatcher with their original command ids, exactly as `dlq replay` re-drives dead
// letters: a PartitionTask appends them to the partition's outbox inside the worker's
// group commit (logged, so a crash replays it), and the dispatcher posts them. Nothing
// new is invented: same command_id, same lines, same order_cmd_seq.
//
//   ExportFileSource source("/srv/erp/export.csv");
//   auto run = RunReconcile(store, window, &source, now);          // dry run
//   auto repaired = RepairMissing(store, engine, *run, /*dry_run=*/false);
//
// On a running engine call Engine::Checkpoint() first (the admin command does), so the
// store shows every acknowledgement processed so far.
//
// Thread-safety: reentrant; RepairMissing blocks until the tasks are durable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapters/reconcile/erp_documents.h"
#include "adapters/reconcile/ordersync_view.h"
#include "adapters/reconcile/reconcile_report.h"
#include "adapters/reconcile/reconciler.h"
#include "engine/engine.h"
#include "engine/state_store.h"

namespace ordersync {

// Where the ERP's documents come from.
class ErpDocumentSource {
 public:
  virtual ~ErpDocumentSource() = default;
  // The documents of the window (a source may return more; the reconciler filters).
  virtual Result<std::vector<ErpDocument>> Fetch(const ReconcileWindow& window) = 0;
  // "export /path/file.csv", "api bc (d365_bc https://...)".
  virtual std::string Describe() const = 0;
  // Called with ordersync's view after Fetch, before the comparison: a source whose
  // documents may carry a shortened form of the command id maps it back. Default: none.
  virtual void ResolveExternalIds(const OrdersyncView&, std::vector<ErpDocument>*) {}
};

class ExportFileSource final : public ErpDocumentSource {
 public:
  explicit ExportFileSource(std::string path) : path_(std::move(path)) {}
  Result<std::vector<ErpDocument>> Fetch(const ReconcileWindow&) override { return ReadErpExportFile(path_); }
  std::string Describe() const override { return "export " + path_; }

 private:
  std::string path_;
};

// A finished run: the report and the view it came from (the repair needs the view).
struct ReconcileRun {
  OrdersyncView view;
  ReconcileReport report;
};

// Reads the documents and the store and compares them. NotFound when the journal is off
// (nothing acknowledged can be known).
Result<ReconcileRun> RunReconcile(StateStore* store, const ReconcileWindow& window, ErpDocumentSource* source,
                                  int64_t now_ns);

// The missing commands of `run` re-driven (dry_run: only listed). `engine` runs on
// `store` (serve's, or one opened on a stopped engine's data dir, whose next `serve`
// posts them). Blocks until the appends are durable.
Result<RepairOutcome> RepairMissing(StateStore* store, Engine* engine, const ReconcileRun& run, bool dry_run);

}  // namespace ordersync
