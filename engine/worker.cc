#include "engine/worker.h"

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>

#include "engine/failpoint.h"

namespace ordersync {
namespace {

// How often a worker looks at park deadlines, and the longest it sleeps when idle.
constexpr int64_t kExpiryCheckIntervalNs = 50'000'000;
constexpr int64_t kMaxIdleWaitUs = 50'000;
// After a failed checkpoint write, the next attempt waits this long.
constexpr int64_t kCheckpointRetryNs = 1'000'000'000;
// Most CommandNotes applied in one group commit.
constexpr size_t kMaxNotesPerBatch = 4096;

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether a record of `stream` ending at `end_offset` is newer than `checkpoint`.
bool AfterCheckpoint(const LogPosition& checkpoint, LogStreamId stream, uint64_t end_offset) {
  if (checkpoint.generation != stream.generation) return checkpoint.generation < stream.generation;
  return checkpoint.stream == stream.stream && end_offset > checkpoint.offset;
}

}  // namespace

// What a PartitionTask sees of its partition while it runs.
class Worker::TaskContext final : public PartitionContext {
 public:
  TaskContext(Worker* worker, Partition* partition) : worker_(worker), partition_(partition) {}
  uint32_t partition() const override { return partition_->id(); }
  StoreBatch* batch() override { return worker_->direct_.get(); }
  StateStore* store() override { return worker_->store_; }
  uint64_t AppendToOutbox(std::string_view erp_command) override {
    worker_->record_.AddOutboxAppend(partition_->id(), erp_command);
    return worker_->processor_.AppendToOutbox(partition_, erp_command);
  }
  uint64_t next_outbox_seq() const override { return partition_->next_outbox_seq; }

