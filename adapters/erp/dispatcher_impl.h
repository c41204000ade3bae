// OutboxDispatcher::Impl: the dispatcher's state and thread (private to adapters/erp).
// The public contract is in outbox_dispatcher.h; the implementation is split by job:
//
//   outbox_dispatcher.cc       start/stop, the loop, taking commands in, stats
//   dispatcher_delivery.cc     per-order sequencing, sending, answers, retries, timers
//   dispatcher_dead_letters.cc dead letters, order blocks, replay and purge
//   dispatcher_back_pressure.cc target backlog, ingress blocking and its retry hint
//   dispatcher_ownership.cc    loading the outbox, adopting and releasing partitions
//
// Everything here runs on the dispatcher thread, except what the comments say.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "adapters/erp/circuit_breaker.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "adapters/erp/retry_policy.h"
#include "adapters/erp/target_channel.h"
#include "concurrentqueue/concurrentqueue.h"
#include "engine/command_note.h"
#include "engine/token_bucket.h"

namespace ordersync {

// Wakes the dispatcher thread from any thread: an eventfd it polls next to its channels.
// The flag keeps a storm of wake-ups down to one write. Replay tasks post their
// completions here too; it is shared with them so it outlives a stopped dispatcher.
class DispatcherMailbox {
 public:
  struct Completion {
    uint32_t partition;
    Status status;
    std::vector<ReplayedOrder> orders;
  };

  DispatcherMailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~DispatcherMailbox() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

  void Wake() {
    if (!pending_.exchange(true, std::memory_order_acq_rel)) {
      uint64_t one = 1;
      ssize_t n = write(fd_, &one, sizeof one);
      (void)n;  // EAGAIN only if the counter is saturated: it is readable then anyway
    }
  }
  // Called by the dispatcher thread before it looks at its inputs.
  void Drain() {
    pending_.store(false, std::memory_order_release);
    uint64_t value;
    ssize_t n = read(fd_, &value, sizeof value);
    (void)n;
  }

  void Post(Completion c) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      completions_.push_back(std::move(c));
    }
    Wake();
  }
  std::vector<Completion> TakeCompletions() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(completions_, {});
  }

 private:
  const int fd_;
  std::atomic<bool> pending_{false};
  std::mutex mu_;
  std::vector<Completion> completions_;  // GUARDED_BY(mu_)
};

struct DispatcherControl {
  enum class Kind { kReplay, kPurge, kAdopt, kRelease } kind;
  DeadLetterFilter filter;
  uint32_t partition = 0;  // kAdopt, kRelease
  uint64_t epoch = 0;      // kAdopt
  std::promise<Result<ReplayReport>> replay;
  std::promise<Result<PurgeReport>> purge;
  std::promise<Status> ownership;  // kAdopt, kRelease
};

// A replay being carried out: its request, its report so far, tasks not yet done.
struct DispatcherActiveReplay {
  std::shared_ptr<DispatcherControl> request;
  ReplayReport report;
  size_t outstanding = 0;
};

class OutboxDispatcher::Impl {
 public:
  Impl(const DispatcherOptions& options, StateStore* store, const Clock* wall);
  ~Impl() { Stop(); }

  Status Start(DispatcherHost* host);
  void Stop();
  Status AdoptPartition(uint32_t partition, uint64_t epoch);
  Status ReleasePartition(uint32_t partition);
  // Any thread (a worker's): queues the commands for the dispatcher thread.
  void OnCommandsDurable(std::vector<DurableCommand>& commands);
  Result<ReplayReport> Replay(const DeadLetterFilter& filter);
  Result<PurgeReport> Purge(const DeadLetterFilter& filter);
  DispatcherStats Stats() const;

 private:
  enum class St : uint8_t { kWaiting, kReady, kInFlight, kBackoff };

  // A command the dispatcher holds, from admission until it is done with. Entries come
  // from a pool (no allocation per command); their strings are views into `bytes`.
  struct Entry {
    uint32_t partition = 0;
    uint64_t pos = 0;  // outbox_seq
    CommandBytes bytes;
    std::string_view command_id;
    std::string_view order_id;
    std::string owned_id;  // command_id of a command whose bytes are unreadable
    uint64_t seq = 0;      // order_cmd_seq
    CommandKind kind = CommandKind::CreateSalesOrder;
    bool same_day = false;
    bool live = false;
    uint32_t target = UINT32_MAX;  // index into targets_ once known
    St st = St::kWaiting;
    uint32_t gen = 0;  // bumped on every state change and on release: stale refs are skipped
    uint32_t attempts = 0;
    // An attempt of an earlier run, or before a dead-letter replay, may have reached the
    // ERP: the first attempt of this run tells the channel (maybe_posted_before).
    bool maybe_posted = false;
    // Its partition was released while an attempt was in flight: the entry only waits for
    // that attempt's answer (or timeout) to free the target's in-flight slot; the answer
    // is ignored (late_answers_ignored). Not in any order queue or partition window.
    bool orphaned = false;
    int64_t first_attempt_ns = 0;
    int64_t last_attempt_ns = 0;     // steady clock: when the latest attempt was sent
    int64_t first_sent_wall_ns = 0;  // wall clock of attempt 1, for the journal
    Entry* next_in_order = nullptr;  // the order's next command (admission order)
    Entry* next_free = nullptr;
  };

