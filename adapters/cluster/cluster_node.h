// ClusterNode: the partition runtime of one ordersync node in cluster mode
// (docs/cluster.md "Node runtime"). It joins the cluster through an OwnershipManager
// (etcd leases) and runs each partition the manager gives it from the replicated log
// (JetStream), with a PartitionFollower:
//
//  - acquired(p, epoch): restore p's latest checkpoint from the checkpoint store (none
//    stored: p starts empty), Adopt it with an owner stream stamped with `epoch`, store a
//    checkpoint under `epoch` at once (from then on the store refuses an older owner's),
//    then tell the PartitionHost (the ERP dispatcher) that it may dispatch p. From then on
//    p's records are applied as they arrive; the commands each record issues go to the
//    OutboxListener (the dispatcher) when the record is applied.
//  - The ERP's answers (SubmitNotes, from the dispatcher) are logged as p's owner inputs
//    and applied when read back (PartitionFollower::AppendOwnerInputs), as are the
//    park-deadline sweeps; every owner therefore applies them at the same place of p's log.
//  - Every checkpoint_interval_ms (or checkpoint_every_records records) with something
//    new applied: a checkpoint of p under `epoch`, then p's log is purged up to the
//    sequence the previous checkpoint covered (one checkpoint of margin).
//  - must-stop(p): the host stops dispatching p first. On a graceful stop (reassigned,
//    draining, shutdown) p is caught up and checkpointed once more, so that the next owner
//    replays little; when the lease is at risk or lost nothing more is written, and the
//    host is told to stop dispatching p at once, on the manager's thread (the apply
//    thread may be blocked in a NATS write a cut-off network never answers; the lease
//    must not expire at the server while this node still dispatches). Then the
//    follower releases p and the manager is told (ConfirmStopped).
//  - A write of p refused (Fenced: the log's op fencing or the checkpoint store saw
//    another epoch's or our own timed-out write) or failed, or a failure to restore or
//    apply p (the log unreachable, a damaged checkpoint): p stops at once (dispatching
//    first) and is restored again from its stored checkpoint every retry_interval_ms
//    while the node still owns it. A truly newer owner's larger epoch refuses that
//    restore's checkpoint, so p never runs on two nodes (docs/cluster.md "Epochs").
//
//   ClusterNode node(options, store, log, checkpoints, &dispatcher, &host);
//   node.Start();                   // registers in etcd; partitions come and go
//   node.SubmitNotes(std::move(n)); // from the dispatcher: the ERP's answers
//   node.Stop();                    // hands every partition over (checkpointed), leaves
//
// Threads: one apply thread owns the follower and every owned partition; it calls the
// OutboxListener and the PartitionHost (the manager's thread also calls
// OnPartitionReleased when a lease is at risk or lost). The manager's callbacks and
// SubmitNotes otherwise only enqueue (a mutex-guarded queue of rare control messages and batched notes — never the
// per-event path, which is the log). Stats() and Partitions() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/jetstream_event_log.h"
#include "adapters/cluster/jetstream_log.h"
#include "adapters/cluster/ownership_manager.h"
#include "engine/command_note.h"
#include "engine/engine_options.h"
#include "engine/outbox_listener.h"
#include "engine/partition_follower.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

// The ERP dispatch side of a node: which partitions it may dispatch, and at which epoch.
class PartitionHost {
 public:
  virtual ~PartitionHost() = default;
  // `partition` is owned at `epoch` and restored: its unanswered commands are in the
  // store's outbox table. Dispatch them, and the commands the OutboxListener gets next,
  // stamped with `epoch`. An error stops the partition (the node retries the adoption).
  virtual Status OnPartitionAdopted(uint32_t partition, int64_t epoch) = 0;
  // Stop dispatching `partition` before returning; answers about its commands that come
  // later are dropped (the next owner sends them again; the ERP's idempotency by
  // command id keeps them to one posting).
  virtual void OnPartitionReleased(uint32_t partition) = 0;
};

// Argument of the failpoint "cluster.checkpoint_put" (engine/failpoint.h), hit by the
// apply thread just before it stores a checkpoint of `partition`: a test can block there
// as a write into a cut-off network would.
struct ClusterWriteFailpoint {
  std::string_view node_id;
  uint32_t partition = 0;
};

struct ClusterNodeOptions {
  // The engine's options: partitions, durability, master data, caches. Same on every node.
  EngineOptions engine;
  // Etcd, node id, lease timing ([cluster]); partitions are engine.partitions.
  OwnershipManagerOptions ownership;
  // A checkpoint of a partition when this much time passed since its last one and it
  // applied something since. Default: 5000 ms.
  int64_t checkpoint_interval_ms = 5000;
  // ... or when it applied this many records since its last checkpoint. Default: 50000.
  uint64_t checkpoint_every_records = 50000;
  // Records applied per partition per pass (fairness between partitions). Default: 1024.
  size_t poll_batch_records = 1024;
  // How long reading a partition waits at the end of its log. Default: 2 ms.
  int64_t read_wait_ms = 2;
  // How long the apply thread sleeps when a pass applied nothing. Default: 5 ms.
  int64_t idle_wait_ms = 5;
  // How often owned partitions are checked for parked events past their deadline.
  // Default: 1000 ms.
  int64_t park_sweep_interval_ms = 1000;
  // Pause between attempts to restore a partition that failed. Default: 1000 ms.
  int64_t retry_interval_ms = 1000;
};

