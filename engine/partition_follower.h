// PartitionFollower: applies logical partitions from a log it does not write — the
// owner's side of cluster mode (docs/cluster.md). Front doors append each event, as a
// one-item log record (engine/log_record.h), to its partition's stream of a shared,
// replicated log; the partition's current owner appends its own inputs (ERP answers as
// notes, parked-deadline sweeps, hold releases) to the same stream; and the owner's
// follower applies that stream in order through the same item application as recovery
// (engine/log_apply.h). A partition's state is therefore a pure function of (snapshot,
// stream), and any node can take the partition over.
//
//   PartitionFollower follower(options, store, log, /*log_generation=*/0, listener);
//   follower.Adopt(p, snapshot_from_the_checkpoint_store);   // or "" for a new partition
//   while (owner) follower.Poll(p, 4096, &applied);           // hands commands to listener
//   follower.Checkpoint(p, &snapshot, &info);                 // → the checkpoint store
//   follower.Release(p);
//
// Streams: in this mode partition p's records are the log's stream
// LogStreamId{log_generation, p}; a record there naming another partition is corruption.
// Positions are the log's own (for JetStream, the stream sequence).
//
// Commands are handed to the OutboxListener when the record that issued them is applied.
// A new owner replaying records an old owner already applied hands the same commands
// (same command ids) again; the connectors' idempotency by command_id makes a second
// delivery harmless, and the notes the old owner logged drop answered ones first. The
// commands a snapshot holds (issued before its checkpoint, not yet answered) are in the
// store's outbox table, for the dispatcher to load when the partition is adopted.
//
// Thread-safety: one thread drives a follower; the partitions it adopted are touched by
// no other thread. The store and the log may be shared with other followers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/command_note.h"
#include "engine/engine_options.h"
#include "engine/engine_stats.h"
#include "engine/event_log.h"
#include "engine/event_processor.h"
#include "engine/log_apply.h"
#include "engine/log_record.h"
#include "engine/master_data_gate.h"
#include "engine/outbox_listener.h"
#include "engine/partition.h"
#include "engine/partition_snapshot.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

class PartitionFollower {
 public:
  // `listener` may be null (commands stay in the outbox table only).
  PartitionFollower(const EngineOptions& options, StateStore* store, EventLog* log, uint32_t log_generation,
                    OutboxListener* listener);
  ~PartitionFollower();
  PartitionFollower(const PartitionFollower&) = delete;
  PartitionFollower& operator=(const PartitionFollower&) = delete;

  // Starts following `partition`: replaces its keys in the store with `snapshot` (empty:
  // a partition never checkpointed — its keys are cleared), loads its checkpoint and
  // opens its stream after the position the checkpoint covers. `owner_stream` is the
  // partition's stream opened for appending the owner's inputs (AppendOwnerInputs); null
  // for a follower that only reads (a warm standby). InvalidArgument when it is already
  // followed or out of range, or when the snapshot's position is not in this log's
  // stream of the partition; Corruption for a damaged snapshot.
  Status Adopt(uint32_t partition, std::string_view snapshot, std::unique_ptr<LogStream> owner_stream = nullptr);

  // Logs the owner's own inputs for `partition` as one record of its stream: the ERP's
  // answers about its commands (`notes`, all of this partition) and, when a parked event's
  // deadline has passed at `now_ns`, a park-deadline sweep. They change nothing now: Poll
  // applies them when it reads the record back, so every owner applies them at the same
  // place of the stream. Nothing is appended when there is nothing to log. On a
  // replicated log the append is refused once a newer owner appended (fencing); the
  // caller then stops owning the partition. InvalidArgument without an owner stream.
  Status AppendOwnerInputs(uint32_t partition, const std::vector<CommandNote>& notes, int64_t now_ns);

  // Applies up to `max_records` records the partition's stream holds now; *applied says
  // how many (0: caught up). Then hands the commands they issued to the listener. On an
  // error the partition's state may be ahead of what is applied: the caller releases it
  // and adopts it again from its last snapshot.
  Status Poll(uint32_t partition, size_t max_records, size_t* applied);

  // Writes a checkpoint of the partition covering every record applied, durably per
  // options.durability, then exports the partition (engine/partition_snapshot.h) into
  // *snapshot — what a new owner adopts.
  Status Checkpoint(uint32_t partition, std::string* snapshot, PartitionSnapshotInfo* info = nullptr);

  // Stops following `partition` and forgets its in-memory state (effects not yet in a
  // checkpoint are in the log, for the next owner). No-op when not followed.
  void Release(uint32_t partition);

  bool Follows(uint32_t partition) const;
  // Position just after the last record applied (the adopted checkpoint's before any).
  LogPosition applied(uint32_t partition) const;
  const WorkerStats& stats() const { return stats_; }

 private:
  struct Followed {
    std::unique_ptr<LogReader> reader;
    std::unique_ptr<LogStream> owner_stream;  // null: read-only follower
    std::unique_ptr<StoreBatch> batch;  // the open checkpoint batch of the partition
    LogPosition applied;
    uint64_t open_epoch = 1;
    bool reader_at_end = false;  // the reader returned "no more"; reopen before reading
  };

  Status OpenReader(Followed* f);

  const EngineOptions& options_;
  StateStore* const store_;
  EventLog* const log_;
  const uint32_t log_generation_;
  OutboxListener* const listener_;
  WorkerStats stats_;
  MasterDataGate gate_;
  EventProcessor processor_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::vector<std::unique_ptr<Followed>> followed_;  // null: not followed
  ReplayStats applied_stats_;
  LogRecordBuilder owner_record_;
  std::string reason_scratch_;  // an applied event's outcome reason, reused
};

}  // namespace ordersync
