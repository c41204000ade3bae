// Journal: each order's timeline, for `ordersync trace`. The engine makes one entry for
// every event it processes (with the outcome, the order's totals after it and the ERP
// commands it issued) and one for every CommandNote of the ERP fan-out (answers with the
// first send time and attempt count, re-sends, dead letters). Entries are derived from
// the event log by the processor, collected per partition in memory, and written at
// checkpoint time as one value per order and checkpoint (a chunk), not one write per
// event. Values live in Table::kJournal, expire with order_retention_s, and are keyed
//
//   partition:2 | len(order_id):1 | order_id | at_ns:8 (big-endian) | seq:8
//
// so one order's values are one key range, in time order. For chunks, at_ns is the first
// entry's time and seq the partition's journal chunk counter (checkpointed with the other
// counters, so a replay writes the same keys).
//
// Value := expire_at:8 body
//   body  := "OSJ3" (len:varint entry[len])*          a chunk (this version)
//          | storage.JournalEntry (FlatBuffers)       one entry (older versions, tools)
//   entry := kind:1 present:varint at_ns:8 milestone:1 command_kind:1
//            order_cmd_seq:varint attempt:varint
//            ordered reserved picked shipped returned occurred_at_ns received_at_ns
//            first_sent_at_ns (zigzag varints)
//            then, for each bit of `present` in this order, a string (len:varint bytes):
//            event_id source correlation_id outcome reason command_id target
//            erp_document_id; bit 8: commands := count:varint (command_id kind:1
//            order_cmd_seq:varint target)*
// The compact entry costs a fraction of a FlatBuffer to build and to store; the reader
// (ForEachJournalEntry) turns both forms into the same JournalEntryView.
//
// Thread-safety: JournalWriter is per thread (scratch buffers); the other functions are
// pure.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "engine/state_store.h"
#include "flatbuffers/flatbuffers.h"
#include "storage_generated.h"

namespace ordersync {

// A command issued by an event, as the event's entry lists it.
struct IssuedCommand {
  std::string command_id;
  uint8_t command_kind = 0;
  uint64_t order_cmd_seq = 0;
  std::string target;
};

// Everything an entry can say; unset strings are left out.
struct JournalRecord {
  storage::JournalKind kind = storage::JournalKind::EventReceived;
  int64_t at_ns = 0;
  std::string_view event_id;
  std::string_view source;
  std::string_view correlation_id;
  uint8_t milestone = 0;
  int64_t occurred_at_ns = 0;
  int64_t received_at_ns = 0;
  std::string_view outcome;
  std::string_view reason;
  std::string_view command_id;
  uint8_t command_kind = 0;
  uint64_t order_cmd_seq = 0;
  std::string_view target;
  uint32_t attempt = 0;
  std::string_view erp_document_id;
  int64_t ordered = 0, reserved = 0, picked = 0, shipped = 0, returned = 0;
  std::span<const IssuedCommand> commands;  // events: the commands they issued
  int64_t first_sent_at_ns = 0;             // acks and dead letters
};

// A decoded entry; views point into the value (or a scratch copy) during the callback.
struct JournalCommandView {
  std::string_view command_id;
  uint8_t command_kind = 0;
  uint64_t order_cmd_seq = 0;
  std::string_view target;
};
struct JournalEntryView {
  storage::JournalKind kind = storage::JournalKind::EventReceived;
  int64_t at_ns = 0;
  std::string_view event_id, source, correlation_id, outcome, reason, command_id, target, erp_document_id;
  uint8_t milestone = 0;
  uint8_t command_kind = 0;
  uint64_t order_cmd_seq = 0;
  uint32_t attempt = 0;
  int64_t occurred_at_ns = 0, received_at_ns = 0, first_sent_at_ns = 0;
  int64_t ordered = 0, reserved = 0, picked = 0, shipped = 0, returned = 0;
  std::vector<JournalCommandView> commands;
};

// [lower, upper) of one order's journal.
void JournalOrderRange(uint32_t partition, std::string_view order_id, std::string* lower, std::string* upper);

// Calls fn with each entry of a journal value's body (the bytes after expire_at), chunk
// or single FlatBuffers entry. False if the body is malformed (entries before the damage
// were visited).
bool ForEachJournalEntry(std::string_view body, const std::function<void(const JournalEntryView&)>& fn);

class JournalWriter {
 public:
  JournalWriter() : fbb_(256) {}
  // Appends `record` to `out` as one compact entry (no length prefix).
  void Encode(const JournalRecord& record, std::string* out);
  // Writes one chunk of `order_id`'s journal: `entries` are (len:varint entry)*.
  void PutChunk(uint32_t partition, std::string_view order_id, int64_t first_at_ns, uint64_t chunk_seq,
                int64_t expire_at_ns, std::string_view entries, StoreBatch* batch);
  // Adds `record` alone for `order_id` of `partition` to `batch` as a FlatBuffers entry
  // keyed by a process-wide counter; it expires at `expire_at_ns`. For tests and tools.
  void Append(uint32_t partition, std::string_view order_id, const JournalRecord& record, int64_t expire_at_ns,
              StoreBatch* batch);

 private:
  static std::atomic<uint64_t> next_uniq_;
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<flatbuffers::Offset<storage::JournalCommand>> command_offsets_;
  std::string key_;
  std::string value_;
};

// Appends `v` as a LEB128 varint.
void PutVarint64(std::string* out, uint64_t v);

}  // namespace ordersync
