#include "adapters/cli/reconcile_command.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "adapters/cli/dlq_command.h"
#include "adapters/reconcile/reconcile_report.h"
#include "adapters/reconcile/reconcile_request.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"

namespace ordersync {
namespace {

constexpr auto kTimeout = std::chrono::seconds(300);

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<nlohmann::json> RunOffline(const AppConfig& config, const ReconcileRequest& r, std::ostream& err) {
  const bool mutating = r.repair && !r.dry_run;
  err << "reconcile: using data dir " << config.storage.data_dir << " directly ("
      << (mutating ? "read-write; the engine must be stopped" : "read-only") << ")\n";
  if (!mutating) {
    auto store = RocksDbStore::OpenReadOnly(config.storage);
    if (!store.ok()) return store.status();
    return RunReconcileRequest(store->get(), nullptr, r, NowNs());
  }
  auto store = RocksDbStore::Open(config.storage);
  if (!store.ok()) {
    return Status::Unavailable(store.status().ToString() + " (is an engine running on it without an admin endpoint?)");
  }
  auto log = OpenEventLog(config.storage);
  if (!log.ok()) return log.status();
  auto engine = Engine::Open(config.engine, store->get(), log->get());
  if (!engine.ok()) return engine.status();
  auto report = RunReconcileRequest(store->get(), engine->get(), r, NowNs());
  (*engine)->Stop();
  return report;
}

}  // namespace

CLI::App* AddReconcileSubcommand(CLI::App& app, ReconcileCommandOptions* o) {
  CLI::App* cmd = app.add_subcommand(
      "reconcile",
      "Compare the commands an ERP target acknowledged in a period with the ERP's export of its documents; "
      "--repair re-drives the missing ones with their original command ids");
  cmd->add_option("--target", o->target, "ERP target ([erp.targets.<name>])")->required();
  cmd->add_option("--export", o->export_file, "The ERP's export of its documents: CSV or JSON lines (docs/reconcile.md)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--from", o->from, "Period start (RFC 3339 time or date), inclusive")->required();
  cmd->add_option("--to", o->to, "Period end (RFC 3339 time or date), exclusive")->required();
  cmd->add_option("--margin-s", o->margin_s, "Posting/acknowledgement clock margin at the edges; default [reconcile] margin_s");
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("--repair", o->repair, "List the missing commands to re-drive (dry run unless --yes)");
  cmd->add_flag("--yes", o->yes, "With --repair: re-drive them into the outbox (same command ids)");
  cmd->add_option("--admin-endpoint", o->route.endpoint, "Admin endpoint of the running engine; default: [admin] endpoint")
      ->type_name("ENDPOINT");
  cmd->add_option("--admin-timeout-ms", o->route.probe_timeout_ms, "How long to wait for a running engine to answer")
      ->capture_default_str();
  cmd->add_flag("--offline", o->route.offline, "Do not ask a running engine; use the data dir directly");
  cmd->add_option("--data-dir", o->data_dir, "Use this data dir directly (implies --offline); default: [storage] data_dir")
      ->type_name("DIR");
  cmd->footer(
      "Classes: missing_in_erp, unknown_to_ordersync, mismatch, pending (expected: outbox or DLQ).\n"
      "Exit codes: 0 clean (pending allowed), 3 differences found, 1 error, 2 usage. docs/reconcile.md");
  cmd->callback([o] { o->chosen = true; });
  return cmd;
}

int RunReconcileCommand(const AppConfig& effective, const ReconcileCommandOptions& options, std::ostream& out,
                        std::ostream& err) {
  AppConfig config = effective;
  ReconcileCommandOptions o = options;
  if (!o.data_dir.empty()) {
    config.storage.data_dir = o.data_dir;
    o.route.offline = true;
  }
  if (o.yes && !o.repair) {
    err << "reconcile: --yes only goes with --repair\n";
    return 2;
  }
  nlohmann::json args = {{"target", o.target},
                         {"export", o.export_file},
                         {"from", o.from},
                         {"to", o.to},
                         {"margin_s", o.margin_s >= 0 ? static_cast<uint32_t>(o.margin_s) : config.reconcile.margin_s},
                         {"repair", o.repair},
                         {"dry_run", !o.yes}};
  Result<ReconcileRequest> request = ReconcileRequestFromJson(args);
  if (!request.ok()) {
    err << request.status().message() << "\n";
    return 2;
  }
  bool known = false;
  for (const auto& t : config.erp.targets) known |= t.name == o.target;
  if (!known && !config.erp.targets.empty()) {
    err << "reconcile: --target " << o.target << " is not an [erp.targets.<name>] of the config\n";
    return 2;
  }
  const std::string endpoint = o.route.endpoint.empty() ? config.admin.endpoint : o.route.endpoint;
  Result<nlohmann::json> result = Status::Unavailable("not run");
  if (!o.route.offline && !endpoint.empty() &&
      AdminAnswers(endpoint, std::chrono::milliseconds(o.route.probe_timeout_ms))) {
    err << "reconcile: via admin endpoint " << endpoint << " (engine running)\n";
    // The engine reads the export: make the path absolute for it.
    args["export"] = std::filesystem::absolute(o.export_file).string();
    result = AdminCall(endpoint, "reconcile.run", args, AdminTokenOf(config), kTimeout);
  } else {
    if (!o.route.offline) {
      err << "reconcile: no engine answered at " << (endpoint.empty() ? "(admin endpoint disabled)" : endpoint) << "\n";
    }
    result = RunOffline(config, *request, err);
  }
  if (!result.ok()) {
    err << "reconcile: " << result.status().message() << "\n";
    return 1;
  }
  if (request->repair && !request->dry_run) {
    spdlog::warn("reconcile --repair {}: {} command(s) re-driven", o.target,
                 (*result)["repair"].value("repaired", 0));
  }
  if (o.json) {
    out << result->dump(2) << "\n";
  } else {
    PrintReconcileTable(*result, out);
  }
  return result->value("clean", false) ? 0 : 3;
}

}  // namespace ordersync
