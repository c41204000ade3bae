// The lifecycle table. Read it top to bottom as the life of an order:
//
//   kind                needs order  prerequisite (else park)      emits
//   OrderAccepted       -            -                             CreateSalesOrder
//   InventoryReserved   yes          -  (guard: reserved <= ordered) ConfirmAllocation
//   PickCompleted       yes          reservation covers the pick   -
//   ShipmentDispatched  yes          pick covers the shipment      PostGoodsIssue, CreateInvoice (bill_on=ship)
//   DeliveryConfirmed   yes          the shipment exists           CreateInvoice (bill_on=delivery)
//   ReturnReceived      yes          shipments cover the return    CreateCreditMemo
//   OrderCancelled      yes          -  (guard: nothing shipped)   ReleaseAllocation per reservation, CancelSalesOrder
//   InventoryAdjusted   -            -                             PostInventoryAdjustment
//
// Events other than OrderCancelled and InventoryAdjusted are refused once the order is
// cancelled (business_rule: order_cancelled).
#include "engine/lifecycle_rules.h"

namespace ordersync {
namespace {

Verdict NoGuard(const OrderState&, const EventView&) { return Verdict::Apply(); }

Fact& AddFact(OrderState& order, const EventView& e, bool keep_lines) {
  Fact f;
  f.kind = e.kind;
  f.business_key = std::string(e.business_key);
  f.fingerprint = e.fingerprint;
  f.event_id = std::string(e.event_id);
  if (keep_lines) f.lines = CopyLines(e.lines);
  f.at_ns = e.occurred_at_ns;
  order.facts.push_back(std::move(f));
  return order.facts.back();
}

// Adds each event line's qty to the LineState field selected by `field`.
void AddToLines(OrderState& order, const EventView& e, int64_t LineState::*field) {
  for (const Line* l : *e.lines) order.FindLine(l->line_no())->*field += l->qty();
}

// True if for every event line: `have` >= `used` + qty.
bool Covers(const OrderState& order, const EventView& e, int64_t LineState::*have, int64_t LineState::*used) {
  for (const Line* l : *e.lines) {
    for (const LineState& s : order.lines) {
      if (s.line_no == l->line_no() && s.*have < s.*used + l->qty()) return false;
    }
  }
  return true;
}

// --- OrderAccepted ---
void ApplyOrderAccepted(OrderState& o, const EventView& e, const EngineOptions&, CommandEmitter& out) {
  const auto* p = e.envelope->payload_as_OrderAccepted();
  o.accepted = true;
  o.customer_id = std::string(ToView(p->customer_id()));
  o.currency = std::string(ToView(p->currency()));
  o.company_code = std::string(e.company_code);
  o.accepted_at_ns = e.occurred_at_ns;
  for (const Line* l : *e.lines) {
    LineState s;
    s.line_no = l->line_no();
    s.sku = std::string(ToView(l->sku()));
    s.uom = std::string(ToView(l->uom()));
    s.unit_price_minor = l->unit_price_minor();
    s.ordered = l->qty();
    o.lines.push_back(std::move(s));
  }
  AddFact(o, e, /*keep_lines=*/false);
  out.Emit(CommandKind::CreateSalesOrder, e.order_id, LinesRef{e.lines, nullptr});
}

// --- InventoryReserved ---
Verdict GuardReservation(const OrderState& o, const EventView& e) {
  for (const Line* l : *e.lines) {
    for (const LineState& s : o.lines) {
      if (s.line_no == l->line_no() && s.reserved + l->qty() > s.ordered) {
        return Verdict::Exception(FailureClass::kBusinessRule,
                                  "over_reservation:line " + std::to_string(s.line_no) + " reserves " +
                                      std::to_string(s.reserved + l->qty()) + " of " + std::to_string(s.ordered) +
                                      " ordered");
      }
    }
  }
  return Verdict::Apply();
}

void ApplyReservation(OrderState& o, const EventView& e, const EngineOptions&, CommandEmitter& out) {
  AddToLines(o, e, &LineState::reserved);
  AddFact(o, e, /*keep_lines=*/true);  // ReleaseAllocation on cancel needs them
  out.Emit(CommandKind::ConfirmAllocation, e.business_key, LinesRef{e.lines, nullptr});
}

// --- PickCompleted ---
void ApplyPick(OrderState& o, const EventView& e, const EngineOptions&, CommandEmitter&) {
  AddToLines(o, e, &LineState::picked);
  AddFact(o, e, /*keep_lines=*/false);
}

// --- ShipmentDispatched ---
void ApplyShipment(OrderState& o, const EventView& e, const EngineOptions& options, CommandEmitter& out) {
  AddToLines(o, e, &LineState::shipped);
  Fact& shipment = AddFact(o, e, /*keep_lines=*/true);  // invoice on delivery needs them
  out.Emit(CommandKind::PostGoodsIssue, e.business_key, LinesRef{e.lines, nullptr});
  if (options.bill_on == BillOn::kShip) {
    shipment.invoiced = true;
    out.Emit(CommandKind::CreateInvoice, e.business_key, LinesRef{e.lines, nullptr});
  }
}

// --- DeliveryConfirmed ---
void ApplyDelivery(OrderState& o, const EventView& e, const EngineOptions& options, CommandEmitter& out) {
  AddFact(o, e, /*keep_lines=*/false);
  Fact* shipment = o.FindFact(Milestone::ShipmentDispatched, e.business_key);
  shipment->delivered = true;
  if (options.bill_on == BillOn::kDelivery && !shipment->invoiced) {
    shipment->invoiced = true;
    out.Emit(CommandKind::CreateInvoice, e.business_key, LinesRef{nullptr, &shipment->lines});
  }
}

// --- ReturnReceived ---
void ApplyReturn(OrderState& o, const EventView& e, const EngineOptions&, CommandEmitter& out) {
  AddToLines(o, e, &LineState::returned);
  AddFact(o, e, /*keep_lines=*/true);  // reconcile --repair rebuilds the credit memo from them
  out.Emit(CommandKind::CreateCreditMemo, e.business_key, LinesRef{e.lines, nullptr});
}

// --- OrderCancelled ---
Verdict GuardCancel(const OrderState& o, const EventView&) {
  if (o.HasShipment()) return Verdict::Exception(FailureClass::kBusinessRule, "cancel_after_shipment");
  return Verdict::Apply();
}

void ApplyCancel(OrderState& o, const EventView& e, const EngineOptions&, CommandEmitter& out) {
  o.cancelled = true;
  AddFact(o, e, /*keep_lines=*/false);
  for (const Fact& f : o.facts) {  // compensations first, in reservation order
    if (f.kind == Milestone::InventoryReserved) {
      out.Emit(CommandKind::ReleaseAllocation, f.business_key, LinesRef{nullptr, &f.lines});
    }
  }
  out.Emit(CommandKind::CancelSalesOrder, e.order_id, LinesRef{});
}

// --- InventoryAdjusted ---
void ApplyAdjustment(OrderState& o, const EventView& e, const EngineOptions&, CommandEmitter& out) {
  const auto* p = e.envelope->payload_as_InventoryAdjusted();
  Fact& f = AddFact(o, e, /*keep_lines=*/false);
  // The command's company (reconcile --repair rebuilds the adjustment from the order);
  // an accepted order's own company_code is left as it is.
  if (o.company_code.empty()) o.company_code = std::string(e.company_code);
  f.lines.push_back(LineItem{1, std::string(ToView(p->sku())), p->delta_qty(), std::string(), 0});
  out.Emit(CommandKind::PostInventoryAdjustment, e.business_key, LinesRef{nullptr, &f.lines});
}

using CK = CommandKind;
using M = Milestone;
using P = Prerequisite;

// clang-format off
constexpr LifecycleRule kRules[] = {
  // kind                  needs_order prerequisite           refused_when_cancelled emits                                         n  guard             apply
  {M::OrderAccepted,       false,      P::kNone,              false, {CK::CreateSalesOrder, CK::CreateSalesOrder},               1, NoGuard,          ApplyOrderAccepted},
  {M::InventoryReserved,   true,       P::kNone,              true,  {CK::ConfirmAllocation, CK::ConfirmAllocation},             1, GuardReservation, ApplyReservation},
  {M::PickCompleted,       true,       P::kReservationCovers, true,  {CK::CreateSalesOrder, CK::CreateSalesOrder},               0, NoGuard,          ApplyPick},
  {M::ShipmentDispatched,  true,       P::kPickCovers,        true,  {CK::PostGoodsIssue, CK::CreateInvoice},                    2, NoGuard,          ApplyShipment},
  {M::DeliveryConfirmed,   true,       P::kShipmentExists,    true,  {CK::CreateInvoice, CK::CreateInvoice},                     1, NoGuard,          ApplyDelivery},
  {M::ReturnReceived,      true,       P::kShipmentCovers,    true,  {CK::CreateCreditMemo, CK::CreateCreditMemo},               1, NoGuard,          ApplyReturn},
  {M::OrderCancelled,      true,       P::kNone,              false, {CK::ReleaseAllocation, CK::CancelSalesOrder},              2, GuardCancel,      ApplyCancel},
  {M::InventoryAdjusted,   false,      P::kNone,              false, {CK::PostInventoryAdjustment, CK::PostInventoryAdjustment}, 1, NoGuard,          ApplyAdjustment},
};
// clang-format on

bool PrerequisiteMet(Prerequisite p, const OrderState& o, const EventView& e) {
  switch (p) {
    case P::kNone:
    case P::kSourceSeq:
    case P::kCreditHold:  // decided by the master-data gate, never by a rule
      return true;
    case P::kOrderAccepted: return o.accepted;
    case P::kReservationCovers: return Covers(o, e, &LineState::reserved, &LineState::picked);
    case P::kPickCovers: return Covers(o, e, &LineState::picked, &LineState::shipped);
    case P::kShipmentExists:
      return o.FindFact(M::ShipmentDispatched, e.business_key) != nullptr;
    case P::kShipmentCovers: return Covers(o, e, &LineState::shipped, &LineState::returned);
  }
  return false;
}

// Every event line must name a line of the order, with the same sku.
Verdict CheckLineReferences(const OrderState& o, const EventView& e) {
  if (e.lines == nullptr || e.kind == M::OrderAccepted) return Verdict::Apply();
  for (const Line* l : *e.lines) {
    const LineState* s = o.FindLine(l->line_no());
    if (s == nullptr) {
      return Verdict::Exception(FailureClass::kInvalidInput, "unknown_line:" + std::to_string(l->line_no()));
    }
    if (s->sku != ToView(l->sku())) {
      return Verdict::Exception(FailureClass::kInvalidInput,
                                "sku_mismatch:line " + std::to_string(l->line_no()) + " is " + s->sku + ", event says " +
                                    std::string(ToView(l->sku())));
    }
  }
  return Verdict::Apply();
}

}  // namespace

std::string_view PrerequisiteName(Prerequisite p) {
  switch (p) {
    case P::kNone: return "none";
    case P::kOrderAccepted: return "order_accepted";
    case P::kReservationCovers: return "reservation";
    case P::kPickCovers: return "pick";
    case P::kShipmentExists: return "shipment";
    case P::kShipmentCovers: return "shipment";
    case P::kSourceSeq: return "source_seq";
    case P::kCreditHold: return "credit_hold";
  }
  return "unknown";
}

std::string_view FailureClassName(FailureClass c) {
  switch (c) {
    case FailureClass::kInvalidInput: return "invalid_input";
    case FailureClass::kBusinessRule: return "business_rule";
    case FailureClass::kMissingPrerequisite: return "missing_prerequisite";
    case FailureClass::kConflictingDuplicate: return "conflicting_duplicate";
    case FailureClass::kMasterData: return "master_data";
    case FailureClass::kPriceMismatch: return "price_mismatch";
  }
  return "unknown";
}

const LifecycleRule* FindRule(Milestone kind) {
  for (const LifecycleRule& r : kRules) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

Verdict Evaluate(const LifecycleRule& rule, const OrderState& order, const EventView& event) {
  if (rule.refused_when_cancelled && order.cancelled) {
    return Verdict::Exception(FailureClass::kBusinessRule, "order_cancelled");
  }
  if (rule.needs_order && !order.accepted) return Verdict::Park(P::kOrderAccepted);
  if (Verdict v = CheckLineReferences(order, event); v.kind != Verdict::Kind::kApply) return v;
  if (!PrerequisiteMet(rule.needs, order, event)) return Verdict::Park(rule.needs);
  return rule.guard(order, event);
}

}  // namespace ordersync