  // A reference that goes stale when the entry changes state or is released.
  struct EntryRef {
    Entry* entry;
    uint32_t gen;
  };

  // Fixed slabs of entries and a free list: stable addresses, no allocation per command.
  class EntryPool {
   public:
    Entry* Acquire();
    void Release(Entry* e);

   private:
    static constexpr size_t kSlab = 1024;
    std::vector<std::unique_ptr<Entry[]>> slabs_;
    Entry* free_ = nullptr;
  };

  struct Timer {
    int64_t due;
    EntryRef ref;
    bool operator>(const Timer& o) const { return due > o.due; }
  };
  using TimerHeap = std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>>;

  // A durable command not admitted to the window yet.
  struct Staged {
    uint64_t pos = 0;
    CommandBytes bytes;
    uint32_t target = UINT32_MAX;  // as named by the command (UINT32_MAX: unknown/corrupt)
    bool trusted = false;          // a verified ErpCommand
    bool from_last_run = false;    // read from the outbox at start (maybe sent before the restart)
  };

  // An order's admitted commands, oldest first (linked through Entry::next_in_order).
  struct OrderQueue {
    Entry* head = nullptr;
    Entry* tail = nullptr;
  };

  struct PartitionState {
    // Commands of the partition are taken in, admitted and sent (always with
    // own_all_partitions; in cluster mode between AdoptPartition and ReleasePartition).
    bool owned = false;
    uint64_t epoch = 0;   // the owner's fencing epoch, stamped on every attempt (0: single node)
    uint64_t cursor = 0;  // next outbox_seq expected (everything below was taken in)
    uint32_t paused = 0;  // replay tasks outstanding: admit nothing
    uint32_t window = 0;  // commands admitted and not done with
    std::deque<Staged> staged;
    std::vector<uint32_t> staged_per_target;
    std::unordered_map<std::string, OrderQueue, StringHash, std::equal_to<>> orders;
    std::vector<uint32_t> per_target;            // admitted commands per target
    std::vector<std::string> replayed_orders;    // orders with a Replayed block
  };

  struct Target {
    Target(const ErpTargetOptions& o, std::unique_ptr<TargetChannel> c, int64_t now, uint64_t seed)
        : options(o), channel(std::move(c)), bucket(o.rate_per_s, o.burst, now), breaker(o.circuit_breaker),
          retry(o.retry, seed) {}
    ErpTargetOptions options;
    std::unique_ptr<TargetChannel> channel;
    bool answers_every_attempt = false;  // channel->AnswersEveryAttempt(): no dispatcher timeout
    TokenBucket bucket;
    CircuitBreaker breaker;
    RetryPolicy retry;
    std::deque<EntryRef> ready[2];  // [0] SameDay, [1] Standard
    uint32_t in_flight = 0;
    int64_t paused_until_ns = 0;  // after "no connection"
    bool ingress_blocked = false;
    uint32_t retry_after_ms = 0;  // the hint the ingress gives while blocked
    uint64_t backlog = 0;
    // What the target really drained lately (answers that took a command out: posted,
    // already posted, dead-lettered), commands/s, smoothed over ~0.5 s; for the hint.
    double drain_rate_per_s = 0;
    uint64_t drained_at_last_sample = 0;
    int64_t last_sample_ns = 0;
    TargetStats counters;
  };

  bool Enqueue(std::shared_ptr<DispatcherControl> request);
  static Entry* Resolve(const EntryRef& ref) {
    return ref.entry->live && ref.entry->gen == ref.gen ? ref.entry : nullptr;
  }
  static EntryRef Ref(Entry* e) { return EntryRef{e, e->gen}; }
  uint32_t TargetOf(std::string_view erp_command) const;
  uint32_t TargetIndex(std::string_view name) const;

