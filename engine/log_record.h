// LogRecord: the payload of one event-log record — everything one group commit of one
// worker took in, in the order it was processed, so that replaying it through the same
// EventProcessor reproduces the same state, commands and ids. Nothing in it depends on
// when it is replayed: the group commit's wall-clock time travels in the header and is
// the processor's "now" for every item.
//
// Grammar (little-endian; str := len:4 bytes[len]; abytes := len:4 pad bytes[len], with
// zero padding so that bytes start at a multiple of 8 from the record's start — a reader
// whose record buffer is 8-byte aligned can read the FlatBuffers in place):
//
//   record  := version:1 (1 or 2) now_ns:8 item_count:4 item*
//   item    := type:1 partition:2 body
//   body    := event | outbox_append | note | expire_parked | release_hold
//   event          (type 1) := received_at_ns:8 flags:1 (bit 0: replay, bit 1: verdict)
//                              envelope:abytes [verdict]
//   verdict                 := kind:1 failure_class:1 version:str reason:str
//                              (the master-data verdict the event was decided by,
//                              MasterDataVerdict; only with flags bit 1)
//   outbox_append  (type 2) := erp_command:abytes            (a PartitionTask's append)
//   note           (type 3) := outbox_seq:8 flags:1 (bit 0: removes) journal_kind:1
//                              at_ns:8 attempts:4 first_sent_at_ns:8 order_cmd_seq:8
//                              command_kind:1 order_id:str command_id:str target:str
//                              outcome:str reason:str erp_document_id:str
//   expire_parked  (type 4) := (empty: parked events of the partition whose deadline
//                               passed at now_ns time out)
//   release_hold   (type 5) := customer_id:str version:str (the master data `version`
//                               cleared the customer's credit hold: the partition's orders
//                               held for it are released)
//
// Version 2 records are those with a verdict or a release_hold (written since master-data
// checks exist); version 1 records are read unchanged (no verdict: decided without
// master data). Exact duplicates and events that failed on a store read change nothing
// and are not logged.
//
// Thread-safety: a builder or reader belongs to one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/command_note.h"
#include "engine/master_data_check.h"
#include "engine/status.h"

namespace ordersync {

enum class LogItemType : uint8_t { kEvent = 1, kOutboxAppend = 2, kNote = 3, kExpireParked = 4, kReleaseHold = 5 };

struct LogItem;

class LogRecordBuilder {
 public:
  // Starts a record of a group commit at `now_ns` (discarding any unfinished one).
  void Begin(int64_t now_ns);
  // `verdict`: the master-data verdict the event was decided by (null or kNone: none).
  void AddEvent(uint32_t partition, int64_t received_at_ns, bool replay, std::string_view envelope,
                const MasterDataVerdict* verdict = nullptr);
  void AddOutboxAppend(uint32_t partition, std::string_view erp_command);
  // A note as LogItem (type kNote) carries it.
  void AddNote(const LogItem& note);
  void AddExpireParked(uint32_t partition);
  void AddReleaseHold(uint32_t partition, std::string_view customer_id, std::string_view version);
  size_t items() const { return items_; }
  // The finished record; valid until the next Begin.
  std::string_view Finish();

 private:
  void ItemHeader(LogItemType type, uint32_t partition);
  void PutString(std::string_view s);
  void PutAlignedBytes(std::string_view s);
  std::string buf_;
  uint32_t items_ = 0;
  bool extended_ = false;  // has version-2 items
};

// One decoded item; string views point into the record.
struct LogItem {
  LogItemType type = LogItemType::kEvent;
  uint32_t partition = 0;
  // kEvent
  int64_t received_at_ns = 0;
  bool replay = false;
  std::string_view bytes;  // kEvent: the envelope; kOutboxAppend: the ErpCommand
  // kEvent: the recorded master-data verdict (kind kNone when there is none); string
  // members are views. kReleaseHold: version in verdict.version.
  bool has_verdict = false;
  MasterDataVerdict::Kind verdict_kind = MasterDataVerdict::Kind::kNone;
  uint8_t verdict_class = 0;
  std::string_view verdict_version, verdict_reason;
  std::string_view customer_id;  // kReleaseHold
  // kNote (strings as views)
  uint64_t outbox_seq = 0;
  bool removes_command = false;
  uint8_t journal_kind = 0;
  int64_t at_ns = 0;
  uint32_t attempts = 0;
  int64_t first_sent_at_ns = 0;
  uint64_t order_cmd_seq = 0;
  uint8_t command_kind = 0;
  std::string_view order_id, command_id, target, outcome, reason, erp_document_id;
};

// A CommandNote as a log item: views into `note` and its command (valid while it is).
LogItem NoteAsLogItem(const CommandNote& note);

class LogRecordReader {
 public:
  // Parses the header. Corruption if it is not a record of a known version.
  Status Open(std::string_view record);
  int64_t now_ns() const { return now_ns_; }
  uint32_t item_count() const { return count_; }
  // The next item, or false at the end or on malformed data (then status() is not OK).
  bool Next(LogItem* item);
  const Status& status() const { return status_; }

 private:
  bool Take(size_t n, std::string_view* out);
  template <typename T>
  bool TakeFixed(T* v);
  bool TakeString(std::string_view* s);
  bool TakeAlignedBytes(std::string_view* s);
  const char* begin_ = nullptr;
  std::string_view rest_;
  int64_t now_ns_ = 0;
  uint32_t count_ = 0;
  uint32_t read_ = 0;
  Status status_;
};

}  // namespace ordersync
