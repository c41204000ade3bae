// Registers the ERP fan-out's admin commands on an AdminServer (adapters/admin):
//
//   dlq.list           args: filter (dlq_operations.h)         -> list
//   dlq.show           args: {"id"}                            -> dead letter with command
//   dlq.replay    (*)  args: filter                            -> replay report
//   dlq.purge     (*)  args: filter                            -> purge report
//   exceptions.list    args: {"ids","order","class","limit"}   -> {"exceptions": [...]}
//   exceptions.show    args: {"id"}                            -> exception with "envelope"
//                                                                 (envelope_json.h)
//   exceptions.replay (*) args: as list, or {"all": true}      -> {"results": [...]}
//   erp.status         -> per target: circuit, in flight, backlog, counters
//
// (*) mutating: need the admin token when one is configured. Every mutating call is
// logged at warn level with its arguments.
//
// Thread-safety: the handlers run on the admin server's thread; everything they use is
// thread-safe (StateStore, Engine::Submit/SubmitTask, OutboxDispatcher::Replay/Purge).
#pragma once

#include "adapters/admin/admin_server.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/state_store.h"

namespace ordersync {

struct ErpAdminContext {
  StateStore* store = nullptr;
  Engine* engine = nullptr;
  OutboxDispatcher* dispatcher = nullptr;
  const Clock* clock = SystemClock::Default();
  Durability durability = Durability::kWal;
};

void RegisterErpAdminCommands(AdminServer* server, const ErpAdminContext& context);

nlohmann::json DispatcherStatsJson(const DispatcherStats& stats);

}  // namespace ordersync
