#include "adapters/cli/reconcile_command.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "adapters/cli/dlq_command.h"
#include "adapters/reconcile/connector_query_source.h"
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

Result<nlohmann::json> RunOffline(const AppConfig& config, const ReconcileRequest& r, ErpDocumentSource* source,
                                  std::ostream& err) {
  const bool mutating = r.repair && !r.dry_run;
  err << "reconcile: using data dir " << config.storage.data_dir << " directly ("
      << (mutating ? "read-write; the engine must be stopped" : "read-only") << ")\n";
  if (!mutating) {
    auto store = RocksDbStore::OpenReadOnly(config.storage);
    if (!store.ok()) return store.status();
    return RunReconcileRequest(store->get(), nullptr, r, NowNs(), source);
  }
  auto store = RocksDbStore::Open(config.storage);
  if (!store.ok()) {
    return Status::Unavailable(store.status().ToString() + " (is an engine running on it without an admin endpoint?)");
  }
  auto log = OpenEventLog(config.storage);
  if (!log.ok()) return log.status();
  auto engine = Engine::Open(config.engine, store->get(), log->get());
  if (!engine.ok()) return engine.status();
  auto report = RunReconcileRequest(store->get(), engine->get(), r, NowNs(), source);
  (*engine)->Stop();
  return report;
}

// A private temporary directory, removed with its contents at scope exit.
class PrivateTempDir {
 public:
  PrivateTempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ordersync-reconcile-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;  // mode 0700
  }
  ~PrivateTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

CLI::App* AddReconcileSubcommand(CLI::App& app, ReconcileCommandOptions* o) {
  CLI::App* cmd = app.add_subcommand(
      "reconcile",
      "Compare the commands an ERP target acknowledged in a period with the ERP's own documents (its export "
      "file, or a query through the target's API); --repair re-drives the missing ones with their original "
      "command ids");
  cmd->add_option("--target", o->target, "ERP target ([erp.targets.<name>])")->required();
  cmd->add_option("--export", o->export_file,
                  "The ERP's export of its documents: CSV or JSON lines (docs/reconcile.md); implies --source export")
      ->type_name("FILE");
  cmd->add_option("--source", o->source,
                  "Where the ERP's documents come from: export (--export FILE) or api (the target's own query API "
                  "with its [erp.targets.<name>.http] and .auth settings: netsuite, sap_s4, d365_bc, oracle_fusion; "
                  "webhook and zmq targets have none)")
      ->check(CLI::IsMember({"export", "api"}));
  cmd->add_option("--page-size", o->page_size, "--source api: documents asked for per page")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--max-pages", o->max_pages,
                  "--source api: most pages read; more is an error (never a partial result): ask for a shorter period")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
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
      "Sources: --export FILE reads the ERP's export; --source api asks the target's API for the documents created\n"
      "in the period (widened by the margin) with the connector's URL, TLS and credentials, follows every page,\n"
      "and fails on a malformed answer. docs/reconcile.md, docs/erp-connectors.md (\"Document queries\").\n"
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
  if (o.source.empty()) o.source = o.export_file.empty() ? "" : "export";
  if (o.source.empty()) {
    err << "reconcile: give --export FILE (the ERP's export) or --source api (the target's query API)\n";
    return 2;
  }
  if (o.source == "export" && o.export_file.empty()) {
    err << "reconcile: --source export needs --export FILE\n";
    return 2;
  }
  if (o.source == "api" && !o.export_file.empty()) {
    err << "reconcile: --export and --source api exclude each other\n";
    return 2;
  }
  nlohmann::json args = {{"target", o.target},
                         {"source", o.source},
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
  std::unique_ptr<ErpDocumentSource> api_source;
  if (o.source == "api") {
    const ErpTargetOptions* target = nullptr;
    for (const auto& t : config.erp.targets) {
      if (t.name == o.target) target = &t;
    }
    if (target == nullptr) {
      err << "reconcile: --source api needs --target " << o.target << " as an [erp.targets.<name>] of the config\n";
      return 2;
    }
    ConnectorQueryOptions qo;
    qo.page_size = o.page_size;
    qo.max_pages = o.max_pages;
    auto source = MakeConnectorQuerySource(*target, qo);
    if (!source.ok()) {
      err << "reconcile: " << source.status().message() << "\n";
      return 2;
    }
    api_source = std::move(source).value();
  }
  const std::string endpoint = o.route.endpoint.empty() ? config.admin.endpoint : o.route.endpoint;
  Result<nlohmann::json> result = Status::Unavailable("not run");
  if (!o.route.offline && !endpoint.empty() &&
      AdminAnswers(endpoint, std::chrono::milliseconds(o.route.probe_timeout_ms))) {
    err << "reconcile: via admin endpoint " << endpoint << " (engine running)\n";
    PrivateTempDir handover;
    if (api_source != nullptr) {
      // The engine compares; the ERP's documents are read here and handed over as a file.
      ReconcileWindow window;
      window.target = request->target;
      window.from_ns = request->from_ns;
      window.to_ns = request->to_ns;
      window.margin_ns = static_cast<int64_t>(request->margin_s) * 1'000'000'000;
      auto documents = api_source->Fetch(window);
      if (!documents.ok()) {
        err << "reconcile: " << documents.status().message() << "\n";
        return 1;
      }
      err << "reconcile: " << documents->size() << " document(s) from " << api_source->Describe() << "\n";
      const std::string file = handover.path() + "/erp-documents.jsonl";
      Status written = handover.path().empty() ? Status::IOError("cannot make a temporary directory")
                                               : WriteErpDocumentsJsonLines(*documents, file);
      if (!written.ok()) {
        err << "reconcile: " << written.message() << "\n";
        return 1;
      }
      args["source"] = "export";
      args["export"] = file;
      args["source_label"] = api_source->Describe();
    } else {
      // The engine reads the export: make the path absolute for it.
      args["export"] = std::filesystem::absolute(o.export_file).string();
    }
    result = AdminCall(endpoint, "reconcile.run", args, AdminTokenOf(config), kTimeout);
  } else {
    if (!o.route.offline) {
      err << "reconcile: no engine answered at " << (endpoint.empty() ? "(admin endpoint disabled)" : endpoint) << "\n";
    }
    result = RunOffline(config, *request, api_source.get(), err);
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
