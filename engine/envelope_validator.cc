#include "engine/envelope_validator.h"

#include <algorithm>
#include <vector>

#include "flatbuffers/flatbuffers.h"

namespace ordersync {
namespace {

// Longest free-text field (cancel reason, adjustment reason).
constexpr size_t kMaxTextBytes = 1024;
// Below this many lines, duplicate line numbers are found by pairwise comparison.
constexpr size_t kPairwiseLineCheckLimit = 64;

Rejection Reject(RejectCode code, std::string_view field = {}) { return {code, field}; }

// Required string: present, non-empty, at most `max` bytes.
Rejection CheckRequired(const flatbuffers::String* s, std::string_view name, size_t max) {
  if (s == nullptr || s->size() == 0) return Reject(RejectCode::kMissingField, name);
  if (s->size() > max) return Reject(RejectCode::kFieldTooLong, name);
  return {};
}

// Optional string: absent or at most `max` bytes.
Rejection CheckOptional(const flatbuffers::String* s, std::string_view name, size_t max) {
  if (s != nullptr && s->size() > max) return Reject(RejectCode::kFieldTooLong, name);
  return {};
}

bool HasDuplicateLineNo(const flatbuffers::Vector<flatbuffers::Offset<Line>>& lines) {
  const size_t n = lines.size();
  if (n <= kPairwiseLineCheckLimit) {
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 1; j < n; ++j) {
        if (lines.Get(i)->line_no() == lines.Get(j)->line_no()) return true;
      }
    }
    return false;
  }
  std::vector<uint32_t> numbers;
  numbers.reserve(n);
  for (const Line* line : lines) numbers.push_back(line->line_no());
  std::sort(numbers.begin(), numbers.end());
  return std::adjacent_find(numbers.begin(), numbers.end()) != numbers.end();
}

Rejection CheckLines(const flatbuffers::Vector<flatbuffers::Offset<Line>>* lines,
                     const ValidatorOptions& options) {
  if (lines == nullptr || lines->size() == 0) return Reject(RejectCode::kEmptyLines);
  if (lines->size() > options.max_lines) return Reject(RejectCode::kTooManyLines);
  for (const Line* line : *lines) {
    if (line->line_no() == 0) return Reject(RejectCode::kInvalidLineNo);
    if (auto r = CheckRequired(line->sku(), "lines.sku", ValidatorOptions::kMaxFieldBytes); !r.ok()) return r;
    if (auto r = CheckOptional(line->uom(), "lines.uom", ValidatorOptions::kMaxFieldBytes); !r.ok()) return r;
    if (line->qty() <= 0) return Reject(RejectCode::kNonPositiveQty);
    if (line->unit_price_minor() < 0) return Reject(RejectCode::kNegativeUnitPrice);
  }
  if (HasDuplicateLineNo(*lines)) return Reject(RejectCode::kDuplicateLineNo);
  return {};
}

#define ORDERSYNC_CHECK(expr)       \
  do {                              \
    Rejection _r = (expr);          \
    if (!_r.ok()) return _r;        \
  } while (0)

constexpr size_t kId = ValidatorOptions::kMaxFieldBytes;

