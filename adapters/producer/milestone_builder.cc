#include "adapters/producer/milestone_builder.h"

namespace ordersync {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

Offset<flatbuffers::String> OptString(FlatBufferBuilder& fbb, const std::string& s) {
  return s.empty() ? 0 : fbb.CreateString(s);
}

Offset<flatbuffers::Vector<Offset<Line>>> BuildLines(FlatBufferBuilder& fbb,
                                                      const std::vector<LineSpec>& lines) {
  if (lines.empty()) return 0;
  std::vector<Offset<Line>> offsets;
  offsets.reserve(lines.size());
  for (const LineSpec& l : lines) {
    offsets.push_back(CreateLine(fbb, l.line_no, OptString(fbb, l.sku), l.qty, OptString(fbb, l.uom),
                                 l.unit_price_minor));
  }
  return fbb.CreateVector(offsets);
}

Offset<void> BuildPayload(FlatBufferBuilder& fbb, const EnvelopeSpec& s) {
  switch (s.kind) {
    case Milestone::OrderAccepted:
      return CreateOrderAccepted(fbb, OptString(fbb, s.customer_id), OptString(fbb, s.currency),
                                 BuildLines(fbb, s.lines)).Union();
    case Milestone::InventoryReserved:
      return CreateInventoryReserved(fbb, OptString(fbb, s.business_key), OptString(fbb, s.warehouse),
                                     BuildLines(fbb, s.lines)).Union();
    case Milestone::PickCompleted:
      return CreatePickCompleted(fbb, OptString(fbb, s.business_key), OptString(fbb, s.warehouse),
                                 BuildLines(fbb, s.lines)).Union();
    case Milestone::ShipmentDispatched:
      return CreateShipmentDispatched(fbb, OptString(fbb, s.business_key), OptString(fbb, s.carrier),
                                      OptString(fbb, s.tracking_no), BuildLines(fbb, s.lines)).Union();
    case Milestone::DeliveryConfirmed:
      return CreateDeliveryConfirmed(fbb, OptString(fbb, s.business_key), OptString(fbb, s.signed_by)).Union();
    case Milestone::ReturnReceived:
      return CreateReturnReceived(fbb, OptString(fbb, s.business_key), BuildLines(fbb, s.lines)).Union();
    case Milestone::OrderCancelled:
      return CreateOrderCancelled(fbb, OptString(fbb, s.reason)).Union();
    case Milestone::InventoryAdjusted:
      return CreateInventoryAdjusted(fbb, OptString(fbb, s.business_key), OptString(fbb, s.warehouse),
                                     OptString(fbb, s.sku), s.delta_qty, OptString(fbb, s.reason)).Union();
    case Milestone::NONE:
      break;
  }
  return 0;
}

}  // namespace

std::string_view MilestoneBuilder::Build(const EnvelopeSpec& s) {
  fbb_.Clear();
  auto payload = BuildPayload(fbb_, s);
  auto event_id = OptString(fbb_, s.event_id);
  auto correlation_id = OptString(fbb_, s.correlation_id);
  auto order_id = OptString(fbb_, s.order_id);
  auto source = OptString(fbb_, s.source);
  auto company_code = OptString(fbb_, s.company_code);
  EnvelopeBuilder b(fbb_);
  b.add_schema_version(s.schema_version);
  b.add_event_id(event_id);
  b.add_correlation_id(correlation_id);
  b.add_order_id(order_id);
  b.add_source(source);
  b.add_source_seq(s.source_seq);
  b.add_company_code(company_code);
  b.add_priority(s.priority);
  b.add_occurred_at_ns(s.occurred_at_ns);
  b.add_payload_type(s.kind);
  if (!payload.IsNull()) b.add_payload(payload);
  FinishEnvelopeBuffer(fbb_, b.Finish());
  return {reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize()};
}

std::string MilestoneBuilder::BuildToString(const EnvelopeSpec& spec) {
  MilestoneBuilder builder;
  return std::string(builder.Build(spec));
}

}  // namespace ordersync
