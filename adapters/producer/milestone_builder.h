// MilestoneBuilder: the C++ producer side of the contract. Encodes an EnvelopeSpec (a
// plain struct naming every field of schemas/milestone.fbs) into an Envelope buffer.
// Used by the load generator, the demo and the tests; producers in other languages use
// flatc-generated code instead (README, "Producing events").
//
// Thread-safety: a MilestoneBuilder owns a FlatBufferBuilder; use one per thread.
// Fields that are empty strings are left out of the buffer, so a spec can express
// "missing field" for negative tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "milestone_generated.h"

namespace ordersync {

struct LineSpec {
  uint32_t line_no = 1;
  std::string sku;
  int64_t qty = 1;
  std::string uom = "EA";
  int64_t unit_price_minor = 0;
};

struct EnvelopeSpec {
  uint16_t schema_version = 1;
  std::string event_id;
  std::string correlation_id;
  std::string order_id;
  std::string source = "WMS-EAST";
  uint64_t source_seq = 0;
  std::string company_code = "1000";
  Priority priority = Priority::Standard;
  int64_t occurred_at_ns = 1'700'000'000'000'000'000;
  Milestone kind = Milestone::OrderAccepted;
  // The payload's business key: reservation_id, pick_id, shipment_id (dispatch and
  // delivery), return_id or adjustment_id. Unused by OrderAccepted and OrderCancelled.
  std::string business_key;
  std::string customer_id = "C-1";   // OrderAccepted
  std::string currency = "EUR";      // OrderAccepted
  std::string warehouse = "WH-1";    // InventoryReserved, PickCompleted, InventoryAdjusted
  std::string carrier = "DHL";       // ShipmentDispatched
  std::string tracking_no;           // ShipmentDispatched
  std::string signed_by;             // DeliveryConfirmed
  std::string reason;                // OrderCancelled, InventoryAdjusted
  std::string sku;                   // InventoryAdjusted
  int64_t delta_qty = 0;             // InventoryAdjusted
  std::vector<LineSpec> lines;       // payloads with lines
};

class MilestoneBuilder {
 public:
  MilestoneBuilder() : fbb_(512) {}

  // Encodes `spec`; the returned view points into this builder and stays valid until the
  // next Build call.
  std::string_view Build(const EnvelopeSpec& spec);

  // Convenience: encode into an owned string.
  static std::string BuildToString(const EnvelopeSpec& spec);

 private:
  flatbuffers::FlatBufferBuilder fbb_;
};

}  // namespace ordersync
