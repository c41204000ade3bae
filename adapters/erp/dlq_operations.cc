#include "adapters/erp/dlq_operations.h"

#include <future>

#include "erp_generated.h"

namespace ordersync {
namespace {

nlohmann::json CommandJson(const std::string& bytes) {
  std::string aligned = bytes;
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned.data()), aligned.size());
  if (!VerifyErpCommandBuffer(verifier)) return nlohmann::json{{"error", "not a valid ErpCommand"}};
  const ErpCommand* c = GetErpCommand(aligned.data());
  auto str = [](const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); };
  nlohmann::json lines = nlohmann::json::array();
  if (c->lines() != nullptr) {
    for (const Line* l : *c->lines()) {
      lines.push_back({{"line_no", l->line_no()}, {"sku", str(l->sku())}, {"qty", l->qty()}, {"uom", str(l->uom())},
                       {"unit_price_minor", l->unit_price_minor()}});
    }
  }
  return {{"command_id", str(c->command_id())},
          {"order_id", str(c->order_id())},
          {"correlation_id", str(c->correlation_id())},
          {"caused_by_event_id", str(c->caused_by_event_id())},
          {"company_code", str(c->company_code())},
          {"target", str(c->target())},
          {"kind", EnumNameCommandKind(c->kind())},
          {"order_cmd_seq", c->order_cmd_seq()},
          {"business_key", str(c->business_key())},
          {"priority", EnumNamePriority(c->priority())},
          {"issued_at_ns", c->issued_at_ns()},
          {"currency", str(c->currency())},
          {"lines", lines}};
}

}  // namespace

nlohmann::json DeadLetterJson(const DeadLetterRecord& r, int64_t now_ns, bool detail) {
  nlohmann::json j = {{"id", r.command_id},
                      {"order_id", r.order_id},
                      {"order_cmd_seq", r.order_cmd_seq},
                      {"kind", EnumNameCommandKind(r.kind)},
                      {"target", r.target},
                      {"reason", r.reason},
                      {"message", r.message},
                      {"blocked_by", r.blocked_by},
                      {"attempts", r.attempts},
                      {"dead_lettered_at_ns", r.dead_lettered_at_ns},
                      {"age_s", (now_ns - r.dead_lettered_at_ns) / 1'000'000'000},
                      {"needs_review", r.needs_review},
                      {"partition", r.partition}};
  if (detail) j["command"] = CommandJson(r.command);
  return j;
}

nlohmann::json DeadLetterFilterToJson(const DeadLetterFilter& f) {
  nlohmann::json j = nlohmann::json::object();
  if (!f.ids.empty()) j["ids"] = f.ids;
  if (!f.order_id.empty()) j["order"] = f.order_id;
  if (!f.target.empty()) j["target"] = f.target;
  if (!f.reason.empty()) j["reason"] = f.reason;
  if (f.older_than_s >= 0) j["older_than_s"] = f.older_than_s;
  if (f.newer_than_s >= 0) j["newer_than_s"] = f.newer_than_s;
  if (f.all) j["all"] = true;
  if (f.limit > 0) j["limit"] = f.limit;
  return j;
}

DeadLetterFilter DeadLetterFilterFromJson(const nlohmann::json& a) {
  DeadLetterFilter f;
  if (a.contains("ids")) f.ids = a["ids"].get<std::vector<std::string>>();
  f.order_id = a.value("order", std::string());
  f.target = a.value("target", std::string());
  f.reason = a.value("reason", std::string());
  f.older_than_s = a.value("older_than_s", int64_t{-1});
  f.newer_than_s = a.value("newer_than_s", int64_t{-1});
  f.all = a.value("all", false);
  f.limit = a.value("limit", size_t{0});
  return f;
}

Result<nlohmann::json> DlqList(StateStore* store, const DeadLetterFilter& filter, int64_t now_ns) {
  std::vector<DeadLetterRecord> letters;
  ORDERSYNC_RETURN_IF_ERROR(ListDeadLetters(store, filter, now_ns, &letters));
  std::vector<OrderBlockRecord> blocks;
  ORDERSYNC_RETURN_IF_ERROR(ListOrderBlocks(store, &blocks));
  nlohmann::json out = {{"dead_letters", nlohmann::json::array()}, {"blocked_orders", nlohmann::json::array()}};
  for (const DeadLetterRecord& r : letters) out["dead_letters"].push_back(DeadLetterJson(r, now_ns, false));
  out["count"] = letters.size();
  for (const OrderBlockRecord& b : blocks) {
    if (!filter.order_id.empty() && b.order_id != filter.order_id) continue;
    out["blocked_orders"].push_back({{"order_id", b.order_id},
                                     {"state", b.state == OrderBlockRecord::State::kBlocked ? "blocked" : "replayed"},
                                     {"from_seq", b.from_seq},
                                     {"blocked_by", b.blocked_by},
                                     {"reason", b.reason},
                                     {"needs_review", b.needs_review}});
  }
  return out;
}

Result<nlohmann::json> DlqShow(StateStore* store, const std::string& id, int64_t now_ns) {
  DeadLetterFilter filter;
  filter.ids = {id};
  std::vector<DeadLetterRecord> letters;
  ORDERSYNC_RETURN_IF_ERROR(ListDeadLetters(store, filter, now_ns, &letters));
  if (letters.empty()) return Status::NotFound("no dead letter with id '" + id + "'");
  return DeadLetterJson(letters.front(), now_ns, true);
}

nlohmann::json ReplayReportJson(const ReplayReport& report) {
  nlohmann::json replayed = nlohmann::json::array();
  size_t commands = 0;
  for (const ReplayedOrder& o : report.orders) {
    replayed.push_back({{"order_id", o.order_id}, {"command_ids", o.command_ids}});
    commands += o.command_ids.size();
  }
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& [order, why] : report.skipped) skipped.push_back({{"order_id", order}, {"why", why}});
  return {{"replayed", replayed}, {"commands", commands}, {"skipped", skipped}};
}

