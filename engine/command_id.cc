#include "engine/command_id.h"

namespace ordersync {

std::string_view CommandKindCode(CommandKind kind) {
  switch (kind) {
    case CommandKind::CreateSalesOrder: return "SO";
    case CommandKind::ConfirmAllocation: return "AL";
    case CommandKind::PostGoodsIssue: return "GI";
    case CommandKind::CreateInvoice: return "INV";
    case CommandKind::CreateCreditMemo: return "CM";
    case CommandKind::ReleaseAllocation: return "RA";
    case CommandKind::CancelSalesOrder: return "CX";
    case CommandKind::PostInventoryAdjustment: return "ADJ";
  }
  return "UNKNOWN";
}

}  // namespace ordersync
