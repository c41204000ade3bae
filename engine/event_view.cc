#include "engine/event_view.h"

#include "engine/hash.h"

namespace ordersync {
namespace {

uint64_t HashLines(const LineVector* lines, uint64_t h) {
  if (lines == nullptr) return HashU64(0, h);
  h = HashU64(lines->size(), h);
  for (const Line* l : *lines) {
    h = HashU64(l->line_no(), h);
    h = HashField(ToView(l->sku()), h);
    h = HashU64(static_cast<uint64_t>(l->qty()), h);
    h = HashField(ToView(l->uom()), h);
    h = HashU64(static_cast<uint64_t>(l->unit_price_minor()), h);
  }
  return h;
}

}  // namespace

EventView MakeEventView(const Envelope* e) {
  EventView v;
  v.envelope = e;
  v.kind = e->payload_type();
  v.event_id = ToView(e->event_id());
  v.order_id = ToView(e->order_id());
  v.source = ToView(e->source());
  v.correlation_id = ToView(e->correlation_id());
  v.company_code = ToView(e->company_code());
  v.source_seq = e->source_seq();
  v.occurred_at_ns = e->occurred_at_ns();
  v.priority = e->priority();

  uint64_t h = HashU64(static_cast<uint64_t>(v.kind), kFnvOffsetBasis);
  h = HashField(v.order_id, h);
  switch (v.kind) {
    case Milestone::OrderAccepted: {
      const auto* p = e->payload_as_OrderAccepted();
      v.business_key = v.order_id;
      v.lines = p->lines();
      h = HashField(ToView(p->customer_id()), h);
      h = HashField(ToView(p->currency()), h);
      break;
    }
    case Milestone::InventoryReserved: {
      const auto* p = e->payload_as_InventoryReserved();
      v.business_key = ToView(p->reservation_id());
      v.lines = p->lines();
      h = HashField(ToView(p->warehouse()), h);
      break;
    }
    case Milestone::PickCompleted: {
      const auto* p = e->payload_as_PickCompleted();
      v.business_key = ToView(p->pick_id());
      v.lines = p->lines();
      h = HashField(ToView(p->warehouse()), h);
      break;
    }
    case Milestone::ShipmentDispatched: {
      const auto* p = e->payload_as_ShipmentDispatched();
      v.business_key = ToView(p->shipment_id());
      v.lines = p->lines();
      h = HashField(ToView(p->carrier()), h);
      h = HashField(ToView(p->tracking_no()), h);
      break;
    }
    case Milestone::DeliveryConfirmed: {
      const auto* p = e->payload_as_DeliveryConfirmed();
      v.business_key = ToView(p->shipment_id());
      h = HashField(ToView(p->signed_by()), h);
      break;
    }
    case Milestone::ReturnReceived: {
      const auto* p = e->payload_as_ReturnReceived();
      v.business_key = ToView(p->return_id());
      v.lines = p->lines();
      break;
    }
    case Milestone::OrderCancelled: {
      v.business_key = v.order_id;
      h = HashField(ToView(e->payload_as_OrderCancelled()->reason()), h);
      break;
    }
    case Milestone::InventoryAdjusted: {
      const auto* p = e->payload_as_InventoryAdjusted();
      v.business_key = ToView(p->adjustment_id());
      h = HashField(ToView(p->warehouse()), h);
      h = HashField(ToView(p->sku()), h);
      h = HashU64(static_cast<uint64_t>(p->delta_qty()), h);
      h = HashField(ToView(p->reason()), h);
      break;
    }
    case Milestone::NONE:
      break;
  }
  h = HashField(v.business_key, h);
  v.fingerprint = HashLines(v.lines, h);
  return v;
}

}  // namespace ordersync
