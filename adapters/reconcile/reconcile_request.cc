#include "adapters/reconcile/reconcile_request.h"

#include <chrono>

#include "adapters/reconcile/reconcile_report.h"
#include "adapters/reconcile/reconcile_service.h"
#include "adapters/records/field_parse.h"

namespace ordersync {
namespace {


int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<ReconcileRequest> ReconcileRequestFromJson(const nlohmann::json& args) {
  if (!args.is_object()) return Status::InvalidArgument("reconcile.run: arguments must be an object");
  ReconcileRequest r;
  try {
    r.target = args.value("target", std::string());
    r.source = args.value("source", std::string("export"));
    r.export_file = args.value("export", std::string());
    r.source_label = args.value("source_label", std::string());
    r.margin_s = args.value("margin_s", 900u);
    r.repair = args.value("repair", false);
    r.dry_run = args.value("dry_run", true);
    for (const char* key : {"from", "to"}) {
      const std::string text = args.value(key, std::string());
      int64_t* out = std::string_view(key) == "from" ? &r.from_ns : &r.to_ns;
      if (text.empty() || !ParseTimestampNs(text, out)) {
        return Status::InvalidArgument(std::string("reconcile.run: ") + key +
                                       ": expected an RFC 3339 time or a date, got '" + text + "'");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("reconcile.run: ") + e.what());
  }
  if (r.target.empty()) return Status::InvalidArgument("reconcile.run: target is required");
  if (r.source != "export" && r.source != "api") {
    return Status::InvalidArgument("reconcile.run: source must be \"export\" or \"api\", got '" + r.source + "'");
  }
  if (r.source == "export" && r.export_file.empty()) {
    return Status::InvalidArgument("reconcile.run: export (the ERP export file) is required");
  }
  if (r.to_ns <= r.from_ns) return Status::InvalidArgument("reconcile.run: to must be after from");
  return r;
}

nlohmann::json ReconcileRequestToJson(const ReconcileRequest& r) {
  nlohmann::json j = {{"target", r.target},           {"source", r.source},        {"export", r.export_file},
                      {"from", FormatTimestampNs(r.from_ns)}, {"to", FormatTimestampNs(r.to_ns)},
                      {"margin_s", r.margin_s},       {"repair", r.repair},        {"dry_run", r.dry_run}};
  if (!r.source_label.empty()) j["source_label"] = r.source_label;
  return j;
}

Result<nlohmann::json> RunReconcileRequest(StateStore* store, Engine* engine, const ReconcileRequest& r,
                                           int64_t now_ns, ErpDocumentSource* source) {
  if (source == nullptr && r.source != "export") {
    return Status::InvalidArgument("reconcile.run: source \"" + r.source +
                                   "\" is not available here; `ordersync reconcile --source api` queries the ERP and "
                                   "hands the documents over");
  }
  if (engine != nullptr) ORDERSYNC_RETURN_IF_ERROR(engine->Checkpoint());
  ReconcileWindow window;
  window.target = r.target;
  window.from_ns = r.from_ns;
  window.to_ns = r.to_ns;
  window.margin_ns = static_cast<int64_t>(r.margin_s) * kNanosPerSecond;
  ExportFileSource file(r.export_file);
  Result<ReconcileRun> run = RunReconcile(store, window, source != nullptr ? source : &file, now_ns);
  if (!run.ok()) return run.status();
  if (!r.source_label.empty()) run->report.source = r.source_label;
  if (!r.repair) return ReconcileReportJson(run->report, nullptr);
  Result<RepairOutcome> repaired = RepairMissing(store, engine, *run, r.dry_run);
  if (!repaired.ok()) return repaired.status();
  return ReconcileReportJson(run->report, &*repaired);
}

void RegisterReconcileAdminCommand(AdminServer* admin, StateStore* store, Engine* engine) {
  // Marked mutating: with {"repair": true, "dry_run": false} it appends to the outbox.
  admin->Register("reconcile.run",
                  {"compare acknowledged ERP commands with an ERP export; repair re-drives missing ones", true,
                   [store, engine](const nlohmann::json& args) -> Result<nlohmann::json> {
                     Result<ReconcileRequest> r = ReconcileRequestFromJson(args);
                     if (!r.ok()) return r.status();
                     return RunReconcileRequest(store, engine, *r, WallNowNs());
                   }});
}

}  // namespace ordersync
