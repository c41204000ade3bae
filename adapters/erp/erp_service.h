// ErpService: the ERP side of a running ordersync process, as `serve` (and tests) wire
// it: the outbox dispatcher (the engine's OutboxListener) and the admin endpoint with
// the fan-out's commands (dlq.*, exceptions.*, erp.status) registered.
//
//   auto erp = ErpService::Create(config.erp, config.admin, config.engine, store);
//   auto engine = Engine::Open(config.engine, store, log, clock, (*erp)->listener());
//   (*erp)->admin()->Register(...);        // other components' commands, optional
//   (*erp)->Start(engine->get());
//   ...
//   (*erp)->Stop();                         // admin, then dispatcher; before Engine::Stop
//
// Thread-safety: Create/Start/Stop from one controlling thread.
#pragma once

#include <functional>
#include <memory>

#include "adapters/admin/admin_options.h"
#include "adapters/admin/admin_server.h"
#include "adapters/erp/erp_options.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "engine/engine.h"

namespace ordersync {

class ErpService {
 public:
  // Creates the dispatcher (not started) and, unless admin.endpoint is "", the admin
  // server (not bound yet).
  // `on_acknowledged` (optional) becomes DispatcherOptions::on_acknowledged (metrics).
  // `own_all_partitions` = false for a cluster node (DispatcherOptions: it dispatches the
  // partitions it adopts).
  static Result<std::unique_ptr<ErpService>> Create(
      const ErpOptions& erp, const AdminOptions& admin, const EngineOptions& engine, StateStore* store,
      std::function<void(std::string_view erp_command, AckStatus status, int64_t acked_at_ns)> on_acknowledged = {},
      bool own_all_partitions = true);
  ~ErpService() { Stop(); }

  OutboxListener* listener() { return dispatcher_.get(); }
  OutboxDispatcher* dispatcher() { return dispatcher_.get(); }
  // Null when the admin endpoint is disabled. Register commands before Start.
  AdminServer* admin() { return admin_.get(); }

  // Starts the dispatcher on `host` (default: `engine`; which must outlive Stop), then
  // binds the admin endpoint with the ERP commands. `engine` is null on a cluster node
  // (`host` is its ClusterRuntime): the commands that need the engine answer so.
  Status Start(Engine* engine, DispatcherHost* host = nullptr);
  // Stops the admin endpoint, then the dispatcher. Idempotent.
  void Stop();

 private:
  ErpService() = default;
  StateStore* store_ = nullptr;
  Durability durability_ = Durability::kWal;
  std::unique_ptr<OutboxDispatcher> dispatcher_;
  std::unique_ptr<AdminServer> admin_;
};

}  // namespace ordersync
