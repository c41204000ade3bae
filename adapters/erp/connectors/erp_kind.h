// ErpKind: which protocol an ERP target speaks, and which CommandKinds each one can take.
// The table below is the single source for "can this ERP post this command": the config
// loader refuses a routing that sends a kind to a target that cannot take it (an error at
// start, not a runtime surprise), and each connector's mapping table is checked against it
// by erp_connector_mapping_test.
//
//   zmq            our own ErpCommand/ErpAck over ZeroMQ (an adapter does the ERP side)
//   netsuite       NetSuite SuiteTalk REST record API
//   sap_s4         SAP S/4HANA Cloud / on-premise OData A2X APIs
//   d365_bc        Dynamics 365 Business Central API v2.0
//   oracle_fusion  Oracle Fusion Cloud REST (order hub, receivables)
//   webhook        any HTTP endpoint taking the command as JSON with an Idempotency-Key
//
// docs/erp-connectors.md has the API behind every supported (kind, CommandKind) pair.
// Thread-safety: constants and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "erp_generated.h"

namespace ordersync {

enum class ErpKind : uint8_t { kZmq, kNetSuite, kSapS4, kD365Bc, kOracleFusion, kWebhook };

inline constexpr std::array<std::string_view, 6> kErpKindNames{"zmq",     "netsuite",      "sap_s4",
                                                               "d365_bc", "oracle_fusion", "webhook"};

inline std::string_view ErpKindName(ErpKind kind) { return kErpKindNames[static_cast<size_t>(kind)]; }

inline std::optional<ErpKind> ErpKindFromName(std::string_view name) {
  for (size_t i = 0; i < kErpKindNames.size(); ++i) {
    if (kErpKindNames[i] == name) return static_cast<ErpKind>(i);
  }
  return std::nullopt;
}

inline bool IsHttpErpKind(ErpKind kind) { return kind != ErpKind::kZmq; }

// Whether a target of `erp` can post `command`. zmq and webhook take everything (the far
// side decides); the ERPs take what their public APIs can post with the command id
// written into the document (docs/erp-connectors.md, "What each ERP can take").
inline bool ErpKindSupports(ErpKind erp, CommandKind command) {
  switch (erp) {
    case ErpKind::kZmq:
    case ErpKind::kWebhook:
      return true;
    case ErpKind::kNetSuite:
      // Allocation and its release are NetSuite-internal (commitment on the sales order).
      return command != CommandKind::ConfirmAllocation && command != CommandKind::ReleaseAllocation;
    case ErpKind::kSapS4:
      // ATP confirmation, its release and order rejection are SAP-internal.
      return command == CommandKind::CreateSalesOrder || command == CommandKind::PostGoodsIssue ||
             command == CommandKind::CreateInvoice || command == CommandKind::CreateCreditMemo ||
             command == CommandKind::PostInventoryAdjustment;
    case ErpKind::kD365Bc:
      // Shipping is posted in BC itself (warehouse shipment); the API creates documents.
      return command == CommandKind::CreateSalesOrder || command == CommandKind::CreateInvoice ||
             command == CommandKind::CreateCreditMemo;
    case ErpKind::kOracleFusion:
      return command == CommandKind::CreateSalesOrder || command == CommandKind::CreateInvoice ||
             command == CommandKind::CreateCreditMemo;
  }
  return false;
}

}  // namespace ordersync
