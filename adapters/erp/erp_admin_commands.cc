#include "adapters/erp/erp_admin_commands.h"

#include <spdlog/spdlog.h>

#include "adapters/erp/dlq_operations.h"
#include "adapters/erp/exception_queue.h"
#include "adapters/producer/envelope_json.h"

namespace ordersync {

nlohmann::json DispatcherStatsJson(const DispatcherStats& s) {
  nlohmann::json targets = nlohmann::json::array();
  for (const TargetStats& t : s.targets) {
    targets.push_back({{"name", t.name},
                       {"endpoint", t.endpoint},
                       {"circuit", t.circuit},
                       {"sent", t.sent},
                       {"retries", t.retries},
                       {"posted", t.posted},
                       {"already_posted", t.already_posted},
                       {"transient_errors", t.transient_errors},
                       {"timeouts", t.timeouts},
                       {"no_connection", t.no_connection},
                       {"rejected", t.rejected},
                       {"dead_lettered", t.dead_lettered},
                       {"circuit_opened", t.circuit_opened},
                       {"circuit_closed", t.circuit_closed},
                       {"in_flight", t.in_flight},
                       {"backlog", t.backlog},
                       {"ingress_blocked", t.ingress_blocked},
                       {"auth_failures", t.auth_failures},
                       {"rate_limited", t.rate_limited},
                       {"retry_after_delays", t.retry_after_delays}});
    if (t.has_transport_stats) {  // HTTP targets: the connector's figures
      const ErpConnectorStats& h = t.transport;
      targets.back()["http"] = {{"kind", h.kind},
                                {"requests", h.http_requests},
                                {"responses", {{"1xx", h.http_1xx}, {"2xx", h.http_2xx}, {"3xx", h.http_3xx},
                                               {"4xx", h.http_4xx}, {"5xx", h.http_5xx}}},
                                {"transport_errors", h.transport_errors},
                                {"retry_after_waits", h.retry_after_waits},
                                {"token_fetches", h.token_fetches},
                                {"csrf_fetches", h.csrf_fetches},
                                {"batches", h.batches},
                                {"lookups", h.lookups},
                                {"lookups_found", h.lookups_found},
                                {"requests_in_flight", h.requests_in_flight}};
    }
  }
  return {{"targets", targets},
          {"window", s.window},
          {"unread", s.unread},
          {"acknowledged", s.acknowledged},
          {"blocked_orders", s.blocked_orders},
          {"stale_acks", s.stale_acks},
          {"partitions_adopted", s.partitions_adopted},
          {"dropped_not_owned", s.dropped_not_owned},
          {"late_answers_ignored", s.late_answers_ignored}};
}

void RegisterErpAdminCommands(AdminServer* server, const ErpAdminContext& c) {
  server->Register("dlq.list", {"list dead letters (filter: ids, order, target, reason, older_than_s, newer_than_s, limit)",
                                false, [c](const nlohmann::json& args) {
                                  return DlqList(c.store, DeadLetterFilterFromJson(args), c.clock->NowNanos());
                                }});
  server->Register("dlq.show", {"one dead letter with its command: {\"id\": command_id}", false,
                                [c](const nlohmann::json& args) {
                                  return DlqShow(c.store, args.value("id", std::string()), c.clock->NowNanos());
                                }});
  server->Register("dlq.replay", {"replay the selected dead letters' orders through the dispatcher (same command ids)",
                                  true, [c](const nlohmann::json& args) -> Result<nlohmann::json> {
                                    spdlog::warn("admin: dlq.replay {}", args.dump());
                                    if (c.dispatcher == nullptr) return Status::Unavailable("no ERP dispatcher running");
                                    Result<ReplayReport> r = c.dispatcher->Replay(DeadLetterFilterFromJson(args));
                                    if (!r.ok()) return r.status();
                                    return ReplayReportJson(*r);
                                  }});
  server->Register("dlq.purge", {"delete the selected dead letters for good (orders left without any are unblocked)",
                                 true, [c](const nlohmann::json& args) -> Result<nlohmann::json> {
                                   spdlog::warn("admin: dlq.purge {}", args.dump());
                                   if (c.dispatcher == nullptr) return Status::Unavailable("no ERP dispatcher running");
                                   Result<PurgeReport> r = c.dispatcher->Purge(DeadLetterFilterFromJson(args));
                                   if (!r.ok()) return r.status();
                                   return PurgeReportJson(*r);
                                 }});
  server->Register("exceptions.list", {"list the engine's exception queue (filter: ids, order, class, limit)", false,
                                       [c](const nlohmann::json& args) -> Result<nlohmann::json> {
                                         std::vector<ExceptionInfo> list;
                                         ORDERSYNC_RETURN_IF_ERROR(
                                             ListExceptions(c.store, ExceptionFilterFromJson(args), &list));
                                         nlohmann::json out = nlohmann::json::array();
                                         for (const auto& e : list) out.push_back(ExceptionJson(e));
                                         return nlohmann::json{{"exceptions", out}, {"count", list.size()}};
                                       }});
  server->Register("exceptions.show", {"one exception with its recorded envelope decoded: {\"id\": \"partition/seq\"}",
                                       false, [c](const nlohmann::json& args) -> Result<nlohmann::json> {
                                         ExceptionFilter filter;
                                         filter.ids.push_back(args.value("id", std::string()));
                                         std::vector<ExceptionInfo> list;
                                         ORDERSYNC_RETURN_IF_ERROR(ListExceptions(c.store, filter, &list));
                                         if (list.empty()) {
                                           return Status::NotFound("no exception with id '" + filter.ids[0] + "'");
                                         }
                                         nlohmann::json out = ExceptionJson(list[0]);
                                         out["envelope"] = DecodeEnvelopeJson(list[0].envelope);
                                         out["envelope_size"] = list[0].envelope.size();
                                         return out;
                                       }});
  server->Register("exceptions.replay", {"re-submit the selected exceptions' events (replay = true)", true,
                                         [c](const nlohmann::json& args) -> Result<nlohmann::json> {
                                           spdlog::warn("admin: exceptions.replay {}", args.dump());
                                           auto r = ReplayExceptions(c.store, c.engine, ExceptionFilterFromJson(args),
                                                                     c.durability);
                                           if (!r.ok()) return r.status();
                                           return ExceptionReplayJson(*r);
                                         }});
  server->Register("erp.status", {"ERP fan-out: per target circuit, in flight, backlog and counters", false,
                                  [c](const nlohmann::json&) -> Result<nlohmann::json> {
                                    if (c.dispatcher == nullptr) return Status::Unavailable("no ERP dispatcher running");
                                    return DispatcherStatsJson(c.dispatcher->Stats());
                                  }});
}

}  // namespace ordersync
