// Quarantine: where the ingress keeps every frame it rejects, with the reason, who sent
// it and when (storage.QuarantineRecord in Table::kQuarantine), so bad input can be
// diagnosed and nothing vanishes. Bounded by QuarantineOptions (entries and bytes): the
// oldest records are dropped first, and drops are counted.
//
// Layout (keys start with the 2-byte "partition" 0xFFFF, which no engine partition uses;
// the quarantine belongs to the ingress, not to a partition):
//
//   quarantine  FF FF | id:8 (big-endian, ids increase from 1)  -> storage.QuarantineRecord
//   meta        FF FF | "quarantine"  -> first_id:8 next_id:8 count:8 bytes:8 dropped:8
//                                         (fixed64 little-endian; written in the same
//                                         batch as the records it counts)
//
// QuarantineWriter: Add() collects records; Flush() writes them, the evictions and the
// updated counters in one atomic batch. The ingress flushes before it answers the batch
// the records came from, so a producer never hears "Rejected" for an unrecorded frame.
// The reading functions work on any StateStore, including a RocksDbStore opened
// read-only next to a running engine (`ordersync quarantine`).
//
// Thread-safety: at most one writer per store, shared by every ingress of the process
// (ZeroMQ, EDI, HTTP): its methods may be called from any thread (one mutex; the
// ZeroMQ ingress thread calls Add/Flush, other ingresses call Write). The reading
// functions may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/ingress/ingress_options.h"
#include "engine/engine_options.h"
#include "engine/state_store.h"
#include "engine/status.h"
#include "flatbuffers/flatbuffers.h"

namespace ordersync {

// One rejected frame as the ingress hands it over. Views must stay valid until Add returns.
struct QuarantineInput {
  int64_t received_at_ns = 0;
  std::string_view endpoint;  // "ack" | "pull" | "edi" | "http"
  std::string_view reason;
  std::string_view description;
  std::string_view routing_id;
  std::string_view peer_address;
  std::string_view curve_key_name;
  std::string_view source;
  std::string_view event_id;
  std::string_view order_id;
  uint32_t frame_index = 0;
  std::string_view frame;
  std::string_view file_name;  // EDI: the file the rejected document came from
};

// A decoded record (reading side).
struct QuarantineEntry {
  uint64_t id = 0;
  int64_t received_at_ns = 0;
  std::string endpoint, reason, description, routing_id, peer_address, curve_key_name;
  std::string source, event_id, order_id;
  std::string file_name;
  uint32_t frame_index = 0;
  uint64_t frame_size = 0;
  std::string frame;  // possibly cut; frame.size() < frame_size then
  uint64_t stored_bytes = 0;
};

struct QuarantineCounters {
  uint64_t first_id = 1;  // oldest id still kept (if count > 0)
  uint64_t next_id = 1;   // id of the next record
  uint64_t count = 0;     // records kept
  uint64_t bytes = 0;     // their encoded size
  uint64_t dropped = 0;   // records dropped to stay within the caps, ever
};

class QuarantineWriter {
 public:
  // Loads the counters from `store`. `store` must outlive the writer.
  static Result<std::unique_ptr<QuarantineWriter>> Open(StateStore* store, const QuarantineOptions& options,
                                                        Durability durability);

  // What one Flush or Write did.
  struct WriteResult {
    uint64_t written = 0;  // records written
    uint64_t dropped = 0;  // records dropped (old ones, or new ones over the caps)
  };

  // Queues one record for the next Flush (the ZeroMQ ingress thread's pattern).
  void Add(const QuarantineInput& input);
  // Writes the records queued by Add (dropping the oldest as needed) in one batch. On
  // error the queued records are lost and the error returned (the caller logs it).
  [[nodiscard]] Status Flush(WriteResult* result = nullptr);
  // Writes `inputs` at once, in one batch of their own (other ingresses' pattern): the
  // records are durable (with the writer's durability) when it returns OK.
  [[nodiscard]] Status Write(const std::vector<QuarantineInput>& inputs, WriteResult* result = nullptr);
  bool empty() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.empty();
  }

  QuarantineCounters counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
  }
  // Records written by this writer (excluding those dropped before being written).
  uint64_t written() const {
    std::lock_guard<std::mutex> lock(mu_);
    return written_;
  }

 private:
  QuarantineWriter(StateStore* store, const QuarantineOptions& options, Durability durability);
  struct Pending {
    std::string value;
  };

  void Encode(const QuarantineInput& input, std::vector<Pending>* out);  // REQUIRES: mu_ held
  Status WritePending(std::vector<Pending>* pending, WriteResult* result);  // REQUIRES: mu_ held

  StateStore* store_;
  QuarantineOptions options_;
  Durability durability_;
  mutable std::mutex mu_;
  QuarantineCounters counters_;  // GUARDED_BY(mu_)
  uint64_t written_ = 0;         // GUARDED_BY(mu_)
  std::vector<Pending> pending_;  // GUARDED_BY(mu_)
  std::unique_ptr<StoreBatch> batch_;  // GUARDED_BY(mu_)
  flatbuffers::FlatBufferBuilder fbb_;  // GUARDED_BY(mu_)
  std::string key_, value_;  // GUARDED_BY(mu_)
};

// Key of record `id` and of the counters.
void QuarantineKey(std::string* key, uint64_t id);
void QuarantineMetaKey(std::string* key);

[[nodiscard]] Status ReadQuarantineCounters(StateStore* store, QuarantineCounters* counters);
// Up to `limit` records with id > after_id, oldest first (limit 0 = all).
[[nodiscard]] Status ListQuarantine(StateStore* store, uint64_t after_id, size_t limit,
                                    std::vector<QuarantineEntry>* out);
// NotFound if no record has that id (never written, or dropped).
[[nodiscard]] Status GetQuarantine(StateStore* store, uint64_t id, QuarantineEntry* out);

}  // namespace ordersync
