#include "adapters/cluster/cluster_node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <utility>

#include "adapters/cluster/nats_connection.h"
#include "engine/failpoint.h"

namespace ordersync {

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t MillisSince(SteadyClock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t).count());
}

bool IsGraceful(StopReason reason) {
  return reason == StopReason::kReassigned || reason == StopReason::kDraining || reason == StopReason::kShutdown;
}

JetStreamEventLog::Options ReadOptions(const ClusterNodeOptions& options) {
  JetStreamEventLog::Options o;
  o.read_wait_ms = options.read_wait_ms;
  o.on_malformed = [](uint32_t p, uint64_t seq, const Status& why) {
    // The message stays in the stream until purged: that is its quarantined copy.
    spdlog::warn("cluster: partition {} log message {} skipped as malformed: {}", p, seq, why.ToString());
  };
  return o;
}

}  // namespace

ClusterNode::ClusterNode(ClusterNodeOptions options, StateStore* store, JetStreamLog* log,
                         JetStreamCheckpointStore* checkpoints, OutboxListener* commands, PartitionHost* host)
    : options_(std::move(options)), store_(store), log_(log), checkpoints_(checkpoints), host_(host),
      event_log_(log, ReadOptions(options_)) {
  follower_ = std::make_unique<PartitionFollower>(options_.engine, store_, &event_log_, /*log_generation=*/0, commands);
  OwnershipManagerOptions mo = options_.ownership;
  mo.partitions = options_.engine.partitions;
  manager_ = std::make_unique<OwnershipManager>(std::move(mo), this);
}

ClusterNode::~ClusterNode() { Stop(); }

Status ClusterNode::Start() {
  if (started_) return Status::InvalidArgument("cluster node already started");
  if (log_->options().partitions != options_.engine.partitions) {
    return Status::InvalidArgument("the log has " + std::to_string(log_->options().partitions) +
                                   " partitions, the engine " + std::to_string(options_.engine.partitions));
  }
  started_ = true;
  next_park_sweep_ = SteadyClock::now();
  thread_ = std::thread([this] { ApplyLoop(); });
  Status s = manager_->Start();
  if (!s.ok()) Stop();
  return s;
}

void ClusterNode::Stop() {
  if (!started_) return;
  // The manager's Stop fires must-stop for every owned partition and waits for the apply
  // thread to confirm them (checkpointed and released), then leaves.
  manager_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  started_ = false;
}

Status ClusterNode::SubmitNotes(std::vector<CommandNote>&& notes) {
  if (notes.empty()) return Status::OK();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (quit_) return Status::Unavailable("cluster node stopped");
    if (notes_.empty()) {
      notes_ = std::move(notes);
    } else {
      for (CommandNote& n : notes) notes_.push_back(std::move(n));
    }
  }
  wake_.notify_one();
  return Status::OK();
}

void ClusterNode::OnAcquired(uint32_t partition, int64_t epoch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    controls_.push_back(Control{true, partition, epoch, StopReason::kShutdown, SteadyClock::now()});
  }
  wake_.notify_one();
}

void ClusterNode::OnMustStop(uint32_t partition, int64_t epoch, StopReason reason) {
  if (!IsGraceful(reason)) {
    // The lease is at risk or gone: dispatching stops now, on the manager's thread, not
    // when the apply thread gets to the control message — it may be blocked for up to a
    // NATS request timeout (longer than the safety margin) in a write the cut-off
    // network will never answer.
    std::lock_guard<std::mutex> lock(host_mu_);
    int64_t& revoked = revoked_epochs_[partition];
    revoked = std::max(revoked, epoch);
    host_->OnPartitionReleased(partition);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    controls_.push_back(Control{false, partition, epoch, reason, SteadyClock::now()});
  }
  wake_.notify_one();
}

ClusterNode::Stats ClusterNode::GetStats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::vector<ClusterNode::PartitionInfo> ClusterNode::Partitions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return info_;
}

