// EventLog: the engine's commit point. Each worker's group commit becomes one record
// appended to that worker's stream; results are reported only once the append is durable
// per EngineOptions::durability. State lives in memory and is written to the StateStore
// as a checkpoint that records, per partition, the log position it covers; recovery
// loads the checkpoint and replays the records after that position through the same
// processor (engine/log_record.h says what a record holds). The engine declares this
// interface; adapters/storage implements it with append-only segment files
// (segment_log.h), and a replicated implementation can replace that one without
// touching the lifecycle.
//
// Streams and generations. Every Engine::Open starts a new generation: after replaying
// the older generations it writes a checkpoint of every partition and drops them. Within
// a generation, stream s is written by worker s only, and a partition belongs to exactly
// one stream, so a partition's records are totally ordered by (generation, offset).
//
// Positions: (generation, stream, offset); offset counts bytes from the start of the
// stream. Record boundaries are the only valid positions.
//
// Durability of Append: kWal = written to the operating system (survives kill -9);
// kFsync = fdatasync'ed before return (survives power loss); kNone = may stay in a user
// buffer (benchmarks only).
//
// Thread-safety: an EventLog may be used from any thread. A LogStream belongs to its
// worker's thread; a LogReader to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/engine_options.h"
#include "engine/status.h"

namespace ordersync {

struct LogPosition {
  uint32_t generation = 0;
  uint32_t stream = 0;
  uint64_t offset = 0;

  bool operator==(const LogPosition&) const = default;
};

struct LogStreamId {
  uint32_t generation = 0;
  uint32_t stream = 0;
  bool operator==(const LogStreamId&) const = default;
  bool operator<(const LogStreamId& o) const {
    return generation != o.generation ? generation < o.generation : stream < o.stream;
  }
};

// Appends to one stream of the current generation.
class LogStream {
 public:
  virtual ~LogStream() = default;
  // Appends one record (REQUIRES: non-empty) and makes it durable per `durability`.
  // Sets *end to the position just after it. On error nothing of the record is visible to
  // readers (a partly written record is cut back), and the stream may refuse further
  // appends (IOError) until the engine is reopened.
  virtual Status Append(std::string_view record, Durability durability, LogPosition* end) = 0;
  // Makes everything appended so far survive power loss.
  virtual Status Sync() = 0;
  // Deletes whole segments holding only records that end at or before `offset`.
  virtual Status TruncateBefore(uint64_t offset) = 0;
  // Position just after the last record appended.
  virtual LogPosition end() const = 0;
  // Bytes currently kept on disk for this stream (after truncation).
  virtual uint64_t retained_bytes() const = 0;
};

// Reads one stream from a position onwards.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // The next record: *record stays valid until the next call; *end is the position just
  // after it. False at the end of the stream or on an error (then status() says which).
  virtual bool Next(std::string_view* record, LogPosition* end) = 0;
  virtual Status status() const = 0;
  // Bytes after the last whole, checksummed record of the stream that were ignored (a
  // torn tail from a crash mid-append). Meaningful once Next returned false.
  virtual uint64_t torn_bytes() const = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;
  // Every stream holding data, in (generation, stream) order.
  virtual Status ListStreams(std::vector<LogStreamId>* streams) = 0;
  // Highest generation present (0 when the log is empty).
  virtual uint32_t LastGeneration() = 0;
  // Creates stream `id` for appending. REQUIRES: it does not exist yet.
  virtual Result<std::unique_ptr<LogStream>> CreateStream(LogStreamId id) = 0;
  // Reads stream `from.generation/from.stream` from `from.offset` (a record boundary, or
  // an offset below the stream's first retained segment, which reads from there).
  virtual Result<std::unique_ptr<LogReader>> ReadFrom(const LogPosition& from) = 0;
  // Deletes every stream of generations below `generation`.
  virtual Status DropGenerationsBefore(uint32_t generation) = 0;
  // True when a LogReader that reached the end of its stream returns records appended
  // later (a tailing reader, e.g. a replicated log's consumer); false when it reads what
  // the stream held at ReadFrom (segment files): a reader that wants more opens a new one
  // at the last end position.
  virtual bool ReadersTail() const { return false; }
};

}  // namespace ordersync
