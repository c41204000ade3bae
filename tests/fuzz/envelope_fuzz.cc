// libFuzzer target for the ingress gate: arbitrary bytes go through ValidateEnvelope
// (FlatBuffers verifier + contract checks). When a frame is accepted, every field the
// engine may read is read here, so ASan/UBSan see any read the verifier let through,
// and the contract's promises about accepted frames are asserted (a broken promise
// aborts, which libFuzzer reports as a crash).
//
// Run: see docs/contract.md, "Fuzzing the validator".
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/envelope_validator.h"

namespace ordersync {
namespace {

uint64_t sink = 0;

#define FUZZ_ASSERT(cond) \
  do {                    \
    if (!(cond)) std::abort(); \
  } while (0)

// Reads every byte of a string; returns its size.
size_t Touch(const flatbuffers::String* s) {
  if (s == nullptr) return 0;
  for (uint8_t ch : *s) sink += ch;
  FUZZ_ASSERT(s->c_str()[s->size()] == '\0');  // the verifier guarantees the terminator
  return s->size();
}

void Required(const flatbuffers::String* s, size_t max) {
  FUZZ_ASSERT(s != nullptr);
  size_t n = Touch(s);
  FUZZ_ASSERT(n >= 1 && n <= max);
}

void TouchLines(const flatbuffers::Vector<flatbuffers::Offset<Line>>* lines, const ValidatorOptions& o) {
  FUZZ_ASSERT(lines != nullptr && lines->size() >= 1 && lines->size() <= o.max_lines);
  for (const Line* line : *lines) {
    FUZZ_ASSERT(line->line_no() >= 1);
    Required(line->sku(), ValidatorOptions::kMaxFieldBytes);
    Touch(line->uom());
    FUZZ_ASSERT(line->qty() > 0);
    FUZZ_ASSERT(line->unit_price_minor() >= 0);
    sink += line->line_no() + static_cast<uint64_t>(line->qty()) + static_cast<uint64_t>(line->unit_price_minor());
  }
}

void TouchEnvelope(const Envelope& e, const ValidatorOptions& o) {
  FUZZ_ASSERT(e.schema_version() == kCurrentSchemaVersion);
  Required(e.event_id(), ValidatorOptions::kMaxEventIdBytes);
  Required(e.order_id(), ValidatorOptions::kMaxOrderIdBytes);
  Required(e.source(), ValidatorOptions::kMaxFieldBytes);
  Touch(e.correlation_id());
  Touch(e.company_code());
  FUZZ_ASSERT(e.occurred_at_ns() > 0);
  FUZZ_ASSERT(e.priority() == Priority::Standard || e.priority() == Priority::SameDay);
  sink += e.source_seq() + static_cast<uint64_t>(e.occurred_at_ns());
  switch (e.payload_type()) {
    case Milestone::OrderAccepted: {
      const auto* p = e.payload_as_OrderAccepted();
      Required(p->customer_id(), ValidatorOptions::kMaxFieldBytes);
      Required(p->currency(), ValidatorOptions::kMaxFieldBytes);
      TouchLines(p->lines(), o);
      break;
    }
    case Milestone::InventoryReserved: {
      const auto* p = e.payload_as_InventoryReserved();
      Required(p->reservation_id(), ValidatorOptions::kMaxFieldBytes);
      Required(p->warehouse(), ValidatorOptions::kMaxFieldBytes);
      TouchLines(p->lines(), o);
      break;
    }
    case Milestone::PickCompleted: {
      const auto* p = e.payload_as_PickCompleted();
      Required(p->pick_id(), ValidatorOptions::kMaxFieldBytes);
      Required(p->warehouse(), ValidatorOptions::kMaxFieldBytes);
      TouchLines(p->lines(), o);
      break;
    }
    case Milestone::ShipmentDispatched: {
      const auto* p = e.payload_as_ShipmentDispatched();
      Required(p->shipment_id(), ValidatorOptions::kMaxFieldBytes);
      Touch(p->carrier());
      Touch(p->tracking_no());
      TouchLines(p->lines(), o);
      break;
    }
    case Milestone::DeliveryConfirmed: {
      const auto* p = e.payload_as_DeliveryConfirmed();
      Required(p->shipment_id(), ValidatorOptions::kMaxFieldBytes);
      Touch(p->signed_by());
      break;
    }
    case Milestone::ReturnReceived: {
      const auto* p = e.payload_as_ReturnReceived();
      Required(p->return_id(), ValidatorOptions::kMaxFieldBytes);
      TouchLines(p->lines(), o);
      break;
    }
    case Milestone::OrderCancelled: {
      const auto* p = e.payload_as_OrderCancelled();
      FUZZ_ASSERT(p != nullptr);
      Touch(p->reason());
      break;
    }
    case Milestone::InventoryAdjusted: {
      const auto* p = e.payload_as_InventoryAdjusted();
      Required(p->adjustment_id(), ValidatorOptions::kMaxFieldBytes);
      Required(p->warehouse(), ValidatorOptions::kMaxFieldBytes);
      Required(p->sku(), ValidatorOptions::kMaxFieldBytes);
      Touch(p->reason());
      FUZZ_ASSERT(p->delta_qty() != 0);
      sink += static_cast<uint64_t>(p->delta_qty());
      break;
    }
    case Milestone::NONE:
    default:
      std::abort();  // accepted frames always carry a known payload
  }
}

}  // namespace
}  // namespace ordersync

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ordersync;
  static const ValidatorOptions options;
  const Envelope* envelope = nullptr;
  Rejection r = ValidateEnvelope(data, size, options, &envelope);
  if (r.ok()) {
    FUZZ_ASSERT(envelope != nullptr);
    TouchEnvelope(*envelope, options);
  } else {
    FUZZ_ASSERT(envelope == nullptr);
    FUZZ_ASSERT(!r.ToString().empty() && !r.Describe().empty());
  }
  return 0;
}
