// Envelope validation: the gate every inbound milestone frame passes before the engine
// looks at it. Runs the FlatBuffers Verifier (bounds, offsets, nesting) and then the
// contract checks of schemas/milestone.fbs. A failure is a Rejection with a stable,
// machine-readable reason code ("missing_field:order_id") documented in docs/contract.md.
//
// Thread-safety: stateless apart from the immutable options; call from any thread.
// Cost: one pass over the buffer for the verifier, one over the fields; allocates only
// for the duplicate line_no check of events with more than 64 lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "milestone_generated.h"

namespace ordersync {

// Every reason a frame can be rejected for. The wire name (RejectCodeName) is stable:
// producers and dashboards key on it. Append new codes; never renumber or rename.
enum class RejectCode : uint8_t {
  kNone = 0,
  kOversizedMessage,          // oversized_message: frame larger than max_message_bytes
  kTruncatedOrCorrupt,        // truncated_or_corrupt: FlatBuffers verifier failed
  kWrongFileIdentifier,       // wrong_file_identifier: not an "OSEV" buffer
  kUnsupportedSchemaVersion,  // unsupported_schema_version: schema_version != 1
  kMissingField,              // missing_field:<name>: required field absent or empty
  kFieldTooLong,              // field_too_long:<name>
  kEmptyLines,                // empty_lines: a payload that needs lines has none
  kNonPositiveQty,            // non_positive_qty: a line with qty <= 0
  kUnknownPayload,            // unknown_payload: union type NONE or newer than this build
  kNegativeUnitPrice,         // negative_unit_price
  kInvalidLineNo,             // invalid_line_no: line_no == 0
  kDuplicateLineNo,           // duplicate_line_no: line_no repeated within one event
  kTooManyLines,              // too_many_lines: more than max_lines
  kZeroDeltaQty,              // zero_delta_qty: InventoryAdjusted with delta_qty == 0
  kInvalidTimestamp,          // invalid_timestamp: occurred_at_ns <= 0
  kInvalidPriority,           // invalid_priority: not a Priority this build knows
};
// The highest code; codes kNone+1 .. kLastRejectCode are dense. Move it when appending.
inline constexpr RejectCode kLastRejectCode = RejectCode::kInvalidPriority;

// Stable wire name of a code, e.g. "missing_field".
std::string_view RejectCodeName(RejectCode code);

// The outcome of validation. `field` names the offending field where the code has one;
// it points at a string literal, so a Rejection is cheap to copy.
struct Rejection {
  RejectCode code = RejectCode::kNone;
  std::string_view field;

  bool ok() const { return code == RejectCode::kNone; }
  // "code" or "code:field", e.g. "field_too_long:event_id".
  std::string ToString() const;
  // Human-readable explanation for logs and the quarantine.
  std::string Describe() const;
};

struct ValidatorOptions {
  // Largest accepted frame. Larger frames are rejected before they are parsed.
  // Default: 64 KiB. Reloadable.
  size_t max_message_bytes = 64 * 1024;
  // Contract limits (schemas/milestone.fbs). Not configurable: part of the contract.
  static constexpr size_t kMaxEventIdBytes = 128;
  static constexpr size_t kMaxOrderIdBytes = 64;
  // Any other string field (source, ids, sku, ...). Keeps state keys bounded.
  static constexpr size_t kMaxFieldBytes = 128;
  // Upper bound on lines per event; keeps per-event work bounded. Default: 1000.
  size_t max_lines = 1000;
  // Nesting/table limits handed to the FlatBuffers verifier.
  uint32_t max_verifier_depth = 16;
  uint32_t max_verifier_tables = 100000;
};

// The only schema_version this build reads.
inline constexpr uint16_t kCurrentSchemaVersion = 1;

// Validates `size` bytes at `data`. On success returns an ok() Rejection and sets
// *envelope to the root table, which points into `data` (no copy): it is valid only as
// long as the buffer is. On failure *envelope is untouched.
[[nodiscard]] Rejection ValidateEnvelope(const uint8_t* data, size_t size,
                                         const ValidatorOptions& options,
                                         const Envelope** envelope);

}  // namespace ordersync