class ClusterNode final : public OwnershipListener {
 public:
  struct Stats {
    uint64_t partitions_acquired = 0;  // ownership changes: acquisitions
    uint64_t partitions_stopped = 0;   // ownership changes: stops, any reason
    uint64_t partitions_fenced = 0;    // stops because a write of ours was refused as Fenced
    uint64_t adopt_failures = 0;       // restores that failed (retried)
    uint64_t apply_failures = 0;       // Poll errors (the partition re-adopted)
    uint64_t records_applied = 0;
    uint64_t checkpoints_stored = 0;
    uint64_t checkpoint_failures = 0;
    uint64_t notes_logged = 0;
    uint64_t notes_dropped = 0;        // for partitions not owned (the next owner re-sends)
    uint64_t last_restore_ms = 0;      // acquisition → restored and caught up
    uint64_t max_restore_ms = 0;
  };
  struct PartitionInfo {
    uint32_t partition = 0;
    int64_t epoch = 0;
    bool dispatching = false;        // restored, caught up once, handed to the host
    uint64_t applied_sequence = 0;   // last log sequence applied
    uint64_t checkpoint_sequence = 0;  // what the last stored checkpoint covers
  };

  // `store`, `log`, `checkpoints`, `commands` and `host` must outlive the node. `store` is
  // this node's local state store (a cache: each partition is replaced by its checkpoint
  // when adopted).
  ClusterNode(ClusterNodeOptions options, StateStore* store, JetStreamLog* log, JetStreamCheckpointStore* checkpoints,
              OutboxListener* commands, PartitionHost* host);
  ~ClusterNode() override;  // Stop()
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // Starts the apply thread, then joins the cluster (OwnershipManager::Start: its errors).
  Status Start();
  // Hands every partition over (graceful stops, see above), leaves the cluster and stops
  // the apply thread. Idempotent.
  void Stop();

  // The ERP's answers about commands of owned partitions (any partitions, any order).
  // Logged by the apply thread; notes of partitions not owned (any more) are dropped.
  Status SubmitNotes(std::vector<CommandNote>&& notes);

  Stats GetStats() const;
  // The partitions owned now, ascending.
  std::vector<PartitionInfo> Partitions() const;
  const OwnershipManager& ownership() const { return *manager_; }

  // OwnershipListener (the manager's threads): enqueue for the apply thread.
  void OnAcquired(uint32_t partition, int64_t epoch) override;
  void OnMustStop(uint32_t partition, int64_t epoch, StopReason reason) override;

 private:
  struct Control {
    bool acquire = false;
    uint32_t partition = 0;
    int64_t epoch = 0;
    StopReason reason = StopReason::kShutdown;
    std::chrono::steady_clock::time_point at;
  };
  struct Owned {
    int64_t epoch = 0;
    bool adopted = false;      // the follower holds it
    bool dispatching = false;  // the host dispatches it
    std::chrono::steady_clock::time_point acquired_at;
    std::chrono::steady_clock::time_point next_attempt;  // of a failed adoption
    std::chrono::steady_clock::time_point last_checkpoint_at;
    uint64_t applied_since_checkpoint = 0;
    uint64_t checkpoint_sequence = 0;           // covered by the last checkpoint stored
    uint64_t previous_checkpoint_sequence = 0;  // the one before: the purge point
  };

  void ApplyLoop();
  // Takes the queued control messages and notes; false once the loop should end.
  bool TakeQueued(std::vector<Control>* controls, std::vector<CommandNote>* notes);
  void Acquire(const Control& c);
  void MustStop(const Control& c);
  // Restores partition p (checkpoint, adopt, fencing checkpoint, catch up, host).
  Status Adopt(uint32_t p, Owned* o);
  // Stops applying and dispatching p; the follower forgets it. Keeps the Owned entry.
  void Halt(uint32_t p, Owned* o);
  // Applies what p's log holds now (up to poll_batch_records); *applied says how many.
  Status ApplySome(uint32_t p, Owned* o, size_t* applied);
  // Applies until p's log holds nothing more now.
  Status CatchUp(uint32_t p, Owned* o);
  Status StoreCheckpoint(uint32_t p, Owned* o);
  // host_->OnPartitionAdopted(p, epoch), unless OnMustStop revoked p at `epoch` or later
  // (Unavailable): a restore that was under way when the lease became at risk never starts
  // dispatching.
  Status HandToHost(uint32_t p, int64_t epoch);
  void LogNotes(std::vector<CommandNote>* notes);
  void SweepParked();
  // After a write of p was refused (Fenced) or failed, or applying it failed: halts p and
  // restores it again after retry_interval_ms.
  void StopForRetry(uint32_t p, Owned* o, const Status& s, const char* what);
  void PublishInfo();

  const ClusterNodeOptions options_;
  StateStore* const store_;
  JetStreamLog* const log_;
  JetStreamCheckpointStore* const checkpoints_;
  PartitionHost* const host_;
  JetStreamEventLog event_log_;  // reads; owner streams come from per-epoch instances
  std::unique_ptr<PartitionFollower> follower_;
  std::unique_ptr<OwnershipManager> manager_;

  // Apply thread only.
  std::map<uint32_t, Owned> owned_;
  std::chrono::steady_clock::time_point next_park_sweep_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Control> controls_;     // guarded by mu_
  std::vector<CommandNote> notes_;    // guarded by mu_
  bool quit_ = false;                 // guarded by mu_
  Stats stats_;                       // guarded by mu_ (the apply thread's copy is published)
  std::vector<PartitionInfo> info_;   // guarded by mu_
  Stats working_;                     // apply thread only; published into stats_
  std::thread thread_;
  bool started_ = false;

  // Serializes the host's adopt (apply thread) with the manager thread's immediate
  // release when a lease is at risk or lost (OnMustStop), so that a partition revoked
  // at an epoch is never handed to the host at that epoch afterwards.
  std::mutex host_mu_;
  std::map<uint32_t, int64_t> revoked_epochs_;  // guarded by host_mu_: highest epoch revoked
};

}  // namespace ordersync