Rejection CheckPayload(const Envelope& e, const ValidatorOptions& o) {
  // The verifier accepts a known union type whose value is absent (a null table is
  // valid FlatBuffers); every payload_as_X() below would then return nullptr.
  if (e.payload_type() != Milestone::NONE && e.payload_type() <= Milestone::MAX && e.payload() == nullptr) {
    return Reject(RejectCode::kMissingField, "payload");
  }
  switch (e.payload_type()) {
    case Milestone::OrderAccepted: {
      const auto* p = e.payload_as_OrderAccepted();
      ORDERSYNC_CHECK(CheckRequired(p->customer_id(), "customer_id", kId));
      ORDERSYNC_CHECK(CheckRequired(p->currency(), "currency", kId));
      return CheckLines(p->lines(), o);
    }
    case Milestone::InventoryReserved: {
      const auto* p = e.payload_as_InventoryReserved();
      ORDERSYNC_CHECK(CheckRequired(p->reservation_id(), "reservation_id", kId));
      ORDERSYNC_CHECK(CheckRequired(p->warehouse(), "warehouse", kId));
      return CheckLines(p->lines(), o);
    }
    case Milestone::PickCompleted: {
      const auto* p = e.payload_as_PickCompleted();
      ORDERSYNC_CHECK(CheckRequired(p->pick_id(), "pick_id", kId));
      ORDERSYNC_CHECK(CheckRequired(p->warehouse(), "warehouse", kId));
      return CheckLines(p->lines(), o);
    }
    case Milestone::ShipmentDispatched: {
      const auto* p = e.payload_as_ShipmentDispatched();
      ORDERSYNC_CHECK(CheckRequired(p->shipment_id(), "shipment_id", kId));
      ORDERSYNC_CHECK(CheckOptional(p->carrier(), "carrier", kId));
      ORDERSYNC_CHECK(CheckOptional(p->tracking_no(), "tracking_no", kId));
      return CheckLines(p->lines(), o);
    }
    case Milestone::DeliveryConfirmed: {
      const auto* p = e.payload_as_DeliveryConfirmed();
      ORDERSYNC_CHECK(CheckRequired(p->shipment_id(), "shipment_id", kId));
      return CheckOptional(p->signed_by(), "signed_by", kId);
    }
    case Milestone::ReturnReceived: {
      const auto* p = e.payload_as_ReturnReceived();
      ORDERSYNC_CHECK(CheckRequired(p->return_id(), "return_id", kId));
      return CheckLines(p->lines(), o);
    }
    case Milestone::OrderCancelled:
      return CheckOptional(e.payload_as_OrderCancelled()->reason(), "reason", kMaxTextBytes);
    case Milestone::InventoryAdjusted: {
      const auto* p = e.payload_as_InventoryAdjusted();
      ORDERSYNC_CHECK(CheckRequired(p->adjustment_id(), "adjustment_id", kId));
      ORDERSYNC_CHECK(CheckRequired(p->warehouse(), "warehouse", kId));
      ORDERSYNC_CHECK(CheckRequired(p->sku(), "sku", kId));
      ORDERSYNC_CHECK(CheckOptional(p->reason(), "reason", kMaxTextBytes));
      if (p->delta_qty() == 0) return Reject(RejectCode::kZeroDeltaQty);
      return {};
    }
    case Milestone::NONE:
      break;
  }
  return Reject(RejectCode::kUnknownPayload);  // NONE, or a member newer than this build
}

}  // namespace

std::string_view RejectCodeName(RejectCode code) {
  switch (code) {
    case RejectCode::kNone: return "ok";
    case RejectCode::kOversizedMessage: return "oversized_message";
    case RejectCode::kTruncatedOrCorrupt: return "truncated_or_corrupt";
    case RejectCode::kWrongFileIdentifier: return "wrong_file_identifier";
    case RejectCode::kUnsupportedSchemaVersion: return "unsupported_schema_version";
    case RejectCode::kMissingField: return "missing_field";
    case RejectCode::kFieldTooLong: return "field_too_long";
    case RejectCode::kEmptyLines: return "empty_lines";
    case RejectCode::kNonPositiveQty: return "non_positive_qty";
    case RejectCode::kUnknownPayload: return "unknown_payload";
    case RejectCode::kNegativeUnitPrice: return "negative_unit_price";
    case RejectCode::kInvalidLineNo: return "invalid_line_no";
    case RejectCode::kDuplicateLineNo: return "duplicate_line_no";
    case RejectCode::kTooManyLines: return "too_many_lines";
    case RejectCode::kZeroDeltaQty: return "zero_delta_qty";
    case RejectCode::kInvalidTimestamp: return "invalid_timestamp";
    case RejectCode::kInvalidPriority: return "invalid_priority";
  }
  return "unknown";
}

