#include "adapters/cluster/jetstream_event_log.h"

#include <string>

namespace ordersync {

namespace {

class JetStreamLogStream final : public LogStream {
 public:
  JetStreamLogStream(JetStreamLog* log, uint32_t p, uint64_t epoch, uint64_t last_op_seq, uint64_t last_seq)
      : log_(log), partition_(p), epoch_(epoch), last_op_seq_(last_op_seq), end_{0, p, last_seq} {}

  Status Append(std::string_view record, Durability, LogPosition* end) override {
    if (record.empty()) return Status::InvalidArgument("empty log record");
    auto ack = log_->PublishOp(partition_, epoch_, last_op_seq_, record);
    if (!ack.ok()) return ack.status();
    last_op_seq_ = ack->sequence;
    end_.offset = ack->sequence;
    *end = end_;
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }
  Status TruncateBefore(uint64_t offset) override { return log_->PurgeUpTo(partition_, offset); }
  LogPosition end() const override { return end_; }
  uint64_t retained_bytes() const override { return 0; }

 private:
  JetStreamLog* log_;
  uint32_t partition_;
  uint64_t epoch_;
  uint64_t last_op_seq_;
  LogPosition end_;
};

class JetStreamLogReader final : public LogReader {
 public:
  JetStreamLogReader(std::unique_ptr<PartitionReader> reader, const JetStreamEventLog::Options* options)
      : reader_(std::move(reader)), options_(options) {}

  bool Next(std::string_view* record, LogPosition* end) override {
    LogEntry e;
    for (;;) {
      switch (reader_->Next(&e, options_->read_wait_ms)) {
        case PartitionReader::Outcome::kNothingNow:
          return false;
        case PartitionReader::Outcome::kError:
          return false;
        case PartitionReader::Outcome::kRecord:
          break;
      }
      if (!e.malformed.ok()) {
        if (options_->on_malformed) options_->on_malformed(e.partition, e.sequence, e.malformed);
        continue;
      }
      // An owned, 8-byte aligned copy: LogRecordReader reads FlatBuffers in place.
      buffer_.assign(e.data);
      *record = buffer_;
      *end = LogPosition{0, e.partition, e.sequence};
      return true;
    }
  }
  Status status() const override { return reader_->status(); }
  uint64_t torn_bytes() const override { return 0; }

 private:
  std::unique_ptr<PartitionReader> reader_;
  const JetStreamEventLog::Options* options_;
  std::string buffer_;
};

}  // namespace

Status JetStreamEventLog::ListStreams(std::vector<LogStreamId>* streams) {
  std::vector<uint32_t> parts;
  ORDERSYNC_RETURN_IF_ERROR(log_->PartitionsWithData(&parts));
  streams->clear();
  for (uint32_t p : parts) streams->push_back(LogStreamId{0, p});
  return Status::OK();
}

Result<std::unique_ptr<LogStream>> JetStreamEventLog::CreateStream(LogStreamId id) {
  if (id.generation != 0) return Status::InvalidArgument("the cluster log has only generation 0");
  if (id.stream >= log_->options().partitions) return Status::InvalidArgument("partition out of range");
  auto last_op = log_->LastOpSequence(id.stream);
  if (!last_op.ok()) return last_op.status();
  auto last = log_->LastSequence(id.stream);
  if (!last.ok()) return last.status();
  return std::unique_ptr<LogStream>(new JetStreamLogStream(log_, id.stream, options_.epoch, *last_op, *last));
}

Result<std::unique_ptr<LogReader>> JetStreamEventLog::ReadFrom(const LogPosition& from) {
  if (from.generation != 0) return Status::InvalidArgument("the cluster log has only generation 0");
  auto reader = log_->ReadPartition(from.stream, from.offset);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<LogReader>(new JetStreamLogReader(std::move(reader).value(), &options_));
}

Status JetStreamEventLog::DropGenerationsBefore(uint32_t generation) {
  if (generation <= 1) return Status::OK();
  return Status::InvalidArgument("the cluster log has only generation 0; truncate partitions with TruncateBefore");
}

}  // namespace ordersync
