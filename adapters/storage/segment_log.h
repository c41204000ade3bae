// SegmentLog: the local EventLog (engine/event_log.h) — append-only segment files in
// one directory, written with write(2) and made power-safe with fdatasync(2).
//
// Files. Each stream is a sequence of segments named
//
//   g<generation:08>-s<stream:04>-<first_offset:016x>.log
//
// where first_offset is the stream offset of the segment's first byte. A stream rolls to a
// new segment at the first record boundary past `segment_bytes`, so truncation deletes
// whole files. In fsync mode a new segment's directory entry is fsync'ed before the first
// record in it is acknowledged.
//
// Record framing (little-endian):
//
//   record  := length:4 crc:4 payload[length]      1 <= length <= kMaxLogRecordBytes
//   crc     := CRC-32C over the 4 length bytes and the payload
//
// Recovery reads a stream until the first record that is short or fails its checksum.
// In the last segment that is a torn tail (a crash in the middle of an append): the
// rest is ignored and reported as torn_bytes. Anywhere else it is corruption, because
// acknowledged records follow it; ReadFrom's reader then fails with Corruption.
//
// kNone appends go to a user-space buffer written out when it passes 1 MiB, on Sync and
// when the stream is closed (benchmarks; a crash loses them).
//
// Thread-safety: SegmentLog's methods may be called from any thread (they touch only the
// directory). A stream or reader belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/storage/storage_options.h"
#include "engine/event_log.h"

namespace ordersync {

inline constexpr uint32_t kMaxLogRecordBytes = 256u << 20;

struct SegmentLogOptions {
  // Directory of the segment files (created if missing).
  std::string dir;
  // A stream starts a new segment once its current one holds this many bytes. Smaller
  // segments let truncation free disk sooner after each checkpoint. Default: 64 MiB.
  uint64_t segment_bytes = 64ull << 20;
};

class SegmentLog final : public EventLog {
 public:
  static Result<std::unique_ptr<SegmentLog>> Open(const SegmentLogOptions& options);

  Status ListStreams(std::vector<LogStreamId>* streams) override;
  uint32_t LastGeneration() override;
  Result<std::unique_ptr<LogStream>> CreateStream(LogStreamId id) override;
  Result<std::unique_ptr<LogReader>> ReadFrom(const LogPosition& from) override;
  Status DropGenerationsBefore(uint32_t generation) override;

  // Bytes of all segment files.
  uint64_t DiskBytes();
  const std::string& dir() const { return options_.dir; }

  struct SegmentFile {
    LogStreamId stream;
    uint64_t first_offset = 0;
    std::string path;
    uint64_t size = 0;
  };
  // Every segment file, in (generation, stream, first_offset) order.
  Status ListSegments(std::vector<SegmentFile>* out);

 private:
  explicit SegmentLog(SegmentLogOptions options) : options_(std::move(options)) {}
  SegmentLogOptions options_;
};

// The event log of a data directory: SegmentLog in options.EventLogDir().
Result<std::unique_ptr<SegmentLog>> OpenEventLog(const StorageOptions& options);

// Segment file name for `stream` starting at `first_offset` (no directory).
std::string SegmentFileName(LogStreamId stream, uint64_t first_offset);

}  // namespace ordersync
