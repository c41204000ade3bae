#include "engine/partition_follower.h"

#include <cassert>

namespace ordersync {

PartitionFollower::PartitionFollower(const EngineOptions& options, StateStore* store, EventLog* log,
                                     uint32_t log_generation, OutboxListener* listener)
    : options_(options), store_(store), log_(log), log_generation_(log_generation), listener_(listener),
      gate_(options.master_data, nullptr), processor_(options, store, &stats_) {
  // Verdicts always come from the log items (the front door decided them), so the gate
  // needs no source of its own.
  processor_.SetMasterDataGate(&gate_);
  const size_t order_cache = std::max<size_t>(1, options.order_cache_capacity / options.partitions);
  const size_t dedup_cache = std::max<size_t>(1, options.dedup_cache_capacity / options.partitions);
  for (uint32_t p = 0; p < options.partitions; ++p) {
    partitions_.push_back(std::make_unique<Partition>(p, order_cache, dedup_cache));
  }
  followed_.resize(options.partitions);
}

PartitionFollower::~PartitionFollower() = default;

bool PartitionFollower::Follows(uint32_t partition) const {
  return partition < followed_.size() && followed_[partition] != nullptr;
}

LogPosition PartitionFollower::applied(uint32_t partition) const {
  return Follows(partition) ? followed_[partition]->applied : LogPosition{};
}

Status PartitionFollower::Adopt(uint32_t partition, std::string_view snapshot,
                                std::unique_ptr<LogStream> owner_stream) {
  if (partition >= partitions_.size()) {
    return Status::InvalidArgument("partition " + std::to_string(partition) + " out of range");
  }
  if (Follows(partition)) return Status::InvalidArgument("partition " + std::to_string(partition) + " already followed");
  const std::string empty = snapshot.empty() ? EmptyPartitionSnapshot(partition) : std::string();
  PartitionSnapshotInfo info;
  ORDERSYNC_RETURN_IF_ERROR(VerifyPartitionSnapshot(snapshot.empty() ? empty : snapshot, partition, &info));
  const LogPosition start = info.has_checkpoint ? info.checkpoint : LogPosition{log_generation_, partition, 0};
  if (start.generation != log_generation_ || start.stream != partition) {
    return Status::InvalidArgument("the snapshot of partition " + std::to_string(partition) + " covers log g" +
                                   std::to_string(start.generation) + "/s" + std::to_string(start.stream) +
                                   ", not this log's stream g" + std::to_string(log_generation_) + "/s" +
                                   std::to_string(partition));
  }
  ORDERSYNC_RETURN_IF_ERROR(
      ImportPartitionSnapshot(store_, partition, snapshot.empty() ? empty : snapshot, options_.durability));
  Partition* p = partitions_[partition].get();
  processor_.SetStats(&stats_);
  ORDERSYNC_RETURN_IF_ERROR(processor_.Reset(p));
  auto f = std::make_unique<Followed>();
  f->batch = store_->NewBatch();
  f->applied = start;
  f->owner_stream = std::move(owner_stream);
  ORDERSYNC_RETURN_IF_ERROR(OpenReader(f.get()));
  followed_[partition] = std::move(f);
  return Status::OK();
}

Status PartitionFollower::OpenReader(Followed* f) {
  auto reader = log_->ReadFrom(f->applied);
  if (!reader.ok()) return reader.status();
  f->reader = std::move(reader).value();
  f->reader_at_end = false;
  return Status::OK();
}

Status PartitionFollower::Poll(uint32_t partition, size_t max_records, size_t* applied) {
  *applied = 0;
  if (!Follows(partition)) return Status::InvalidArgument("partition " + std::to_string(partition) + " not followed");
  Followed* f = followed_[partition].get();
  Partition* p = partitions_[partition].get();
  if (f->reader_at_end && !log_->ReadersTail()) ORDERSYNC_RETURN_IF_ERROR(OpenReader(f));
  processor_.SetOpenEpoch(f->open_epoch);
  std::string_view record;
  LogPosition end;
  Status s;
  while (*applied < max_records) {
    if (!f->reader->Next(&record, &end)) {
      s = f->reader->status();
      f->reader_at_end = s.ok();
      break;
    }
    LogRecordReader items;
    if (s = items.Open(record); !s.ok()) {
      s = Status::Corruption("partition " + std::to_string(partition) + ", log record ending at " +
                             std::to_string(end.offset) + ": " + s.message());
      break;
    }
    processor_.SetNow(items.now_ns());
    LogItem item;
    while (s.ok() && items.Next(&item)) {
      if (item.partition != partition) {
        s = Status::Corruption("partition " + std::to_string(partition) + "'s log stream holds a record of partition " +
                               std::to_string(item.partition) + " (ending at " + std::to_string(end.offset) + ")");
        break;
      }
      s = ApplyLogItem(&processor_, &gate_, p, item, f->batch.get(), &applied_stats_, &reason_scratch_);
    }
    if (s.ok()) s = items.status();
    if (!s.ok()) break;
    f->applied = end;
    ++applied_stats_.records;
    ++*applied;
  }
  std::vector<DurableCommand>& issued = processor_.issued();
  if (s.ok() && listener_ != nullptr && !issued.empty()) listener_->OnCommandsDurable(issued);
  issued.clear();
  return s;
}

Status PartitionFollower::Checkpoint(uint32_t partition, std::string* snapshot, PartitionSnapshotInfo* info) {
  if (!Follows(partition)) return Status::InvalidArgument("partition " + std::to_string(partition) + " not followed");
  Followed* f = followed_[partition].get();
  Partition* p = partitions_[partition].get();
  processor_.CutCheckpoint(p, f->applied, f->open_epoch, f->batch.get());
  ORDERSYNC_RETURN_IF_ERROR(store_->Write(f->batch.get(), options_.durability));
  f->batch->Clear();
  processor_.CheckpointDurable(p, f->open_epoch);
  ++f->open_epoch;
  Bump(stats_.checkpoints);
  return ExportPartitionSnapshot(store_, partition, snapshot, info);
}

Status PartitionFollower::AppendOwnerInputs(uint32_t partition, const std::vector<CommandNote>& notes,
                                            int64_t now_ns) {
  if (!Follows(partition)) return Status::InvalidArgument("partition " + std::to_string(partition) + " not followed");
  Followed* f = followed_[partition].get();
  if (f->owner_stream == nullptr) {
    return Status::InvalidArgument("partition " + std::to_string(partition) + " is followed read-only");
  }
  owner_record_.Begin(now_ns);
  for (const CommandNote& note : notes) {
    if (note.partition != partition) {
      return Status::InvalidArgument("a note of partition " + std::to_string(note.partition) +
                                     " logged with partition " + std::to_string(partition));
    }
    owner_record_.AddNote(NoteAsLogItem(note));
  }
  processor_.SetNow(now_ns);
  if (processor_.ParkDeadlineDue(partitions_[partition].get())) owner_record_.AddExpireParked(partition);
  if (owner_record_.items() == 0) return Status::OK();
  LogPosition end;
  return f->owner_stream->Append(owner_record_.Finish(), options_.durability, &end);
}

void PartitionFollower::Release(uint32_t partition) {
  if (!Follows(partition)) return;
  partitions_[partition]->Reset();
  followed_[partition].reset();
}

}  // namespace ordersync
