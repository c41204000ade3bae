#include "adapters/reconcile/command_rebuilder.h"

#include "engine/command_id.h"

namespace ordersync {

bool CommandBusinessKey(std::string_view command_id, std::string_view order_id, CommandKind kind,
                        std::string_view* business_key) {
  // "<order_id>/<code>/", compared in place (once per acknowledged command of a reconcile).
  const std::string_view code = CommandKindCode(kind);
  const size_t prefix = order_id.size() + 1 + code.size() + 1;
  if (command_id.size() < prefix || command_id.substr(0, order_id.size()) != order_id ||
      command_id[order_id.size()] != '/' || command_id.substr(order_id.size() + 1, code.size()) != code ||
      command_id[prefix - 1] != '/') {
    return false;
  }
  *business_key = command_id.substr(prefix);
  return true;
}

namespace {

// Calls fn(line_no, sku, qty, uom, unit_price_minor) for each line of the command.
template <typename Fn>
Status ForEachCommandLine(const OrderState& order, const CommandOrigin& origin, Fn&& fn,
                          std::string_view* business_key) {
  if (!CommandBusinessKey(origin.command_id, order.order_id, origin.kind, business_key)) {
    return Status::InvalidArgument("command id '" + origin.command_id + "' is not one of order " + order.order_id);
  }
  auto fact_lines = [&](Milestone m) -> Status {
    const Fact* f = order.FindFact(m, *business_key);
    if (f == nullptr) {
      return Status::NotFound("order " + order.order_id + " no longer has " + std::string(EnumNameMilestone(m)) +
                              " '" + std::string(*business_key) + "'");
    }
    if (f->lines.empty()) {
      return Status::NotFound("order " + order.order_id + " did not keep the lines of " +
                              std::string(EnumNameMilestone(m)) + " '" + std::string(*business_key) + "'");
    }
    for (const LineItem& l : f->lines) fn(l.line_no, l.sku, l.qty, l.uom, l.unit_price_minor);
    return Status::OK();
  };
  switch (origin.kind) {
    case CommandKind::CreateSalesOrder:
      if (!order.accepted) return Status::NotFound("order " + order.order_id + " is not accepted in the store");
      for (const LineState& l : order.lines) fn(l.line_no, l.sku, l.ordered, l.uom, l.unit_price_minor);
      return Status::OK();
    case CommandKind::ConfirmAllocation:
    case CommandKind::ReleaseAllocation:
      return fact_lines(Milestone::InventoryReserved);
    case CommandKind::PostGoodsIssue:
    case CommandKind::CreateInvoice:
      return fact_lines(Milestone::ShipmentDispatched);
    case CommandKind::CreateCreditMemo:
      return fact_lines(Milestone::ReturnReceived);
    case CommandKind::PostInventoryAdjustment:
      return fact_lines(Milestone::InventoryAdjusted);
    case CommandKind::CancelSalesOrder:
      return Status::OK();
  }
  return Status::InvalidArgument("unknown command kind");
}

}  // namespace

Result<RebuiltCommand> ExpectedContent(const OrderState& order, const CommandOrigin& origin) {
  RebuiltCommand out;
  std::string_view business_key;
  ORDERSYNC_RETURN_IF_ERROR(ForEachCommandLine(
      order, origin,
      [&](uint32_t, const std::string&, int64_t qty, const std::string&, int64_t price) {
        out.quantity += qty;
        out.amount_minor += qty * price;
      },
      &business_key));
  out.company_code = order.company_code;
  out.currency = order.currency;
  return out;
}

Result<RebuiltCommand> RebuildCommand(const OrderState& order, const CommandOrigin& origin) {
  RebuiltCommand out;
  out.company_code = order.company_code;
  out.currency = order.currency;
  flatbuffers::FlatBufferBuilder fbb(512);
  std::vector<flatbuffers::Offset<Line>> offsets;
  std::string_view business_key;
  ORDERSYNC_RETURN_IF_ERROR(ForEachCommandLine(
      order, origin,
      [&](uint32_t line_no, const std::string& sku, int64_t qty, const std::string& uom, int64_t price) {
        offsets.push_back(CreateLine(fbb, line_no, fbb.CreateString(sku), qty, fbb.CreateString(uom), price));
        out.quantity += qty;
        out.amount_minor += qty * price;
      },
      &business_key));
  auto cmd = CreateErpCommand(fbb, fbb.CreateString(origin.command_id), fbb.CreateString(order.order_id),
                              fbb.CreateString(origin.correlation_id), fbb.CreateString(origin.caused_by_event_id),
                              fbb.CreateString(order.company_code), fbb.CreateString(origin.target), origin.kind,
                              origin.order_cmd_seq, fbb.CreateString(business_key), fbb.CreateVector(offsets),
                              Priority::Standard, origin.issued_at_ns, fbb.CreateString(order.currency),
                              origin.event_occurred_at_ns, order.accepted_at_ns);
  FinishErpCommandBuffer(fbb, cmd);
  out.bytes.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  return out;
}

}  // namespace ordersync
