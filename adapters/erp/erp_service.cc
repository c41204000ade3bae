#include "adapters/erp/erp_service.h"

#include <spdlog/spdlog.h>

#include "adapters/erp/erp_admin_commands.h"

namespace ordersync {

Result<std::unique_ptr<ErpService>> ErpService::Create(
    const ErpOptions& erp, const AdminOptions& admin, const EngineOptions& engine, StateStore* store,
    std::function<void(std::string_view erp_command, AckStatus status, int64_t acked_at_ns)> on_acknowledged,
    bool own_all_partitions) {
  std::unique_ptr<ErpService> service(new ErpService());
  service->store_ = store;
  service->durability_ = engine.durability;
  DispatcherOptions d;
  d.erp = erp;
  d.partitions = engine.partitions;
  d.durability = engine.durability;
  d.journal = engine.journal;
  d.on_acknowledged = std::move(on_acknowledged);
  d.own_all_partitions = own_all_partitions;
  auto dispatcher = OutboxDispatcher::Create(d, store);
  if (!dispatcher.ok()) return dispatcher.status();
  service->dispatcher_ = std::move(dispatcher).value();
  if (!admin.endpoint.empty()) {
    auto server = AdminServer::Create(admin);
    if (!server.ok()) return server.status();
    service->admin_ = std::move(server).value();
  }
  return service;
}

Status ErpService::Start(Engine* engine, DispatcherHost* host) {
  ORDERSYNC_RETURN_IF_ERROR(dispatcher_->Start(host != nullptr ? host : engine));
  if (admin_ != nullptr) {
    ErpAdminContext c;
    c.store = store_;
    c.engine = engine;
    c.dispatcher = dispatcher_.get();
    c.durability = durability_;
    RegisterErpAdminCommands(admin_.get(), c);
    Status s = admin_->Start();
    if (!s.ok()) {
      dispatcher_->Stop();
      return s;
    }
    spdlog::info("admin endpoint: {} (ordersync dlq / exceptions talk to it)", admin_->endpoint());
  } else {
    spdlog::info("admin endpoint: off ([admin] endpoint = \"\")");
  }
  return Status::OK();
}

void ErpService::Stop() {
  if (admin_ != nullptr) admin_->Stop();
  if (dispatcher_ != nullptr) dispatcher_->Stop();
}

}  // namespace ordersync