 private:
  Worker* worker_;
  Partition* partition_;
};

Worker::Worker(uint32_t index, const EngineOptions& options, StateStore* store, EventLog* log,
               Checkpointer* checkpointer, const Clock* clock,
               const std::vector<std::unique_ptr<Partition>>* partitions, std::atomic<uint32_t>* depths,
               OutboxListener* outbox_listener, const MasterDataSource* master_data)
    : index_(index), workers_(std::max<uint32_t>(1, options.workers)), options_(options), store_(store), log_(log),
      checkpointer_(checkpointer), clock_(clock), partitions_(partitions), depths_(depths),
      outbox_listener_(outbox_listener), gate_(options.master_data, master_data), processor_(options, store, &stats_),
      accum_(store->NewBatch()), frozen_(store->NewBatch()), direct_(store->NewBatch()) {
  processor_.SetMasterDataGate(&gate_);
  for (uint32_t p = index; p < partitions->size(); p += workers_) owned_.push_back((*partitions)[p].get());
  items_.resize(std::max<uint32_t>(1, options.max_batch_events));
  results_.resize(items_.size());
  processor_.SetOpenEpoch(open_epoch_);
}

Worker::~Worker() { StopAndJoin(); }

bool Worker::Owns(uint32_t partition) const { return partition % workers_ == index_; }

Status Worker::Recover(const std::vector<LogStreamId>& streams, ReplayStats* stats) {
  for (Partition* p : owned_) ORDERSYNC_RETURN_IF_ERROR(processor_.Reset(p));
  return Replay(streams, stats);
}

Status Worker::Replay(const std::vector<LogStreamId>& streams, ReplayStats* stats) {
  processor_.SetStats(&replay_stats_);
  std::string outcome_reason;
  auto replay = [&]() -> Status {
    for (const LogStreamId& id : streams) {
      bool needed = false;
      uint64_t start = UINT64_MAX;
      for (const Partition* p : owned_) {
        if (p->checkpoint.generation < id.generation) {
          needed = true;
          start = 0;
        } else if (p->checkpoint.generation == id.generation && p->checkpoint.stream == id.stream) {
          needed = true;
          start = std::min(start, p->checkpoint.offset);
        }
      }
      if (!needed) continue;
      auto reader = log_->ReadFrom(LogPosition{id.generation, id.stream, start});
      if (!reader.ok()) return reader.status();
      std::string_view record;
      LogPosition end;
      uint64_t previous_end = start;
      while ((*reader)->Next(&record, &end)) {
        ++stats->records;
        stats->log_bytes += end.offset - previous_end;
        previous_end = end.offset;
        LogRecordReader items;
        if (Status s = items.Open(record); !s.ok()) {
          return Status::Corruption("event log g" + std::to_string(id.generation) + "/s" + std::to_string(id.stream) +
                                    " before offset " + std::to_string(end.offset) + ": " + s.message());
        }
        processor_.SetNow(items.now_ns());
        LogItem item;
        while (items.Next(&item)) {
          if (item.partition >= partitions_->size()) {
            return Status::Corruption("event log record names partition " + std::to_string(item.partition) +
                                      " of " + std::to_string(partitions_->size()));
          }
          if (!Owns(item.partition)) continue;
          Partition* p = (*partitions_)[item.partition].get();
          if (!AfterCheckpoint(p->checkpoint, id, end.offset)) continue;
          ORDERSYNC_RETURN_IF_ERROR(ApplyLogItem(&processor_, &gate_, p, item, accum_.get(), stats, &outcome_reason));
        }
        ORDERSYNC_RETURN_IF_ERROR(items.status());
      }
      ORDERSYNC_RETURN_IF_ERROR((*reader)->status());
      stats->torn_bytes += (*reader)->torn_bytes();
    }
    return Status::OK();
  };
  Status s = replay();
  processor_.SetStats(&stats_);
  processor_.issued().clear();  // the checkpoint after recovery hands them over (outbox table)
  int64_t parked = 0;
  for (const Partition* p : owned_) parked += p->parked_count;
  stats_.parked_now.store(parked, std::memory_order_relaxed);
  return s;
}

Durability Worker::CheckpointDurability() const { return options_.durability; }

Status Worker::CheckpointBeforeStart(uint32_t generation) {
  const LogPosition position{generation, index_, 0};
  for (Partition* p : owned_) processor_.CutCheckpoint(p, position, open_epoch_, accum_.get());
  Status s = accum_->Count() > 0 ? store_->Write(accum_.get(), CheckpointDurability()) : Status::OK();
  accum_->Clear();
  if (!s.ok()) return s;
  for (Partition* p : owned_) processor_.CheckpointDurable(p, open_epoch_);
  processor_.SetOpenEpoch(++open_epoch_);
  Bump(stats_.checkpoints);
  return Status::OK();
}

Status Worker::Start(uint32_t generation) {
  auto stream = log_->CreateStream(LogStreamId{generation, index_});
  if (!stream.ok()) return stream.status();
  stream_ = std::move(stream).value();
  next_cut_ns_ = SteadyNowNs() + static_cast<int64_t>(options_.checkpoint_interval_s) * kNanosPerSecond;
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void Worker::StopAndJoin() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  wake_.signal();
  thread_.join();
}

void Worker::Enqueue(InboundEvent&& event, bool same_day) {
  (same_day ? same_day_queue_ : standard_queue_).enqueue(std::move(event));
  wake_.signal();
}

void Worker::EnqueueNote(CommandNote&& note) {
  // No wake-up: notes are not latency-sensitive. They ride with the next group commit of
  // events, or with the idle loop's next turn (at most kMaxIdleWaitUs later), so a busy
  // worker appends them at no extra syscall and an idle one batches them.
  note_queue_.enqueue(std::move(note));
}

void Worker::RequestCheckpoint(std::function<void(const Status&)> done) {
  {
    std::lock_guard<std::mutex> lock(requests_mu_);
    requests_.push_back(std::move(done));
  }
  has_requests_.store(true, std::memory_order_release);
  wake_.signal();
}

bool Worker::QueuesEmpty() const {
  return same_day_queue_.size_approx() == 0 && standard_queue_.size_approx() == 0 && note_queue_.size_approx() == 0;
}

size_t Worker::Drain(size_t offset, size_t max) {
  auto at = items_.begin() + static_cast<ptrdiff_t>(offset);
  size_t n = same_day_queue_.try_dequeue_bulk(at, max);
  if (n < max) n += standard_queue_.try_dequeue_bulk(at + static_cast<ptrdiff_t>(n), max - n);
  return n;
}

size_t Worker::DrainNotes() {
  if (notes_.size() < kMaxNotesPerBatch) notes_.resize(kMaxNotesPerBatch);
  return note_queue_.try_dequeue_bulk(notes_.begin(), kMaxNotesPerBatch);
}

void Worker::Run() {
  // Named for top -H / perf: "os-worker-<index>".
  pthread_setname_np(pthread_self(), ("os-worker-" + std::to_string(index_)).substr(0, 15).c_str());
  const size_t max_batch = items_.size();
  while (true) {
    // Read before draining: what was queued before a checkpoint request is in this
    // iteration's group commit, so the requested checkpoint covers it.
    const bool requested = has_requests_.load(std::memory_order_acquire);
    size_t n = Drain(0, max_batch);
    if (n > 0 && options_.group_commit_window_us > 0 && n < max_batch) {
      // Wait a little for more events so one append carries more of them.
      const int64_t until = SteadyNowNs() + static_cast<int64_t>(options_.group_commit_window_us) * 1000;
      while (n < max_batch && SteadyNowNs() < until) {
        size_t more = Drain(n, max_batch - n);
        if (more == 0) std::this_thread::yield();
        n += more;
      }
    }
    const size_t notes = DrainNotes();
    const int64_t steady_now = SteadyNowNs();
    PollCheckpoint(steady_now);
    const bool sweep = steady_now >= next_expiry_check_ns_;
    if (sweep) next_expiry_check_ns_ = steady_now + kExpiryCheckIntervalNs;
    if (n > 0 || notes > 0 || sweep) CommitGroup(n, notes, sweep);
    const bool due = items_since_cut_ >= options_.checkpoint_interval_events ||
                     (steady_now >= next_cut_ns_ && items_since_cut_ > 0) || requested;
    if (due && !cut_in_flight_ && !failed_) CutCheckpoint(steady_now);
    if (n > 0 || notes > 0) continue;
    if (stop_.load(std::memory_order_acquire) && QueuesEmpty()) break;
    wake_.waitMany(1 << 30, kMaxIdleWaitUs);
  }
  // Final checkpoint: a clean stop leaves nothing to replay.
  WaitForCheckpoint();
  if (!failed_) {
    CutCheckpoint(SteadyNowNs());
    WaitForCheckpoint();
  }
}

void Worker::CommitGroup(size_t events, size_t notes, bool sweep_parked) {
  const int64_t now = clock_->NowNanos();
  processor_.SetNow(now);
  record_.Begin(now);
  if (!failed_) ReleaseClearedHolds();
  for (size_t i = 0; i < events; ++i) {
    InboundEvent& ev = items_[i];
    Partition* p = (*partitions_)[ev.partition].get();
    PendingResult& r = results_[i];
    r.sink = ev.sink;
    r.cookie = ev.cookie;
    r.partition = ev.partition;
    r.is_task = ev.task != nullptr;
    if (failed_) {
      r.outcome = EventOutcome::kStoreError;
      r.reason = "the worker could not rebuild its partitions; restart the engine";
      continue;
    }
    if (r.is_task) {
      TaskContext context(this, p);
      ev.task->Run(context);
      continue;
    }
    gate_.BeginLive();
    processor_.Process(p, ev.bytes.view(), ev.received_at_ns, ev.replay, accum_.get(), &r.outcome, &r.reason);
    // A store read error changed nothing, and a replay must not retry it differently.
    if (r.outcome != EventOutcome::kStoreError) {
      record_.AddEvent(ev.partition, ev.received_at_ns, ev.replay, ev.bytes.view(), gate_.decided());
    }
  }
  for (size_t i = 0; i < notes && !failed_; ++i) {
    CommandNote& note = notes_[i];
    if (note.partition >= partitions_->size() || !Owns(note.partition)) continue;
    const LogItem item = NoteAsLogItem(note);
    processor_.ApplyNote((*partitions_)[note.partition].get(), item, accum_.get());
    record_.AddNote(item);
  }
  if (sweep_parked && !failed_) {
    for (Partition* p : owned_) {
      if (processor_.ParkDeadlineDue(p) && processor_.ExpireParked(p, accum_.get()) > 0) record_.AddExpireParked(p->id());
    }
  }

  Status s;
  if (record_.items() > 0 && !failed_) {
    const std::string_view record = record_.Finish();
    const int64_t start = SteadyNowNs();
    LogPosition end;
    s = stream_->Append(record, options_.durability, &end);
    const int64_t append_ns = SteadyNowNs() - start;
    Bump(stats_.commit_nanos, static_cast<uint64_t>(append_ns));
    if (s.ok()) {
      ORDERSYNC_FAILPOINT("worker.after_log_append");
      if (notes > 0) ORDERSYNC_FAILPOINT("acks.after_append");
      Bump(stats_.batches_committed);
      Bump(stats_.batch_events, events);
      Bump(stats_.log_bytes, record.size() + 8);
      Bump(stats_.notes_applied, notes);
      stats_.commit_latency_ns.Record(append_ns);
      stats_.batch_events_hist.Record(static_cast<int64_t>(events));
      log_retained_bytes_.store(stream_->retained_bytes(), std::memory_order_relaxed);
    } else {
      Bump(stats_.batch_failures);
      std::fprintf(stderr, "ordersync worker %u: event log append failed: %s\n", index_, s.ToString().c_str());
      Rebuild();
    }
  } else if (failed_) {
    s = Status::IOError("the worker could not rebuild its partitions after an event log failure");
  }
  // What tasks wrote to other tables follows their log record (a crash between the two
  // is repaired by the task's protocol, e.g. a dead-letter replay re-dead-letters).
  Status task_status = s;
  if (s.ok() && direct_->Count() > 0) task_status = store_->Write(direct_.get(), options_.durability);
  direct_->Clear();

  for (size_t i = 0; i < events; ++i) {
    PendingResult& r = results_[i];
    if (r.is_task) {
      items_[i].task->Done(task_status);
      items_[i] = InboundEvent();
      continue;
    }
    if (!s.ok()) {
      r.outcome = EventOutcome::kStoreError;
      r.reason = s.ToString();
    }
    // Leave the queue before telling the sink, so whoever hears the result also sees
    // the queue depth without this event.
    depths_[r.partition].fetch_sub(1, std::memory_order_release);
    if (r.sink != nullptr) r.sink->OnEventResult(r.cookie, EventReport{r.outcome, r.reason});
    items_[i] = InboundEvent();  // release the frame now, not when the slot is reused
  }
  ORDERSYNC_FAILPOINT("worker.after_results");
  std::vector<DurableCommand>& issued = processor_.issued();
  if (s.ok() && outbox_listener_ != nullptr && !issued.empty()) outbox_listener_->OnCommandsDurable(issued);
  issued.clear();
  for (size_t i = 0; i < notes; ++i) notes_[i] = CommandNote();
  items_since_cut_ += events + notes;
}

void Worker::ReleaseClearedHolds() {
  if (!gate_.Refresh()) return;
  gate_.ClearedHolds(&releases_);
  for (const auto& [partition, customer] : releases_) {
    if (partition >= partitions_->size() || !Owns(partition)) continue;
    record_.AddReleaseHold(partition, customer, gate_.snapshot().version());
    processor_.ReleaseHolds((*partitions_)[partition].get(), customer, accum_.get());
  }
}

void Worker::Rebuild() {
  WaitForCheckpoint();
  accum_->Clear();
  direct_->Clear();
  for (Partition* p : owned_) {
    if (Status s = processor_.Reset(p); !s.ok()) {
      std::fprintf(stderr, "ordersync worker %u: reloading partition %u failed: %s\n", index_, p->id(),
                   s.ToString().c_str());
      failed_ = true;
      return;
    }
  }
  ReplayStats ignored;
  if (Status s = Replay({LogStreamId{stream_->end().generation, index_}}, &ignored); !s.ok()) {
    std::fprintf(stderr, "ordersync worker %u: replaying its event log failed: %s\n", index_, s.ToString().c_str());
    failed_ = true;
  }
}

void Worker::CutCheckpoint(int64_t steady_now_ns) {
  assert(!cut_in_flight_);
  const int64_t start = SteadyNowNs();
  const LogPosition position = stream_->end();
  for (Partition* p : owned_) processor_.CutCheckpoint(p, position, open_epoch_, accum_.get());
  std::swap(accum_, frozen_);
  cut_in_flight_ = true;
  in_flight_epoch_ = open_epoch_;
  in_flight_position_ = position;
  in_flight_started_ns_ = start;
  processor_.SetOpenEpoch(++open_epoch_);
  items_since_cut_ = 0;
  next_cut_ns_ = steady_now_ns + static_cast<int64_t>(options_.checkpoint_interval_s) * kNanosPerSecond;
  if (has_requests_.exchange(false, std::memory_order_acq_rel)) {
    std::lock_guard<std::mutex> lock(requests_mu_);
    for (auto& r : requests_) awaiting_cut_.push_back(std::move(r));
    requests_.clear();
  }
  Bump(stats_.checkpoint_cut_nanos, static_cast<uint64_t>(SteadyNowNs() - start));
  SubmitCheckpoint();
}

void Worker::SubmitCheckpoint() {
  checkpointer_->Submit([this] {
    ORDERSYNC_FAILPOINT("checkpoint.before_write");
    const int64_t start = SteadyNowNs();
    Status s = frozen_->Count() > 0 ? store_->Write(frozen_.get(), CheckpointDurability()) : Status::OK();
    Bump(stats_.checkpoint_write_nanos, static_cast<uint64_t>(SteadyNowNs() - start));
    checkpoint_status_ = s;
    checkpoint_done_.store(true, std::memory_order_release);
    wake_.signal();
  });
}

void Worker::PollCheckpoint(int64_t steady_now_ns) {
  if (!cut_in_flight_) return;
  if (retry_checkpoint_at_ns_ != 0) {
    if (steady_now_ns < retry_checkpoint_at_ns_) return;
    retry_checkpoint_at_ns_ = 0;
    SubmitCheckpoint();
    return;
  }
  if (!checkpoint_done_.load(std::memory_order_acquire)) return;
  checkpoint_done_.store(false, std::memory_order_relaxed);
  if (!checkpoint_status_.ok()) {
    // The log still holds everything; the same checkpoint is written again later.
    Bump(stats_.checkpoint_failures);
    std::fprintf(stderr, "ordersync worker %u: writing a checkpoint failed (retrying): %s\n", index_,
                 checkpoint_status_.ToString().c_str());
    retry_checkpoint_at_ns_ = steady_now_ns + kCheckpointRetryNs;
    if (stop_.load(std::memory_order_acquire)) {
      for (auto& done : awaiting_cut_) done(checkpoint_status_);
      awaiting_cut_.clear();
    }
    return;
  }
  ORDERSYNC_FAILPOINT("checkpoint.before_truncate");
  for (Partition* p : owned_) processor_.CheckpointDurable(p, in_flight_epoch_);
  if (Status s = stream_->TruncateBefore(in_flight_position_.offset); !s.ok()) {
    std::fprintf(stderr, "ordersync worker %u: %s\n", index_, s.ToString().c_str());
  }
  log_retained_bytes_.store(stream_->retained_bytes(), std::memory_order_relaxed);
  frozen_->Clear();
  cut_in_flight_ = false;
  Bump(stats_.checkpoints);
  for (auto& done : awaiting_cut_) done(Status::OK());
  awaiting_cut_.clear();
}

void Worker::WaitForCheckpoint() {
  while (cut_in_flight_) {
    PollCheckpoint(SteadyNowNs());
    if (!cut_in_flight_) break;
    if (retry_checkpoint_at_ns_ != 0 && stop_.load(std::memory_order_acquire)) {
      // Stopping with a store that refuses checkpoints: the log keeps everything.
      cut_in_flight_ = false;
      break;
    }
    wake_.waitMany(1 << 30, kMaxIdleWaitUs);
  }
}

}  // namespace ordersync
