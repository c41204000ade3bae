#include "adapters/cli/master_data_command.h"

#include <fstream>
#include <sstream>

#include "adapters/cli/dlq_command.h"
#include "adapters/master_data/master_data_admin.h"
#include "adapters/master_data/master_data_loader.h"

namespace ordersync {
namespace {

constexpr auto kTimeout = std::chrono::seconds(60);

nlohmann::json FileJson(const MasterDataFile& f) {
  return {{"kind", MasterDataKindName(f.kind)}, {"path", f.path},       {"format", f.format},
          {"records", f.records},               {"sha256", f.sha256},   {"ok", f.ok()},
          {"errors", f.errors}};
}

// The configured files as they would load now (no engine running).
nlohmann::json OfflineStatus(const AppConfig& config) {
  MasterDataLoad load = LoadMasterData(config.master_data);
  nlohmann::json files = nlohmann::json::array();
  for (const MasterDataFile& f : load.files) files.push_back(FileJson(f));
  nlohmann::json s = {{"running", false},
                      {"files", files},
                      {"errors", load.errors},
                      {"checks", MasterDataChecksJson(config.engine.master_data)}};
  if (load.snapshot != nullptr) {
    s["version"] = load.snapshot->version();
    s["counts"] = {{"customers", load.snapshot->customers()},
                   {"items", load.snapshot->items()},
                   {"prices", load.snapshot->prices()}};
    s["last_result"] = "loadable";
  } else {
    s["version"] = nullptr;
    s["last_result"] = "refused";
  }
  return s;
}

void PrintStatus(const nlohmann::json& s, std::ostream& out) {
  const bool running = s.value("running", true);
  out << "master data " << (s["version"].is_string() ? s["version"].get<std::string>() : "(none loadable)")
      << (running ? " in force" : " (no engine running: the files as they load now)") << "\n";
  if (s.contains("counts")) {
    const auto& c = s["counts"];
    out << "  " << c.value("customers", 0) << " customers, " << c.value("items", 0) << " items, "
        << c.value("prices", 0) << " prices\n";
  }
  for (const auto& f : s["files"]) {
    out << "  " << f.value("kind", "") << ": " << f.value("path", "") << " (" << f.value("format", "") << ", "
        << f.value("records", 0) << " records)\n";
  }
  if (running) {
    out << "  loaded at " << (s["loaded_at"].is_string() ? s["loaded_at"].get<std::string>() : "-") << "; "
        << s.value("reloads", 0) << " reload(s), " << s.value("refused", 0) << " refused; last: "
        << s.value("last_result", "none") << "\n";
  }
  if (s.contains("reload")) {
    out << "  reload: " << (s["reload"].value("ok", false) ? "ok" : "refused: " + s["reload"].value("error", "")) << "\n";
  }
  std::string on;
  for (const auto& [name, value] : s["checks"].items()) {
    if (value.is_boolean() && value.get<bool>()) on += (on.empty() ? "" : ", ") + name;
  }
  out << "  checks on: " << (on.empty() ? "none" : on) << "\n";
  for (const auto& e : s["errors"]) out << "  error: " << e.get<std::string>() << "\n";
}

int Check(const MasterDataCommandOptions& o, std::ostream& out, std::ostream& err) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) {
    err << "master-data check: cannot read " << o.file << "\n";
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  MasterDataKind kind;
  if (!o.kind.empty()) {
    if (!MasterDataKindFromName(o.kind, &kind)) {
      err << "master-data check: --kind must be customers, items or prices\n";
      return 2;
    }
  } else if (!GuessMasterDataKind(o.file, text.str(), &kind)) {
    err << "master-data check: cannot tell what " << o.file
        << " holds (name it customers/items/prices.* or pass --kind)\n";
    return 2;
  }
  MasterDataFile f = ParseMasterDataFile(kind, o.file, text.str());
  if (o.json) {
    out << FileJson(f).dump(2) << "\n";
  } else if (f.ok()) {
    out << o.file << ": " << f.records << " " << MasterDataKindName(kind) << " record(s), " << f.format
        << ", sha256 " << f.sha256.substr(0, 12) << ": ok\n";
  } else {
    out << o.file << ": refused (" << MasterDataKindName(kind) << ", " << f.format << ")\n";
    for (const std::string& e : f.errors) out << "  " << e << "\n";
  }
  return f.ok() ? 0 : 1;
}

}  // namespace

CLI::App* AddMasterDataSubcommand(CLI::App& app, MasterDataCommandOptions* o) {
  CLI::App* md = app.add_subcommand("master-data", "Master data for the intake checks: status, check a file, reload");
  md->require_subcommand(1);
  CLI::App* status = md->add_subcommand(
      "status", "Versions, counts, last reload and errors of a running engine (else the configured files now)");
  CLI::App* check = md->add_subcommand("check", "Parse a master-data file as a reload would; list every error");
  check->add_option("FILE", o->file, "CSV or JSON-lines file")->required();
  check->add_option("--kind", o->kind, "customers, items or prices (default: from the name or the columns)");
  CLI::App* reload = md->add_subcommand("reload", "Make a running engine load the files now (as SIGHUP does)");
  for (CLI::App* sub : {status, check, reload}) {
    sub->add_flag("--json", o->json, "Print JSON");
    sub->callback([o, sub] { o->action = sub->get_name(); });
  }
  for (CLI::App* sub : {status, reload}) {
    sub->add_option("--admin-endpoint", o->route.endpoint, "Admin endpoint of the running engine; default: [admin] endpoint")
        ->type_name("ENDPOINT");
    sub->add_option("--admin-timeout-ms", o->route.probe_timeout_ms, "How long to wait for a running engine to answer")
        ->capture_default_str();
  }
  status->add_flag("--offline", o->route.offline, "Do not ask a running engine; load the configured files");
  return md;
}

int RunMasterDataCommand(const AppConfig& config, const MasterDataCommandOptions& o, std::ostream& out,
                         std::ostream& err) {
  if (o.action == "check") return Check(o, out, err);
  const std::string endpoint = o.route.endpoint.empty() ? config.admin.endpoint : o.route.endpoint;
  const bool running = !o.route.offline && !endpoint.empty() &&
                       AdminAnswers(endpoint, std::chrono::milliseconds(o.route.probe_timeout_ms));
  nlohmann::json result;
  if (running) {
    Result<nlohmann::json> r = AdminCall(endpoint, "master_data." + o.action, nlohmann::json::object(),
                                         AdminTokenOf(config), kTimeout);
    if (!r.ok()) {
      err << "master-data " << o.action << ": " << r.status().message() << "\n";
      return 1;
    }
    result = *r;
  } else if (o.action == "reload") {
    err << "master-data reload: no engine answered at " << (endpoint.empty() ? "(admin endpoint disabled)" : endpoint)
        << "\n";
    return 1;
  } else {
    result = OfflineStatus(config);
  }
  if (o.json) {
    out << result.dump(2) << "\n";
  } else {
    PrintStatus(result, out);
  }
  if (result.value("last_result", "") == "refused" && !running) return 1;
  if (result.contains("reload") && !result["reload"].value("ok", false)) return 1;
  return 0;
}

}  // namespace ordersync
