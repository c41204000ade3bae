#include "engine/worker.h"

#include <algorithm>
#include <chrono>

namespace ordersync {
namespace {

// How often an idle worker looks at park deadlines, and the longest it sleeps.
constexpr int64_t kExpiryCheckIntervalNs = 50'000'000;
constexpr int64_t kMaxIdleWaitUs = 50'000;

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// What a PartitionTask sees of its partition while it runs.
class Worker::TaskContext final : public PartitionContext {
 public:
  TaskContext(EventProcessor* processor, Partition* partition, StoreBatch* batch, StateStore* store)
      : processor_(processor), partition_(partition), batch_(batch), store_(store) {}
  uint32_t partition() const override { return partition_->id(); }
  StoreBatch* batch() override { return batch_; }
  StateStore* store() override { return store_; }
  uint64_t AppendToOutbox(std::string_view erp_command) override {
    return processor_->AppendToOutbox(partition_, erp_command, batch_);
  }
  uint64_t next_outbox_seq() const override { return partition_->next_outbox_seq; }

 private:
  EventProcessor* processor_;
  Partition* partition_;
  StoreBatch* batch_;
  StateStore* store_;
};

Worker::Worker(uint32_t index, const EngineOptions& options, StateStore* store, const Clock* clock,
               const std::vector<std::unique_ptr<Partition>>* partitions, std::atomic<uint32_t>* depths,
               OutboxListener* outbox_listener)
    : options_(options), store_(store), clock_(clock), partitions_(partitions), depths_(depths),
      outbox_listener_(outbox_listener), processor_(options, store, clock, &stats_), batch_(store->NewBatch()) {
  const uint32_t workers = std::max<uint32_t>(1, options.workers);
  for (uint32_t p = index; p < partitions->size(); p += workers) owned_.push_back((*partitions)[p].get());
  items_.resize(std::max<uint32_t>(1, options.max_batch_events));
  results_.resize(items_.size());
}

Worker::~Worker() { StopAndJoin(); }

Status Worker::Recover() {
  for (Partition* p : owned_) ORDERSYNC_RETURN_IF_ERROR(processor_.Recover(p));
  return Status::OK();
}

void Worker::Start() { thread_ = std::thread([this] { Run(); }); }

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

bool Worker::QueuesEmpty() const {
  return same_day_queue_.size_approx() == 0 && standard_queue_.size_approx() == 0;
}

size_t Worker::Drain(size_t offset, size_t max) {
  auto at = items_.begin() + static_cast<ptrdiff_t>(offset);
  size_t n = same_day_queue_.try_dequeue_bulk(at, max);
  if (n < max) n += standard_queue_.try_dequeue_bulk(at + static_cast<ptrdiff_t>(n), max - n);
  return n;
}

void Worker::Touch(Partition* p) {
  if (!p->in_batch) {
    p->in_batch = true;
    touched_.push_back(p);
  }
}

bool Worker::ExpireDue(int64_t now_ns) {
  bool any = false;
  for (Partition* p : owned_) {
    if (p->deadlines.empty() || p->deadlines.top().deadline_ns > now_ns) continue;
    Touch(p);
    any |= processor_.ExpireParked(p, now_ns, batch_.get()) > 0;
  }
  return any;
}

void Worker::Run() {
  const size_t max_batch = items_.size();
  while (true) {
    size_t n = Drain(0, max_batch);
    const int64_t steady_now = SteadyNowNs();
    if (n > 0 && options_.group_commit_window_us > 0 && n < max_batch) {
      // Wait a little for more events so one write carries more of them.
      const int64_t until = steady_now + static_cast<int64_t>(options_.group_commit_window_us) * 1000;
      while (n < max_batch && SteadyNowNs() < until) {
        size_t more = Drain(n, max_batch - n);
        if (more == 0) std::this_thread::yield();
        n += more;
      }
    }
    for (size_t i = 0; i < n; ++i) {
      InboundEvent& ev = items_[i];
      Partition* p = (*partitions_)[ev.partition].get();
      Touch(p);
      PendingResult& r = results_[i];
      r.sink = ev.sink;
      r.cookie = ev.cookie;
      r.partition = ev.partition;
      r.is_task = ev.task != nullptr;
      if (r.is_task) {
        TaskContext context(&processor_, p, batch_.get(), store_);
        ev.task->Run(context);
        continue;
      }
      processor_.Process(p, ev.bytes.view(), ev.received_at_ns, ev.replay, batch_.get(), &r.outcome, &r.reason);
    }
    bool expired = false;
    if (steady_now >= next_expiry_check_ns_) {
      next_expiry_check_ns_ = steady_now + kExpiryCheckIntervalNs;
      expired = ExpireDue(clock_->NowNanos());
    }
    if (n > 0 || expired || !touched_.empty()) {
      CommitBatch(n);
      continue;
    }
    if (stop_.load(std::memory_order_acquire) && QueuesEmpty()) break;
    wake_.waitMany(1 << 30, kMaxIdleWaitUs);
  }
}

void Worker::CommitBatch(size_t events) {
  for (Partition* p : touched_) processor_.FinishBatch(p, batch_.get());
  const int64_t start = SteadyNowNs();
  Status s = batch_->Count() > 0 ? store_->Write(batch_.get(), options_.durability) : Status::OK();
  const int64_t commit_ns = SteadyNowNs() - start;
  Bump(stats_.commit_nanos, static_cast<uint64_t>(commit_ns));
  batch_->Clear();
  if (s.ok()) {
    for (Partition* p : touched_) processor_.BatchCommitted(p);
    Bump(stats_.batches_committed);
    Bump(stats_.batch_events, events);
    stats_.commit_latency_ns.Record(commit_ns);
    stats_.batch_events_hist.Record(static_cast<int64_t>(events));
  } else {
    Bump(stats_.batch_failures);
    for (Partition* p : touched_) {
      // The store is the truth again; if even reading it fails, the partition starts
      // from empty caches and the next batch will report the store's error.
      processor_.BatchFailed(p).PermitUncheckedError();
    }
  }
  for (size_t i = 0; i < events; ++i) {
    PendingResult& r = results_[i];
    if (r.is_task) {
      items_[i].task->Done(s);
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
  if (s.ok() && outbox_listener_ != nullptr) {
    for (Partition* p : touched_) outbox_listener_->OnOutboxAppended(p->id(), p->next_outbox_seq);
  }
  touched_.clear();
}

}  // namespace ordersync
