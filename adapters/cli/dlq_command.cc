#include "adapters/cli/dlq_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>

#include <spdlog/spdlog.h>

#include "adapters/admin/admin_server.h"
#include "adapters/erp/dlq_operations.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"

namespace ordersync {
namespace {

constexpr auto kOperationTimeout = std::chrono::seconds(150);

std::string Age(int64_t s) {
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

void PrintList(const nlohmann::json& r, std::ostream& out) {
  size_t id_width = 4, order_width = 7;
  for (const auto& d : r["dead_letters"]) {
    id_width = std::max(id_width, d["id"].get<std::string>().size() + 2);
    order_width = std::max(order_width, d["order_id"].get<std::string>().size() + 2);
  }
  out << std::left << std::setw(id_width) << "ID" << std::setw(order_width) << "ORDER" << std::setw(5) << "SEQ"
      << std::setw(24) << "KIND" << std::setw(12) << "TARGET" << std::setw(18) << "REASON" << std::setw(6) << "AGE"
      << std::setw(7) << "REVIEW"
      << "MESSAGE\n";
  for (const auto& d : r["dead_letters"]) {
    out << std::left << std::setw(id_width) << d["id"].get<std::string>() << std::setw(order_width)
        << d["order_id"].get<std::string>() << std::setw(5) << d["order_cmd_seq"].get<uint64_t>() << std::setw(24)
        << d["kind"].get<std::string>() << std::setw(12) << d["target"].get<std::string>() << std::setw(18)
        << d["reason"].get<std::string>() << std::setw(6) << Age(d["age_s"].get<int64_t>()) << std::setw(7)
        << (d["needs_review"].get<bool>() ? "yes" : "") << d["message"].get<std::string>() << "\n";
  }
  size_t blocked = 0, review = 0;
  for (const auto& b : r["blocked_orders"]) {
    blocked += b["state"] == "blocked" ? 1 : 0;
    review += b["needs_review"].get<bool>() ? 1 : 0;
  }
  out << r["count"].get<size_t>() << " dead letter(s); " << blocked << " order(s) blocked";
  if (review > 0) out << ", " << review << " flagged for review (a compensation is involved)";
  out << "\n";
}

void PrintReplay(const nlohmann::json& r, std::ostream& out) {
  out << "replayed " << r["commands"].get<size_t>() << " command(s) of " << r["replayed"].size()
      << " order(s) into the outbox (same command ids)\n";
  for (const auto& s : r["skipped"]) {
    out << "skipped " << s["order_id"].get<std::string>() << ": " << s["why"].get<std::string>() << "\n";
  }
}

void PrintPurge(const nlohmann::json& r, std::ostream& out) {
  out << "purged " << r["purged"].size() << " dead letter(s); " << r["unblocked_orders"].size()
      << " order(s) unblocked\n";
}

void Print(const std::string& action, const nlohmann::json& r, bool json, std::ostream& out) {
  if (json) {
    out << r.dump(2) << "\n";
  } else if (action == "list") {
    PrintList(r, out);
  } else if (action == "replay") {
    PrintReplay(r, out);
  } else if (action == "purge") {
    PrintPurge(r, out);
  } else {
    out << r.dump(2) << "\n";
  }
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The operation on a stopped engine's data dir.
Result<nlohmann::json> RunOffline(const AppConfig& config, const DlqCommandOptions& o, std::ostream& err) {
  const bool mutating = o.action == "replay" || o.action == "purge";
  err << "dlq: using data dir " << config.storage.data_dir << " directly ("
      << (mutating ? "read-write; the engine must be stopped" : "read-only") << ")\n";
  if (!mutating) {
    auto store = RocksDbStore::OpenReadOnly(config.storage);
    if (!store.ok()) return store.status();
    if (o.action == "show") return DlqShow(store->get(), o.id, NowNs());
    return DlqList(store->get(), o.filter, NowNs());
  }
  auto store = RocksDbStore::Open(config.storage);
  if (!store.ok()) {
    return Status::Unavailable(store.status().ToString() +
                               " (is an engine running on it without an admin endpoint?)");
  }
  if (o.action == "purge") {
    auto report = PurgeDeadLetters(store->get(), o.filter, config.engine.durability, NowNs());
    if (!report.ok()) return report.status();
    spdlog::warn("dlq purge {}: purged {} dead letter(s), {} order(s) unblocked",
                 DeadLetterFilterToJson(o.filter).dump(), report->purged.size(), report->unblocked.size());
    return PurgeReportJson(*report);
  }
  auto log = OpenEventLog(config.storage);
  if (!log.ok()) return log.status();
  auto engine = Engine::Open(config.engine, store->get(), log->get());
  if (!engine.ok()) return engine.status();
  auto report = ReplayWithEngine(store->get(), engine->get(), o.filter, NowNs());
  (*engine)->Stop();
  if (!report.ok()) return report.status();
  spdlog::warn("dlq replay {}: {} order(s) back in the outbox", DeadLetterFilterToJson(o.filter).dump(),
               report->orders.size());
  return ReplayReportJson(*report);
}

}  // namespace

int64_t ParseDurationSeconds(const std::string& text) {
  if (text.empty()) return -1;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    return -1;
  }
  if (n < 0) return -1;
  const std::string unit = text.substr(used);
  if (unit.empty() || unit == "s") return n;
  if (unit == "m") return n * 60;
  if (unit == "h") return n * 3600;
  if (unit == "d") return n * 86400;
  return -1;
}

std::string AdminTokenOf(const AppConfig& config) {
  if (config.admin.token_file.empty()) return "";
  Result<std::string> token = ReadTokenFile(config.admin.token_file);
  return token.ok() ? token.value() : "";
}

namespace {

void AddRouteOptions(CLI::App* cmd, AdminRouteOptions* route) {
  cmd->add_option("--admin-endpoint", route->endpoint, "Admin endpoint of the running engine; default: [admin] endpoint")
      ->type_name("ENDPOINT");
  cmd->add_option("--admin-timeout-ms", route->probe_timeout_ms, "How long to wait for a running engine to answer")
      ->capture_default_str();
  cmd->add_flag("--offline", route->offline, "Do not ask a running engine; use the data dir directly");
}

// --older-than / --newer-than as durations.
void AddAgeOption(CLI::App* cmd, const std::string& name, int64_t* seconds, const std::string& help) {
  cmd->add_option_function<std::string>(
         name,
         [seconds, name](const std::string& text) {
           *seconds = ParseDurationSeconds(text);
           if (*seconds < 0) throw CLI::ValidationError(name, "expected a duration like 90s, 15m, 2h or 7d");
         },
         help)
      ->type_name("DURATION");
}

void AddFilterOptions(CLI::App* cmd, DeadLetterFilter* f, bool with_all) {
  cmd->add_option("--id", f->ids, "Dead letter id (the command_id; repeatable)");
  cmd->add_option("--order", f->order_id, "Only this order");
  cmd->add_option("--target", f->target, "Only this ERP target");
  cmd->add_option("--reason", f->reason, "Only this reason: rejected, blocked, retries_exhausted, unknown_target");
  AddAgeOption(cmd, "--older-than", &f->older_than_s, "Dead-lettered at least this long ago");
  AddAgeOption(cmd, "--newer-than", &f->newer_than_s, "Dead-lettered at most this long ago");
  if (with_all) cmd->add_flag("--all", f->all, "Everything (required when no other selector is given)");
}

}  // namespace

CLI::App* AddDlqSubcommand(CLI::App& app, DlqCommandOptions* o) {
  CLI::App* dlq = app.add_subcommand(
      "dlq", "ERP dead-letter queue: list, show, replay or purge commands the ERP rejected (running engine or data dir)");
  dlq->require_subcommand(1);
  CLI::App* list = dlq->add_subcommand("list", "List dead letters and blocked orders");
  AddFilterOptions(list, &o->filter, false);
  list->add_option("--limit", o->filter.limit, "At most this many");
  CLI::App* show = dlq->add_subcommand("show", "Show one dead letter with its command");
  show->add_option("ID", o->id, "Dead letter id (command_id)")->required();
  CLI::App* replay = dlq->add_subcommand(
      "replay", "Put the selected dead letters' orders back into the outbox (same command ids, in sequence)");
  AddFilterOptions(replay, &o->filter, true);
  CLI::App* purge = dlq->add_subcommand("purge", "Delete the selected dead letters for good (logged)");
  AddFilterOptions(purge, &o->filter, true);
  for (CLI::App* sub : {list, show, replay, purge}) {
    sub->add_flag("--json", o->json, "Print JSON");
    AddRouteOptions(sub, &o->route);
    sub->add_option("--data-dir", o->data_dir, "Use this data dir directly (implies --offline); default: [storage] data_dir")
        ->type_name("DIR");
    sub->callback([o, sub] { o->action = sub->get_name(); });
  }
  return dlq;
}

int RunDlqCommand(const AppConfig& effective, const DlqCommandOptions& options, std::ostream& out,
                  std::ostream& err) {
  AppConfig config = effective;
  DlqCommandOptions o = options;
  if (!o.data_dir.empty()) {
    config.storage.data_dir = o.data_dir;
    o.route.offline = true;
  }
  if ((o.action == "replay" || o.action == "purge") && !o.filter.Selective()) {
    err << "dlq " << o.action << ": select what to " << o.action
        << " (--id, --order, --target, --reason, --older-than, --newer-than) or pass --all\n";
    return 2;
  }
  const std::string endpoint = o.route.endpoint.empty() ? config.admin.endpoint : o.route.endpoint;
  Result<nlohmann::json> result = Status::Unavailable("not run");
  if (!o.route.offline && AdminAnswers(endpoint, std::chrono::milliseconds(o.route.probe_timeout_ms))) {
    err << "dlq: via admin endpoint " << endpoint << " (engine running)\n";
    nlohmann::json args = o.action == "show" ? nlohmann::json{{"id", o.id}} : DeadLetterFilterToJson(o.filter);
    result = AdminCall(endpoint, "dlq." + o.action, args, AdminTokenOf(config), kOperationTimeout);
  } else {
    if (!o.route.offline) {
      err << "dlq: " << (endpoint.empty() ? std::string("[admin] endpoint is off, so no running engine to ask") : "no engine answered at " + endpoint) << "\n";
    }
    result = RunOffline(config, o, err);
  }
  if (!result.ok()) {
    err << "dlq " << o.action << ": " << result.status().message() << "\n";
    return 1;
  }
  Print(o.action, *result, o.json, out);
  return 0;
}

}  // namespace ordersync