nlohmann::json PurgeReportJson(const PurgeReport& report) {
  nlohmann::json unblocked = nlohmann::json::array();
  for (const auto& [p, order] : report.unblocked) unblocked.push_back(order);
  return {{"purged", report.purged}, {"unblocked_orders", unblocked}};
}

Result<ReplayReport> ReplayWithEngine(StateStore* store, Engine* engine, const DeadLetterFilter& filter,
                                      int64_t now_ns) {
  std::map<uint32_t, std::vector<std::string>> orders;
  ORDERSYNC_RETURN_IF_ERROR(SelectOrdersForReplay(store, filter, now_ns, &orders));
  struct Outcome {
    Status status;
    std::vector<ReplayedOrder> orders;
  };
  std::vector<std::pair<std::vector<std::string>, std::future<Outcome>>> pending;
  for (auto& [p, list] : orders) {
    auto promise = std::make_shared<std::promise<Outcome>>();
    pending.emplace_back(list, promise->get_future());
    auto task = std::make_unique<DeadLetterReplayTask>(
        list, now_ns, [promise](const Status& s, std::vector<ReplayedOrder> r) {
          promise->set_value(Outcome{s, std::move(r)});
        });
    Status s = engine->SubmitTask(p, std::move(task));
    if (!s.ok()) return s;
  }
  ReplayReport report;
  for (auto& [names, future] : pending) {
    Outcome o = future.get();
    if (!o.status.ok()) {
      for (const std::string& n : names) report.skipped.emplace_back(n, "the replay batch failed: " + o.status.ToString());
      continue;
    }
    for (ReplayedOrder& r : o.orders) {
      if (!r.error.empty()) {
        report.skipped.emplace_back(r.order_id, r.error);
      } else {
        report.orders.push_back(std::move(r));
      }
    }
  }
  return report;
}

}  // namespace ordersync
