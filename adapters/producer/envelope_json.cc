#include "adapters/producer/envelope_json.h"

#include <string>

#include "milestone_generated.h"

namespace ordersync {
namespace {

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

nlohmann::json LinesJson(const flatbuffers::Vector<flatbuffers::Offset<Line>>* lines) {
  nlohmann::json out = nlohmann::json::array();
  if (lines == nullptr) return out;
  for (const Line* l : *lines) {
    out.push_back({{"line_no", l->line_no()},
                   {"sku", Str(l->sku())},
                   {"qty", l->qty()},
                   {"uom", Str(l->uom())},
                   {"unit_price_minor", l->unit_price_minor()}});
  }
  return out;
}

nlohmann::json PayloadJson(const Envelope* e) {
  switch (e->payload_type()) {
    case Milestone::OrderAccepted: {
      const auto* p = e->payload_as_OrderAccepted();
      return {{"customer_id", Str(p->customer_id())}, {"currency", Str(p->currency())}, {"lines", LinesJson(p->lines())}};
    }
    case Milestone::InventoryReserved: {
      const auto* p = e->payload_as_InventoryReserved();
      return {{"reservation_id", Str(p->reservation_id())},
              {"warehouse", Str(p->warehouse())},
              {"lines", LinesJson(p->lines())}};
    }
    case Milestone::PickCompleted: {
      const auto* p = e->payload_as_PickCompleted();
      return {{"pick_id", Str(p->pick_id())}, {"warehouse", Str(p->warehouse())}, {"lines", LinesJson(p->lines())}};
    }
    case Milestone::ShipmentDispatched: {
      const auto* p = e->payload_as_ShipmentDispatched();
      return {{"shipment_id", Str(p->shipment_id())},
              {"carrier", Str(p->carrier())},
              {"tracking_no", Str(p->tracking_no())},
              {"lines", LinesJson(p->lines())}};
    }
    case Milestone::DeliveryConfirmed: {
      const auto* p = e->payload_as_DeliveryConfirmed();
      return {{"shipment_id", Str(p->shipment_id())}, {"signed_by", Str(p->signed_by())}};
    }
    case Milestone::ReturnReceived: {
      const auto* p = e->payload_as_ReturnReceived();
      return {{"return_id", Str(p->return_id())}, {"lines", LinesJson(p->lines())}};
    }
    case Milestone::OrderCancelled:
      return {{"reason", Str(e->payload_as_OrderCancelled()->reason())}};
    case Milestone::InventoryAdjusted: {
      const auto* p = e->payload_as_InventoryAdjusted();
      return {{"adjustment_id", Str(p->adjustment_id())},
              {"warehouse", Str(p->warehouse())},
              {"sku", Str(p->sku())},
              {"delta_qty", p->delta_qty()},
              {"reason", Str(p->reason())}};
    }
    default:
      return nullptr;
  }
}

}  // namespace

nlohmann::json DecodeEnvelopeJson(std::string_view frame) {
  if (frame.size() < 8) return {{"decoded", false}, {"why", "too short to be an Envelope"}};
  std::string aligned(frame);  // FlatBuffers reads in place: copy to an aligned buffer
  const auto* data = reinterpret_cast<const uint8_t*>(aligned.data());
  flatbuffers::Verifier verifier(data, aligned.size());
  if (!verifier.VerifyBuffer<Envelope>(nullptr)) {
    return {{"decoded", false}, {"why", "not a verifiable Envelope (truncated, corrupt or another format)"}};
  }
  const Envelope* e = flatbuffers::GetRoot<Envelope>(data);
  const std::string identifier(aligned.data() + 4, 4);
  const uint8_t kind = static_cast<uint8_t>(e->payload_type());
  const char* milestone = EnumNameMilestone(e->payload_type());  // "" when out of range
  nlohmann::json envelope = {{"schema_version", e->schema_version()},
                             {"event_id", Str(e->event_id())},
                             {"correlation_id", Str(e->correlation_id())},
                             {"order_id", Str(e->order_id())},
                             {"source", Str(e->source())},
                             {"source_seq", e->source_seq()},
                             {"company_code", Str(e->company_code())},
                             {"priority", EnumNamePriority(e->priority())},
                             {"occurred_at_ns", e->occurred_at_ns()},
                             {"milestone", *milestone != '\0' ? milestone : "unknown(" + std::to_string(kind) + ")"},
                             {"payload", PayloadJson(e)}};
  return {{"decoded", true}, {"file_identifier", identifier}, {"envelope", envelope}};
}

}  // namespace ordersync
