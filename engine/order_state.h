// OrderState: everything the engine knows about one order: its lines and their
// ordered/reserved/picked/shipped/returned quantities, the business facts applied to it
// (for business deduplication and later commands), per-source sequence cursors, the
// events parked on it, and the next order_cmd_seq. Stored in the orders table as
// [expire_at:8][storage.OrderState flatbuffer] (schemas/storage.fbs).
//
// Thread-safety: plain data, owned by the partition's worker thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event_view.h"
#include "engine/status.h"
#include "flatbuffers/flatbuffers.h"
#include "milestone_generated.h"

namespace ordersync {

struct LineItem {
  uint32_t line_no = 0;
  std::string sku;
  int64_t qty = 0;
  std::string uom;
  int64_t unit_price_minor = 0;
};

struct LineState {
  uint32_t line_no = 0;
  std::string sku;
  std::string uom;
  int64_t unit_price_minor = 0;
  int64_t ordered = 0;
  int64_t reserved = 0;
  int64_t picked = 0;
  int64_t shipped = 0;
  int64_t returned = 0;
};

struct Fact {
  Milestone kind = Milestone::NONE;
  std::string business_key;
  uint64_t fingerprint = 0;
  std::string event_id;
  std::vector<LineItem> lines;
  bool delivered = false;  // shipments
  bool invoiced = false;   // shipments
  int64_t at_ns = 0;
};

struct SourceCursor {
  std::string source;
  uint64_t last_seq = 0;
};

struct ParkedRef {
  std::string event_id;
  Milestone kind = Milestone::NONE;
  std::string business_key;
  uint64_t fingerprint = 0;
  std::string source;
  uint64_t source_seq = 0;
  std::string waiting_for;
  int64_t parked_at_ns = 0;
  int64_t deadline_ns = 0;
  // In memory only: the parked envelope, loaded from the parked table on demand.
  std::string envelope;
};

// An event_id the order has seen: HashBytes(event_id) and the content fingerprint.
struct SeenEvent {
  uint64_t id_hash = 0;
  uint64_t fingerprint = 0;
};

// Event ids kept inside an order record; beyond this many, in the dedup table.
inline constexpr size_t kMaxSeenPerOrder = 64;

struct OrderState {
  std::string order_id;
  bool accepted = false;
  bool cancelled = false;
  std::string customer_id;
  std::string currency;
  std::string company_code;
  std::vector<LineState> lines;
  std::vector<Fact> facts;
  std::vector<SourceCursor> cursors;
  std::vector<ParkedRef> parked;
  uint64_t next_cmd_seq = 1;
  int64_t accepted_at_ns = 0;
  int64_t last_change_ns = 0;
  std::vector<SeenEvent> seen;   // exact dedup, up to kMaxSeenPerOrder
  bool dedup_in_table = false;   // some event ids of this order are in the dedup table

  // The fingerprint of `id_hash` if the order has seen it.
  const SeenEvent* FindSeen(uint64_t id_hash) const;

  LineState* FindLine(uint32_t line_no);
  const LineState* FindLine(uint32_t line_no) const;
  Fact* FindFact(Milestone kind, std::string_view business_key);
  const Fact* FindFact(Milestone kind, std::string_view business_key) const;
  const ParkedRef* FindParked(Milestone kind, std::string_view business_key) const;
  bool HasShipment() const;
  // Last applied source_seq for `source` (0 if none).
  uint64_t LastSeq(std::string_view source) const;
  void SetLastSeq(std::string_view source, uint64_t seq);
};

std::vector<LineItem> CopyLines(const LineVector* lines);

// Encodes `state` with its expire_at prefix into *value (replacing its contents).
// `fbb` is scratch space reused across calls.
void EncodeOrderState(const OrderState& state, int64_t expire_at_ns, flatbuffers::FlatBufferBuilder* fbb,
                      std::string* value);

// Decodes an orders-table value. Corruption if the buffer does not verify.
Status DecodeOrderState(std::string_view value, OrderState* state, int64_t* expire_at_ns);

}  // namespace ordersync
