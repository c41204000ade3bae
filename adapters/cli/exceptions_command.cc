#include "adapters/cli/exceptions_command.h"

#include <iomanip>

#include <spdlog/spdlog.h>

#include "adapters/cli/dlq_command.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"

namespace ordersync {
namespace {

constexpr auto kOperationTimeout = std::chrono::seconds(150);

Result<nlohmann::json> RunOffline(const AppConfig& config, const ExceptionsCommandOptions& o, std::ostream& err) {
  const bool mutating = o.action == "replay";
  err << "exceptions: using data dir " << config.storage.data_dir << " directly ("
      << (mutating ? "read-write; the engine must be stopped" : "read-only") << ")\n";
  if (!mutating) {
    auto store = RocksDbStore::OpenReadOnly(config.storage);
    if (!store.ok()) return store.status();
    std::vector<ExceptionInfo> list;
    ORDERSYNC_RETURN_IF_ERROR(ListExceptions(store->get(), o.filter, &list));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : list) out.push_back(ExceptionJson(e));
    return nlohmann::json{{"exceptions", out}, {"count", list.size()}};
  }
  auto store = RocksDbStore::Open(config.storage);
  if (!store.ok()) {
    return Status::Unavailable(store.status().ToString() +
                               " (is an engine running on it without an admin endpoint?)");
  }
  auto log = OpenEventLog(config.storage);
  if (!log.ok()) return log.status();
  auto engine = Engine::Open(config.engine, store->get(), log->get());
  if (!engine.ok()) return engine.status();
  auto results = ReplayExceptions(store->get(), engine->get(), o.filter, config.engine.durability);
  (*engine)->Stop();
  if (!results.ok()) return results.status();
  spdlog::warn("exceptions replay {}: {} event(s) re-submitted", ExceptionFilterToJson(o.filter).dump(),
               results->size());
  return ExceptionReplayJson(*results);
}

void Print(const std::string& action, const nlohmann::json& r, std::ostream& out) {
  if (action == "list") {
    out << std::left << std::setw(10) << "ID" << std::setw(16) << "ORDER" << std::setw(20) << "EVENT" << std::setw(14)
        << "STAGE" << std::setw(22) << "CLASS"
        << "REASON\n";
    for (const auto& e : r["exceptions"]) {
      out << std::left << std::setw(10) << e["id"].get<std::string>() << std::setw(16) << e["order_id"].get<std::string>()
          << std::setw(20) << e["event_id"].get<std::string>() << std::setw(14) << e["stage"].get<std::string>()
          << std::setw(22) << e["failure_class"].get<std::string>() << e["reason"].get<std::string>() << "\n";
    }
    out << r["count"].get<size_t>() << " exception(s)\n";
    return;
  }
  size_t removed = 0;
  for (const auto& x : r["results"]) {
    out << x["id"].get<std::string>() << "\t" << x["event_id"].get<std::string>() << "\t"
        << x["outcome"].get<std::string>();
    if (!x["reason"].get<std::string>().empty()) out << "\t" << x["reason"].get<std::string>();
    out << (x["removed"].get<bool>() ? "\tremoved" : "\tkept") << "\n";
    removed += x["removed"].get<bool>() ? 1 : 0;
  }
  out << r["results"].size() << " event(s) re-submitted; " << removed << " exception record(s) removed\n";
}

}  // namespace

CLI::App* AddExceptionsSubcommand(CLI::App& app, ExceptionsCommandOptions* o) {
  CLI::App* ex = app.add_subcommand(
      "exceptions", "The engine's exception queue: list, or re-submit events once the cause is fixed");
  ex->require_subcommand(1);
  CLI::App* list = ex->add_subcommand("list", "List exception records");
  list->add_option("--limit", o->filter.limit, "At most this many");
  CLI::App* replay = ex->add_subcommand(
      "replay", "Re-submit the selected events (replay flag set); remove each record once its outcome is durable");
  replay->add_flag("--all", o->filter.all, "Every exception (required when no other selector is given)");
  for (CLI::App* sub : {list, replay}) {
    sub->add_option("--id", o->filter.ids, "Exception id PARTITION/SEQ (repeatable)");
    sub->add_option("--order", o->filter.order_id, "Only this order");
    sub->add_option("--class", o->filter.failure_class,
                    "Only this class: invalid_input, business_rule, missing_prerequisite, conflicting_duplicate");
    sub->add_flag("--json", o->json, "Print JSON");
    sub->add_option("--admin-endpoint", o->route.endpoint, "Admin endpoint of the running engine")
        ->type_name("ENDPOINT");
    sub->add_option("--admin-timeout-ms", o->route.probe_timeout_ms, "How long to wait for a running engine")
        ->capture_default_str();
    sub->add_flag("--offline", o->route.offline, "Do not ask a running engine; use the data dir directly");
    sub->callback([o, sub] { o->action = sub->get_name(); });
  }
  return ex;
}

int RunExceptionsCommand(const AppConfig& config, const ExceptionsCommandOptions& o, std::ostream& out,
                         std::ostream& err) {
  if (o.action == "replay" && !o.filter.Selective()) {
    err << "exceptions replay: select what to replay (--id, --order, --class) or pass --all\n";
    return 2;
  }
  const std::string endpoint = o.route.endpoint.empty() ? config.admin.endpoint : o.route.endpoint;
  Result<nlohmann::json> result = Status::Unavailable("not run");
  if (!o.route.offline && AdminAnswers(endpoint, std::chrono::milliseconds(o.route.probe_timeout_ms))) {
    err << "exceptions: via admin endpoint " << endpoint << " (engine running)\n";
    result = AdminCall(endpoint, "exceptions." + o.action, ExceptionFilterToJson(o.filter), AdminTokenOf(config),
                       kOperationTimeout);
  } else {
    if (!o.route.offline) {
      err << "exceptions: " << (endpoint.empty() ? std::string("[admin] endpoint is off, so no running engine to ask") : "no engine answered at " + endpoint)
          << "\n";
    }
    result = RunOffline(config, o, err);
  }
  if (!result.ok()) {
    err << "exceptions " << o.action << ": " << result.status().message() << "\n";
    return 1;
  }
  if (o.json) {
    out << result->dump(2) << "\n";
  } else {
    Print(o.action, *result, out);
  }
  return 0;
}

}  // namespace ordersync
