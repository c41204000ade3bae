// Journal: each order's timeline, for `ordersync trace`. The engine appends one entry for
// every event it processes (with the outcome, the order's totals after it and the ERP
// commands it issued); the ERP dispatcher appends acknowledgements (with the first send
// time and attempt count), re-sends and dead letters. One entry per event and one per
// acknowledged command keeps the journal to about two small writes per event. Entries live in Table::kJournal, expire with order_retention_s, and are keyed
//
//   partition:2 | len(order_id):1 | order_id | at_ns:8 (big-endian) | uniq:8
//
// so one order's entries are one key range, in time order. `uniq` comes from a process-
// wide counter seeded with the start time, so writers never collide.
//
// Thread-safety: JournalWriter is per thread (scratch buffers); the key/encoding helpers
// are pure.
#pragma once

#include <atomic>
#include <cstdint>
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
  int64_t first_sent_at_ns = 0;                          // acks and dead letters
};

// [lower, upper) of one order's journal.
void JournalOrderRange(uint32_t partition, std::string_view order_id, std::string* lower, std::string* upper);

class JournalWriter {
 public:
  JournalWriter() : fbb_(256) {}
  // Adds `record` for `order_id` of `partition` to `batch`; it expires at `expire_at_ns`.
  void Append(uint32_t partition, std::string_view order_id, const JournalRecord& record, int64_t expire_at_ns,
              StoreBatch* batch);

 private:
  static std::atomic<uint64_t> next_uniq_;
  flatbuffers::FlatBufferBuilder fbb_;
  std::vector<flatbuffers::Offset<storage::JournalCommand>> command_offsets_;
  std::string key_;
  std::string value_;
};

}  // namespace ordersync