bool ClusterNode::TakeQueued(std::vector<Control>* controls, std::vector<CommandNote>* notes) {
  std::unique_lock<std::mutex> lock(mu_);
  controls->swap(controls_);
  notes->swap(notes_);
  return !quit_;
}

void ClusterNode::ApplyLoop() {
  std::vector<Control> controls;
  std::vector<CommandNote> notes;
  for (;;) {
    const bool running = TakeQueued(&controls, &notes);
    for (const Control& c : controls) {
      if (c.acquire) {
        Acquire(c);
      } else {
        MustStop(c);
      }
    }
    controls.clear();
    if (!notes.empty()) LogNotes(&notes);
    notes.clear();
    if (!running) break;

    bool busy = false;
    const auto now = SteadyClock::now();
    for (auto& [p, o] : owned_) {
      if (!o.adopted) {
        if (now < o.next_attempt) continue;
        if (Status s = Adopt(p, &o); !s.ok()) {
          ++working_.adopt_failures;
          o.next_attempt = now + std::chrono::milliseconds(options_.retry_interval_ms);
          spdlog::warn("cluster: cannot restore partition {} (epoch {}): {}; retrying in {} ms", p, o.epoch,
                       s.ToString(), options_.retry_interval_ms);
        }
        continue;
      }
      size_t applied = 0;
      if (Status s = ApplySome(p, &o, &applied); !s.ok()) {
        ++working_.apply_failures;
        StopForRetry(p, &o, s, "applying");
        continue;
      }
      busy |= applied > 0;
      const bool due = o.applied_since_checkpoint >= options_.checkpoint_every_records ||
                       (o.applied_since_checkpoint > 0 &&
                        now - o.last_checkpoint_at >= std::chrono::milliseconds(options_.checkpoint_interval_ms));
      if (due) {
        if (Status s = StoreCheckpoint(p, &o); !s.ok()) StopForRetry(p, &o, s, "checkpoint");
      }
    }
    if (now >= next_park_sweep_) {
      SweepParked();
      next_park_sweep_ = now + std::chrono::milliseconds(options_.park_sweep_interval_ms);
    }
    PublishInfo();
    if (!busy) {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(options_.idle_wait_ms),
                     [this] { return quit_ || !controls_.empty() || !notes_.empty(); });
    }
  }
  // Leaving: whatever is still owned (Stop without the manager's must-stops, e.g. after a
  // failed Start) stops without further writes.
  for (auto& [p, o] : owned_) Halt(p, &o);
  owned_.clear();
  PublishInfo();
}

void ClusterNode::Acquire(const Control& c) {
  auto [it, inserted] = owned_.try_emplace(c.partition);
  Owned& o = it->second;
  if (!inserted && o.adopted) Halt(c.partition, &o);  // a newer epoch of the same partition
  o = Owned();
  o.epoch = c.epoch;
  o.acquired_at = c.at;
  o.next_attempt = SteadyClock::now();
  ++working_.partitions_acquired;
  spdlog::info("cluster: partition {} acquired at epoch {}", c.partition, c.epoch);
}

void ClusterNode::MustStop(const Control& c) {
  auto it = owned_.find(c.partition);
  if (it != owned_.end() && it->second.epoch == c.epoch) {
    Owned& o = it->second;
    if (o.adopted && IsGraceful(c.reason)) {
      // Hand over: dispatching stops first, then a last catch-up and checkpoint.
      if (o.dispatching) host_->OnPartitionReleased(c.partition);
      o.dispatching = false;
      Status s = CatchUp(c.partition, &o);
      if (s.ok() && o.applied_since_checkpoint > 0) s = StoreCheckpoint(c.partition, &o);
      if (!s.ok()) {
        spdlog::warn("cluster: partition {} handed over without a last checkpoint: {}", c.partition, s.ToString());
      }
    }
    Halt(c.partition, &o);
    owned_.erase(it);
    ++working_.partitions_stopped;
    spdlog::info("cluster: partition {} (epoch {}) stopped: {}", c.partition, c.epoch, StopReasonName(c.reason));
  }
  manager_->ConfirmStopped(c.partition);
}

