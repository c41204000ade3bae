// JetStreamEventLog: engine/event_log.h's EventLog on a JetStreamLog, so that the engine's
// replay path (checkpoint + records after its position) reads a partition's replicated log
// as it reads the local segment log.
//
// Mapping of the interface onto the cluster log:
//   generation  always 0. The cluster log is never re-based by an Engine::Open: a
//               partition's history is one sequence. LastGeneration() is 0;
//               CreateStream/ReadFrom of another generation is InvalidArgument, and
//               DropGenerationsBefore(g) drops nothing (g <= 1 is OK as there is nothing
//               older; g > 1 is InvalidArgument). Truncation is per partition
//               (LogStream::TruncateBefore = JetStreamLog::PurgeUpTo).
//   stream      the logical partition p (<prefix>.*.<p>), not a worker.
//   offset      the JetStream stream sequence of the last record read or appended
//               (offsets are not bytes: a partition's sequences have gaps, as the stream
//               is shared by all partitions). ReadFrom({0, p, s}) yields the records with
//               sequence > s, and each record's *end is {0, p, its sequence}, so a
//               checkpoint that stores the position it covers resumes exactly after it.
//   Append      publishes an op (<prefix>.op.<p>) stamped with `epoch` and the op
//               sequence this stream last saw (fencing: Fenced when another owner
//               published an op since). Durable once stored on a quorum, whatever the
//               Durability argument: the log has no weaker mode, and kFsync needs the
//               servers' fsync setting (docs/cluster-log.md). Sync() has nothing to do.
//   ListStreams the partitions holding messages.
// A malformed message (not a valid record of its subject) is skipped by the reader and
// reported to Options::on_malformed with its sequence and reason (it stays in the stream
// until purged: the quarantined copy); the reader does not stop on it.
// retained_bytes() is 0: JetStream does not report bytes per subject.
//
// A reader returns kNothingNow as end of stream: Next waits `read_wait_ms` for the next
// record, then reports the end (a tailing owner reads again later from the last end).
//
// Thread-safety: as engine/event_log.h says.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/cluster/jetstream_log.h"
#include "engine/event_log.h"

namespace ordersync {

class JetStreamEventLog final : public EventLog {
 public:
  struct Options {
    // Epoch stamped on appended ops: the owner's fencing epoch. Default: 1.
    uint64_t epoch = 1;
    // How long a reader waits for the next record before it reports the end. Short
    // waits make replay finish promptly at the end; a message in flight then arrives on
    // the next read. Default: 200 ms.
    int64_t read_wait_ms = 200;
    // Called (on the reader's thread) for each malformed message skipped.
    std::function<void(uint32_t partition, uint64_t sequence, const Status& reason)> on_malformed;
  };
  // `log` must outlive this object.
  JetStreamEventLog(JetStreamLog* log, Options options) : log_(log), options_(std::move(options)) {}

  Status ListStreams(std::vector<LogStreamId>* streams) override;
  uint32_t LastGeneration() override { return 0; }
  Result<std::unique_ptr<LogStream>> CreateStream(LogStreamId id) override;
  Result<std::unique_ptr<LogReader>> ReadFrom(const LogPosition& from) override;
  Status DropGenerationsBefore(uint32_t generation) override;
  // A reader that reported the end returns later records on its next Next (it tails).
  bool ReadersTail() const override { return true; }

 private:
  JetStreamLog* log_;
  Options options_;
};

}  // namespace ordersync
