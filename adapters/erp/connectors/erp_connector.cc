#include "adapters/erp/connectors/erp_connector.h"

#include "adapters/erp/connectors/http_connector.h"

namespace ordersync {

std::string_view ErpFailureClassName(ErpFailureClass c) {
  switch (c) {
    case ErpFailureClass::kNone: return "none";
    case ErpFailureClass::kRateLimited: return "rate_limited";
    case ErpFailureClass::kUnavailable: return "unavailable";
    case ErpFailureClass::kServerError: return "server_error";
    case ErpFailureClass::kTimeout: return "timeout";
    case ErpFailureClass::kConnection: return "connection";
    case ErpFailureClass::kAuth: return "auth";
    case ErpFailureClass::kBusiness: return "business";
    case ErpFailureClass::kDependency: return "dependency";
    case ErpFailureClass::kProtocol: return "protocol";
    case ErpFailureClass::kShutdown: return "shutdown";
  }
  return "?";
}

Result<std::unique_ptr<ErpConnector>> CreateErpConnector(const ErpTargetOptions& target) {
  const std::optional<ErpKind> kind = ErpKindFromName(target.kind);
  if (!kind) return Status::InvalidArgument("erp.targets." + target.name + ": unknown kind '" + target.kind + "'");
  if (*kind == ErpKind::kZmq) {
    // Today's OutboxDispatcher keeps its own DEALER per zmq target; a ZmqConnector behind
    // this interface is left to the dispatcher rewrite.
    return Status::InvalidArgument("erp.targets." + target.name +
                                   ": zmq targets are driven by the dispatcher's ZeroMQ transport, not a connector");
  }
  return CreateHttpConnector(target);
}

}  // namespace ordersync