Status ClusterNode::Adopt(uint32_t p, Owned* o) {
  std::string blob;
  auto stored = checkpoints_->Get(p);
  if (stored.ok()) {
    blob = std::move(stored->blob);
  } else if (stored.status().code() != Status::Code::kNotFound) {
    return stored.status();
  }
  JetStreamEventLog::Options wo;
  wo.epoch = static_cast<uint64_t>(o->epoch);
  JetStreamEventLog owner_log(log_, wo);
  auto stream = owner_log.CreateStream(LogStreamId{0, p});
  if (!stream.ok()) return stream.status();
  ORDERSYNC_RETURN_IF_ERROR(follower_->Adopt(p, blob, std::move(stream).value()));
  o->adopted = true;
  o->checkpoint_sequence = follower_->applied(p).offset;
  o->previous_checkpoint_sequence = o->checkpoint_sequence;
  // The fencing checkpoint: from now on the store refuses the previous owner's.
  o->applied_since_checkpoint = 1;
  if (Status s = StoreCheckpoint(p, o); !s.ok()) {
    Halt(p, o);
    return s;
  }
  if (Status s = HandToHost(p, o->epoch); !s.ok()) {
    Halt(p, o);
    return s;
  }
  o->dispatching = true;
  // Catch up before reporting the restore time (applying hands the tail's commands to
  // the dispatcher, which now takes them).
  ORDERSYNC_RETURN_IF_ERROR(CatchUp(p, o));
  working_.last_restore_ms = MillisSince(o->acquired_at);
  working_.max_restore_ms = std::max(working_.max_restore_ms, working_.last_restore_ms);
  spdlog::info("cluster: partition {} restored at epoch {} from checkpoint sequence {} in {} ms; applied up to {}",
               p, o->epoch, o->previous_checkpoint_sequence, working_.last_restore_ms, follower_->applied(p).offset);
  return Status::OK();
}

Status ClusterNode::HandToHost(uint32_t p, int64_t epoch) {
  std::lock_guard<std::mutex> lock(host_mu_);
  auto revoked = revoked_epochs_.find(p);
  if (revoked != revoked_epochs_.end() && revoked->second >= epoch) {
    return Status::Unavailable("partition " + std::to_string(p) + " epoch " + std::to_string(epoch) +
                           ": the lease is at risk or lost; not dispatching");
  }
  return host_->OnPartitionAdopted(p, epoch);
}

void ClusterNode::Halt(uint32_t p, Owned* o) {
  if (o->dispatching) host_->OnPartitionReleased(p);
  o->dispatching = false;
  if (o->adopted) follower_->Release(p);
  o->adopted = false;
}

Status ClusterNode::ApplySome(uint32_t p, Owned* o, size_t* applied) {
  ORDERSYNC_RETURN_IF_ERROR(follower_->Poll(p, options_.poll_batch_records, applied));
  o->applied_since_checkpoint += *applied;
  working_.records_applied += *applied;
  return Status::OK();
}

Status ClusterNode::CatchUp(uint32_t p, Owned* o) {
  size_t applied = 0;
  do {
    ORDERSYNC_RETURN_IF_ERROR(ApplySome(p, o, &applied));
  } while (applied > 0);
  return Status::OK();
}