std::string Rejection::ToString() const {
  std::string out(RejectCodeName(code));
  if (!field.empty()) {
    out.push_back(':');
    out.append(field);
  }
  return out;
}

std::string Rejection::Describe() const {
  std::string f(field);
  switch (code) {
    case RejectCode::kNone: return "valid";
    case RejectCode::kOversizedMessage: return "frame is larger than the configured max_message_bytes";
    case RejectCode::kTruncatedOrCorrupt: return "frame is not a well-formed FlatBuffer (truncated or corrupt)";
    case RejectCode::kWrongFileIdentifier: return "frame is not a milestone Envelope (file identifier is not \"OSEV\")";
    case RejectCode::kUnsupportedSchemaVersion: return "schema_version is not one this build reads (1)";
    case RejectCode::kMissingField: return "required field '" + f + "' is missing or empty";
    case RejectCode::kFieldTooLong: return "field '" + f + "' is longer than the contract allows";
    case RejectCode::kEmptyLines: return "payload needs at least one line";
    case RejectCode::kNonPositiveQty: return "a line has qty <= 0";
    case RejectCode::kUnknownPayload: return "payload is absent or of a kind this build does not know";
    case RejectCode::kNegativeUnitPrice: return "a line has a negative unit_price_minor";
    case RejectCode::kInvalidLineNo: return "a line has line_no 0 (line numbers start at 1)";
    case RejectCode::kDuplicateLineNo: return "two lines share a line_no";
    case RejectCode::kTooManyLines: return "more lines than max_lines";
    case RejectCode::kZeroDeltaQty: return "InventoryAdjusted.delta_qty is 0";
    case RejectCode::kInvalidTimestamp: return "occurred_at_ns must be a positive Unix time in ns";
    case RejectCode::kInvalidPriority: return "priority is not Standard (0) or SameDay (1)";
  }
  return "unknown rejection";
}

Rejection ValidateEnvelope(const uint8_t* data, size_t size, const ValidatorOptions& options,
                           const Envelope** envelope) {
  if (size > options.max_message_bytes) return Reject(RejectCode::kOversizedMessage);
  // A root offset plus a file identifier is the smallest buffer that can carry one.
  if (data == nullptr || size < sizeof(flatbuffers::uoffset_t) + flatbuffers::kFileIdentifierLength) {
    return Reject(RejectCode::kTruncatedOrCorrupt);
  }
  if (!flatbuffers::BufferHasIdentifier(data, EnvelopeIdentifier())) {
    return Reject(RejectCode::kWrongFileIdentifier);
  }
  flatbuffers::Verifier verifier(data, size, options.max_verifier_depth, options.max_verifier_tables);
  if (!VerifyEnvelopeBuffer(verifier)) return Reject(RejectCode::kTruncatedOrCorrupt);

  const Envelope* e = GetEnvelope(data);
  if (e->schema_version() != kCurrentSchemaVersion) return Reject(RejectCode::kUnsupportedSchemaVersion);
  ORDERSYNC_CHECK(CheckRequired(e->event_id(), "event_id", ValidatorOptions::kMaxEventIdBytes));
  ORDERSYNC_CHECK(CheckRequired(e->order_id(), "order_id", ValidatorOptions::kMaxOrderIdBytes));
  ORDERSYNC_CHECK(CheckRequired(e->source(), "source", kId));
  ORDERSYNC_CHECK(CheckOptional(e->correlation_id(), "correlation_id", kId));
  ORDERSYNC_CHECK(CheckOptional(e->company_code(), "company_code", kId));
  if (e->occurred_at_ns() <= 0) return Reject(RejectCode::kInvalidTimestamp);
  if (e->priority() != Priority::Standard && e->priority() != Priority::SameDay) {
    return Reject(RejectCode::kInvalidPriority);
  }
  ORDERSYNC_CHECK(CheckPayload(*e, options));
  *envelope = e;
  return {};
}

}  // namespace ordersync
