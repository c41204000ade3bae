// CommandRebuilder: an ErpCommand as the engine issued it, rebuilt from the order's
// state and its journal, for `ordersync reconcile`: its expected quantity and amount (to
// compare with the ERP's document) and, for `--repair`, the command itself to re-drive
// with its original command_id.
//
// The lines come from where the lifecycle rule took them (engine/lifecycle_rules.cc):
//   CreateSalesOrder          the order's lines (ordered qty)
//   ConfirmAllocation,
//   ReleaseAllocation         the reservation fact's lines
//   PostGoodsIssue,
//   CreateInvoice             the shipment fact's lines
//   CreateCreditMemo          the return fact's lines (kept since reconcile; older
//                             orders: not rebuildable)
//   PostInventoryAdjustment   the adjustment fact's line
//   CancelSalesOrder          no lines
// The business key is the command_id's last part (engine/command_id.h). The priority is
// Standard (the journal does not keep it).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/order_state.h"
#include "engine/status.h"
#include "erp_generated.h"

namespace ordersync {

// What the journal says about the command beyond the order's state.
struct CommandOrigin {
  std::string command_id;
  CommandKind kind = CommandKind::CreateSalesOrder;
  uint64_t order_cmd_seq = 0;
  std::string target;
  std::string caused_by_event_id;
  std::string correlation_id;
  int64_t issued_at_ns = 0;
  int64_t event_occurred_at_ns = 0;
};

// The business key of `command_id` of `order_id` and `kind` ("SO-1/GI/SHP-7" -> "SHP-7"),
// or false if the id does not have that shape.
bool CommandBusinessKey(std::string_view command_id, std::string_view order_id, CommandKind kind,
                        std::string_view* business_key);

struct RebuiltCommand {
  std::string bytes;  // the ErpCommand buffer
  int64_t quantity = 0;
  int64_t amount_minor = 0;
  std::string company_code;
  std::string currency;
};

// NotFound when the order no longer has the fact the command's lines came from (retention,
// or a credit memo of an order older than reconcile).
Result<RebuiltCommand> RebuildCommand(const OrderState& order, const CommandOrigin& origin);

// The quantity, amount, company and currency of the command, without building it (what
// a reconcile compares for every acknowledged command). `bytes` is left empty.
Result<RebuiltCommand> ExpectedContent(const OrderState& order, const CommandOrigin& origin);

}  // namespace ordersync