Status ClusterNode::StoreCheckpoint(uint32_t p, Owned* o) {
  std::string snapshot;
  PartitionSnapshotInfo info;
  ORDERSYNC_RETURN_IF_ERROR(follower_->Checkpoint(p, &snapshot, &info));
  const uint64_t covered = info.checkpoint.offset;
  ClusterWriteFailpoint fp{options_.ownership.cluster.node_id, p};
  ORDERSYNC_FAILPOINT_ARG("cluster.checkpoint_put", &fp);
  auto put = checkpoints_->Put(p, static_cast<uint64_t>(o->epoch), covered, snapshot);
  if (!put.ok()) {
    ++working_.checkpoint_failures;
    return put.status();
  }
  ++working_.checkpoints_stored;
  // The log below the previous checkpoint is no longer needed by anyone: a new owner
  // starts from the latest one. (One checkpoint of margin.)
  if (o->previous_checkpoint_sequence > 0) {
    if (Status s = log_->PurgeUpTo(p, o->previous_checkpoint_sequence); !s.ok()) {
      spdlog::warn("cluster: purging partition {} up to {} failed (retried at the next checkpoint): {}", p,
                   o->previous_checkpoint_sequence, s.ToString());
    }
  }
  o->previous_checkpoint_sequence = o->checkpoint_sequence;
  o->checkpoint_sequence = covered;
  o->applied_since_checkpoint = 0;
  o->last_checkpoint_at = SteadyClock::now();
  return Status::OK();
}

void ClusterNode::LogNotes(std::vector<CommandNote>* notes) {
  // Group by partition, keeping each partition's notes in the order they came.
  std::map<uint32_t, std::vector<CommandNote>> by_partition;
  for (CommandNote& n : *notes) by_partition[n.partition].push_back(std::move(n));
  const int64_t now_ns = WallNowNs();
  for (auto& [p, list] : by_partition) {
    auto it = owned_.find(p);
    if (it == owned_.end() || !it->second.adopted) {
      working_.notes_dropped += list.size();
      continue;
    }
    if (Status s = follower_->AppendOwnerInputs(p, list, now_ns); !s.ok()) {
      working_.notes_dropped += list.size();
      StopForRetry(p, &it->second, s, "logging ERP answers");
      continue;
    }
    working_.notes_logged += list.size();
  }
}

void ClusterNode::SweepParked() {
  const int64_t now_ns = WallNowNs();
  for (auto& [p, o] : owned_) {
    if (!o.adopted) continue;
    if (Status s = follower_->AppendOwnerInputs(p, {}, now_ns); !s.ok()) StopForRetry(p, &o, s, "park sweep");
  }
}

void ClusterNode::StopForRetry(uint32_t p, Owned* o, const Status& s, const char* what) {
  // Either way p stops at once and is restored again from its stored checkpoint after
  // retry_interval_ms; answers not logged are sent again by this or the next owner.
  //  - Fenced: the log or the checkpoint store refused our epoch's write. While etcd has
  //    not told us to stop, no other node can own p (the lease outlives our stop by the
  //    safety margin), so the refusal is usually our own earlier write that timed out
  //    but was stored (the op fencing then expects a later sequence). The restore reads
  //    the log's current end; if a newer owner does exist, its larger epoch refuses the
  //    restore's checkpoint and p stays stopped until the manager's must-stop arrives.
  //  - Other errors: the log or the store unreachable.
  if (IsFenced(s)) ++working_.partitions_fenced;
  spdlog::warn("cluster: partition {} (epoch {}): {} failed: {}; stopped, restoring it again in {} ms", p, o->epoch,
               what, s.ToString(), options_.retry_interval_ms);
  Halt(p, o);
  o->next_attempt = SteadyClock::now() + std::chrono::milliseconds(options_.retry_interval_ms);
}

void ClusterNode::PublishInfo() {
  std::vector<PartitionInfo> info;
  info.reserve(owned_.size());
  for (const auto& [p, o] : owned_) {
    PartitionInfo i;
    i.partition = p;
    i.epoch = o.epoch;
    i.dispatching = o.dispatching;
    i.applied_sequence = o.adopted ? follower_->applied(p).offset : 0;
    i.checkpoint_sequence = o.checkpoint_sequence;
    info.push_back(i);
  }
  std::lock_guard<std::mutex> lock(mu_);
  info_.swap(info);
  stats_ = working_;
}

}  // namespace ordersync