  // outbox_dispatcher.cc
  void Run();
  void TakeInbox();
  void Stage(uint32_t p, Staged s);
  void AdmitStaged(uint32_t p);
  void Publish(int64_t now, bool force);
  void PublishNow();
  int64_t NextWakeNs(int64_t now);
  // dispatcher_delivery.cc
  void Admit(uint32_t p, Staged s);
  void MakeReady(Entry* e);
  Entry* PeekReady(Target& t, int* queue);
  void Dispatch(Target& t, int64_t now);
  bool Send(Target& t, Entry* e, int64_t now);
  void OnAnswer(Target& t, const ErpAnswer& answer, int64_t now);
  // Backoff (no sooner than not_before_ms, a Retry-After), or dead-letters the command
  // when its retries are exhausted.
  void Retry(Entry* e, int64_t now, const std::string& why, uint32_t not_before_ms = 0);
  // An attempt refused for our credentials or permissions (failure class auth): opens
  // the circuit and parks the command until the circuit half-opens; never dead-letters.
  void OnAuthFailure(Target& t, Entry* e, int64_t now, std::string_view message);
  void Complete(Entry* e);
  void RemoveEntry(Entry* e);
  void ProcessTimers(int64_t now);
  // Queues a note about `e` for the engine (journal-only notes only when the journal is on).
  // `outcome` must have static storage (CommandNote::outcome).
  void Note(const Entry& e, bool removes, storage::JournalKind kind, std::string_view outcome, std::string_view reason,
            std::string_view document = {});
  // dispatcher_dead_letters.cc
  void DeadLetterOrder(Entry* head, std::string_view reason, const std::string& message);
  void WriteDeadLetter(const Entry& e, std::string_view reason, const std::string& message,
                       const std::string& blocked_by, bool review);
  void PutBlock(uint32_t p, OrderBlockRecord block);
  void CleanUpReplayed(uint32_t p);
  void HandleControl();
  void StartReplay(std::shared_ptr<DispatcherControl> request);
  void HandleCompletions();
  void FinishReplay();
  // Writes pending dead letters and blocks, then hands the notes to the engine (notes of
  // dead letters only once those are durable).
  void Flush();
  // dispatcher_ownership.cc
  // Stages the outbox rows the store holds (of `partition` only, or all when none), as
  // commands of an earlier owner or run (maybe sent before). Returns how many.
  Result<uint64_t> LoadOutbox(std::optional<uint32_t> partition);
  // Order blocks (and replay markers) of the dead-letter table (of `partition` only, or all).
  Result<uint64_t> LoadBlocks(std::optional<uint32_t> partition);
  Status Adopt(uint32_t p, uint64_t epoch);
  Status Release(uint32_t p);
  // Takes an in-window entry of a released partition out of the window; an attempt in
  // flight keeps the entry (orphaned) until its answer or timeout (FreeOrphan).
  void Forget(Entry* e);
  void FreeOrphan(Entry* e);
  // True when an orphaned attempt of `e`'s command is still in flight (a new attempt waits).
  bool OrphanInFlight(const Entry& e) const;
  // dispatcher_back_pressure.cc
  void UpdateBackPressure(int64_t now);
  uint32_t RetryHintMs(const Target& t, int64_t now) const;

  const DispatcherOptions options_;
  StateStore* const store_;
  const Clock* const wall_;
  DispatcherHost* host_ = nullptr;
  std::shared_ptr<DispatcherMailbox> mailbox_;
  moodycamel::ConcurrentQueue<DurableCommand> inbox_;
  std::vector<DurableCommand> inbox_scratch_;
  std::vector<PartitionState> partitions_;
  zmq::context_t ctx_{1};
  std::vector<std::unique_ptr<Target>> targets_;
  // Per target (index as targets_): post latency. Created with the Impl and never resized,
  // so Stats() may read them from any thread; written by the dispatcher thread only.
  std::vector<std::unique_ptr<StatsHistogram>> post_latency_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> target_index_;
  std::unordered_map<std::string, OrderBlockRecord, StringHash, std::equal_to<>> blocks_;  // by order_id
  // Commands sent at least once, by command_id (a view into the entry's bytes).
  std::unordered_map<std::string_view, Entry*> by_command_;
  EntryPool pool_;
  TimerHeap timeouts_;
  TimerHeap backoffs_;
  std::unique_ptr<StoreBatch> batch_;     // dead letters and blocks not yet written
  std::vector<CommandNote> notes_;        // for the engine
  std::vector<CommandNote> dead_notes_;   // for the engine once batch_ is durable
  std::string key_;
  uint64_t acknowledged_ = 0;
  uint64_t stale_acks_ = 0;
  uint64_t dropped_not_owned_ = 0;
  uint64_t late_answers_ignored_ = 0;
  uint64_t orphans_ = 0;  // orphaned entries alive
  int64_t next_back_pressure_ns_ = 0;
  int64_t next_publish_ns_ = 0;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex control_mu_;
  bool running_ = false;                                    // GUARDED_BY(control_mu_)
  std::deque<std::shared_ptr<DispatcherControl>> control_;  // GUARDED_BY(control_mu_)

  // The replay being carried out (one control operation at a time).
  std::optional<DispatcherActiveReplay> active_;

  mutable std::mutex stats_mu_;
  DispatcherStats published_;  // GUARDED_BY(stats_mu_)
};

}  // namespace ordersync
