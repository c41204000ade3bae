// EventView: the fields of a validated Envelope the engine works with, extracted once
// per event: kind, ids, the business key of its payload and a fingerprint of its business
// content (for telling a duplicate from a conflicting resend).
//
// The business key names the fact an event establishes within its order:
//   OrderAccepted, OrderCancelled -> order_id     InventoryReserved -> reservation_id
//   PickCompleted -> pick_id                      ShipmentDispatched -> shipment_id
//   DeliveryConfirmed -> shipment_id              ReturnReceived -> return_id
//   InventoryAdjusted -> adjustment_id
// The fingerprint covers the payload's business fields and lines, not transport fields
// (correlation_id, occurred_at_ns, priority, source_seq), so a re-encoded resend of the
// same fact matches.
//
// Thread-safety: a view points into the event's buffer; valid while the buffer is.
#pragma once

#include <cstdint>
#include <string_view>

#include "milestone_generated.h"

namespace ordersync {

using LineVector = flatbuffers::Vector<flatbuffers::Offset<Line>>;

struct EventView {
  const Envelope* envelope = nullptr;
  Milestone kind = Milestone::NONE;
  std::string_view event_id;
  std::string_view order_id;
  std::string_view source;
  std::string_view correlation_id;
  std::string_view company_code;
  std::string_view business_key;
  uint64_t source_seq = 0;
  uint64_t fingerprint = 0;
  int64_t occurred_at_ns = 0;
  Priority priority = Priority::Standard;
  const LineVector* lines = nullptr;  // null for payloads without lines
};

// REQUIRES: `envelope` passed ValidateEnvelope.
EventView MakeEventView(const Envelope* envelope);

inline std::string_view ToView(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

}  // namespace ordersync
