#include "adapters/erp/outbox_dispatcher.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "adapters/erp/circuit_breaker.h"
#include "adapters/erp/retry_policy.h"
#include "engine/token_bucket.h"
#include "engine/coding.h"
#include "engine/journal.h"
#include "engine/keys.h"
#include "erp_ack_generated.h"

namespace ordersync {
namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kMaxIdleNs = 100'000'000;         // longest poll when nothing is due
constexpr int64_t kBackPressureEveryNs = 50'000'000;
constexpr int64_t kPublishEveryNs = 10'000'000;
constexpr size_t kMaxAcksPerPoll = 16384;
constexpr auto kControlWait = std::chrono::seconds(120);

// Wakes the dispatcher thread from any thread: an eventfd it polls next to its sockets.
// The flag keeps a storm of OnOutboxAppended calls down to one write. Replay tasks post
// their completions here too; it is shared with them so it outlives a stopped dispatcher.
class Mailbox {
 public:
  struct Completion {
    uint32_t partition;
    Status status;
    std::vector<ReplayedOrder> orders;
  };

  Mailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Mailbox() {
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
  std::vector<Completion> completions_;
};

struct ControlRequest {
  enum class Kind { kReplay, kPurge } kind;
  DeadLetterFilter filter;
  std::promise<Result<ReplayReport>> replay;
  std::promise<Result<PurgeReport>> purge;
};

// The replay being carried out by the dispatcher thread.
struct ActiveReplay {
  std::shared_ptr<ControlRequest> request;
  ReplayReport report;
  size_t outstanding = 0;
};

}  // namespace

class OutboxDispatcher::Impl {
 public:
  Impl(const DispatcherOptions& options, StateStore* store, const Clock* wall)
      : options_(options), store_(store), wall_(wall), mailbox_(std::make_shared<Mailbox>()),
        appended_(std::make_unique<std::atomic<uint64_t>[]>(options.partitions)),
        partitions_(options.partitions), batch_(store->NewBatch()) {
    for (size_t i = 0; i < options.erp.targets.size(); ++i) {
      post_latency_.push_back(std::make_unique<StatsHistogram>(kErpPostLatencyBoundsNs));
    }
    for (uint32_t p = 0; p < options.partitions; ++p) {
      appended_[p].store(0, std::memory_order_relaxed);
      partitions_[p].per_target.assign(options.erp.targets.size(), 0);
    }
  }

  ~Impl() { Stop(); }

  Status Start(Engine* engine);
  void Stop();

  void OnAppended(uint32_t partition, uint64_t next) {
    if (partition >= options_.partitions) return;
    std::atomic<uint64_t>& a = appended_[partition];
    uint64_t seen = a.load(std::memory_order_relaxed);
    while (seen < next && !a.compare_exchange_weak(seen, next, std::memory_order_acq_rel)) {
    }
    mailbox_->Wake();
  }

  Result<ReplayReport> Replay(const DeadLetterFilter& filter) {
    auto request = std::make_shared<ControlRequest>();
    request->kind = ControlRequest::Kind::kReplay;
    request->filter = filter;
    std::future<Result<ReplayReport>> result = request->replay.get_future();
    if (!Enqueue(request)) return Status::Unavailable("the ERP dispatcher is not running");
    if (result.wait_for(kControlWait) != std::future_status::ready) {
      return Status::Unavailable("replay did not finish in time (is the engine stopping?)");
    }
    return result.get();
  }

  Result<PurgeReport> Purge(const DeadLetterFilter& filter) {
    auto request = std::make_shared<ControlRequest>();
    request->kind = ControlRequest::Kind::kPurge;
    request->filter = filter;
    std::future<Result<PurgeReport>> result = request->purge.get_future();
    if (!Enqueue(request)) return Status::Unavailable("the ERP dispatcher is not running");
    if (result.wait_for(kControlWait) != std::future_status::ready) {
      return Status::Unavailable("purge did not finish in time");
    }
    return result.get();
  }

  DispatcherStats Stats() const {
    DispatcherStats s;
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      s = published_;
    }
    // Published in target order; the histograms are read lock-free at call time.
    for (size_t i = 0; i < s.targets.size() && i < post_latency_.size(); ++i) {
      post_latency_[i]->AddTo(&s.targets[i].post_latency_ns);
    }
    return s;
  }

 private:
  enum class St : uint8_t { kWaiting, kReady, kInFlight, kBackoff };

  struct Entry {
    uint32_t partition = 0;
    uint64_t pos = 0;  // outbox_seq
    std::string bytes;
    std::string command_id;
    std::string order_id;
    uint64_t seq = 0;  // order_cmd_seq
    CommandKind kind = CommandKind::CreateSalesOrder;
    bool same_day = false;
    uint32_t target = UINT32_MAX;  // index into targets_ once known
    St st = St::kWaiting;
    uint32_t gen = 0;  // bumped on every state change; stale timer/queue refs are skipped
    uint32_t attempts = 0;
    int64_t first_attempt_ns = 0;
    int64_t last_attempt_ns = 0;  // steady clock: when the latest attempt was sent
    int64_t first_sent_wall_ns = 0;  // wall clock of attempt 1, for the journal
  };

  struct EntryRef {
    uint32_t partition;
    uint64_t pos;
    uint32_t gen;
  };

  struct Timer {
    int64_t due;
    EntryRef ref;
    bool operator>(const Timer& o) const { return due > o.due; }
  };
  using TimerHeap = std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>>;

  struct PartitionState {
    uint64_t cursor = 0;  // next outbox_seq to read
    bool more = true;     // unread commands may exist
    uint32_t paused = 0;  // replay tasks outstanding: do not read
    std::map<uint64_t, std::unique_ptr<Entry>> window;
    std::unordered_map<std::string, std::deque<Entry*>> orders;  // each in outbox order
    std::vector<uint32_t> per_target;                           // window entries per target
    std::vector<std::string> replayed_orders;                   // orders with a Replayed block
  };

  struct Target {
    Target(const ErpTargetOptions& o, zmq::context_t& ctx, int64_t now, uint64_t seed)
        : options(o), socket(ctx, zmq::socket_type::dealer), bucket(o.rate_per_s, o.burst, now),
          breaker(o.circuit_breaker), retry(o.retry, seed) {}
    ErpTargetOptions options;
    zmq::socket_t socket;
    TokenBucket bucket;
    CircuitBreaker breaker;
    RetryPolicy retry;
    std::deque<EntryRef> ready[2];  // [0] SameDay, [1] Standard
    uint32_t in_flight = 0;
    int64_t paused_until_ns = 0;  // after "no connection"
    bool ingress_blocked = false;
    uint64_t backlog = 0;
    TargetStats counters;
  };

  bool Enqueue(std::shared_ptr<ControlRequest> request) {
    {
      std::lock_guard<std::mutex> lock(control_mu_);
      if (!running_) return false;
      control_.push_back(std::move(request));
    }
    mailbox_->Wake();
    return true;
  }

  Entry* Resolve(const EntryRef& ref) {
    auto& window = partitions_[ref.partition].window;
    auto it = window.find(ref.pos);
    return it == window.end() ? nullptr : it->second.get();
  }
  static EntryRef Ref(const Entry* e) { return EntryRef{e->partition, e->pos, e->gen}; }

  void Run();
  void ReadPartition(uint32_t p);
  void Admit(uint32_t p, uint64_t pos, std::string_view value);
  void MakeReady(Entry* e);
  Entry* PeekReady(Target& t, int* queue);
  void Dispatch(Target& t, int64_t now);
  bool Send(Target& t, Entry* e, int64_t now);
  void ReceiveAcks(Target& t, int64_t now);
  void OnAck(Target& t, std::string_view frame, int64_t now);
  void Retry(Entry* e, int64_t now, const std::string& why);
  void Complete(Entry* e);
  void RemoveEntry(Entry* e);
  void DeadLetterOrder(Entry* head, std::string_view reason, const std::string& message);
  void WriteDeadLetter(const Entry& e, std::string_view reason, const std::string& message,
                       const std::string& blocked_by, bool review);
  void PutBlock(uint32_t p, OrderBlockRecord block);
  void ProcessTimers(int64_t now);
  // Adds a journal entry for `e` (when the journal is on) to the pending batch.
  void Journal(const Entry& e, storage::JournalKind kind, std::string_view outcome, std::string_view reason,
               std::string_view document = {});
  void CleanUpReplayed(uint32_t p);
  void HandleControl();
  void StartReplay(std::shared_ptr<ControlRequest> request);
  void HandleCompletions();
  void FinishReplay();
  void Flush();
  void UpdateBackPressure(int64_t now);
  void Publish(int64_t now, bool force);
  int64_t NextWakeNs(int64_t now);

  const DispatcherOptions options_;
  StateStore* const store_;
  const Clock* const wall_;
  Engine* engine_ = nullptr;
  std::shared_ptr<Mailbox> mailbox_;
  std::unique_ptr<std::atomic<uint64_t>[]> appended_;
  std::vector<PartitionState> partitions_;
  zmq::context_t ctx_{1};
  std::vector<std::unique_ptr<Target>> targets_;
  // Per target (index as targets_): post latency. Created with the Impl and never resized,
  // so Stats() may read them from any thread; written by the dispatcher thread only.
  std::vector<std::unique_ptr<StatsHistogram>> post_latency_;
  std::unordered_map<std::string, uint32_t> target_index_;
  std::unordered_map<std::string, OrderBlockRecord> blocks_;  // by order_id
  std::unordered_map<std::string, EntryRef> by_command_;      // sent at least once
  TimerHeap timeouts_;
  TimerHeap backoffs_;
  std::unique_ptr<StoreBatch> batch_;
  JournalWriter journal_;
  std::string key_;
  uint64_t acknowledged_ = 0;
  uint64_t stale_acks_ = 0;
  int64_t next_back_pressure_ns_ = 0;
  int64_t next_publish_ns_ = 0;

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex control_mu_;
  bool running_ = false;  // GUARDED_BY(control_mu_)
  std::deque<std::shared_ptr<ControlRequest>> control_;  // GUARDED_BY(control_mu_)

  // The replay being carried out (one control operation at a time).
  std::optional<ActiveReplay> active_;

  mutable std::mutex stats_mu_;
  DispatcherStats published_;  // GUARDED_BY(stats_mu_)
};

Status OutboxDispatcher::Impl::Start(Engine* engine) {
  engine_ = engine;
  // Blocks (and replay markers) survive restarts in the dead-letter table.
  std::vector<OrderBlockRecord> blocks;
  ORDERSYNC_RETURN_IF_ERROR(ListOrderBlocks(store_, &blocks));
  for (OrderBlockRecord& b : blocks) {
    if (b.partition >= options_.partitions) continue;
    if (b.state == OrderBlockRecord::State::kReplayed) partitions_[b.partition].replayed_orders.push_back(b.order_id);
    std::string order_id = b.order_id;
    blocks_[order_id] = std::move(b);
  }
  // Where each partition's outbox ends, from the engine's durable counters (meta table:
  // next outbox_seq:8 LE | next exception_seq:8 LE), for the backlog estimate.
  std::string value;
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    MetaCountersKey(&key_, p);
    if (store_->Get(Table::kMeta, key_, &value).ok() && value.size() >= 8) {
      OnAppended(p, DecodeFixed64(value.data()));
    }
  }
  const int64_t now = SteadyNowNs();
  for (size_t i = 0; i < options_.erp.targets.size(); ++i) {
    const ErpTargetOptions& o = options_.erp.targets[i];
    auto t = std::make_unique<Target>(o, ctx_, now, options_.seed + i);
    try {
      t->socket.set(zmq::sockopt::linger, 0);
      t->socket.set(zmq::sockopt::immediate, 1);  // no connection: send fails instead of queueing
      t->socket.set(zmq::sockopt::sndhwm, static_cast<int>(std::max<uint32_t>(1000, 2 * o.max_in_flight)));
      t->socket.set(zmq::sockopt::rcvhwm, 0);
      t->socket.set(zmq::sockopt::reconnect_ivl, 100);
      t->socket.set(zmq::sockopt::reconnect_ivl_max, 2000);
      t->socket.connect(o.endpoint);
    } catch (const zmq::error_t& e) {
      return Status::InvalidArgument("erp.targets." + o.name + ".endpoint '" + o.endpoint + "': " + e.what());
    }
    t->counters.name = o.name;
    t->counters.endpoint = o.endpoint;
    target_index_[o.name] = static_cast<uint32_t>(i);
    targets_.push_back(std::move(t));
  }
  if (!blocks.empty() || !blocks_.empty()) {
    spdlog::info("erp dispatcher: {} orders blocked by dead letters", blocks_.size());
  }
  Publish(now, true);
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    running_ = true;
  }
  thread_ = std::thread([this] { Run(); });
  for (const auto& t : targets_) {
    spdlog::info("erp target {}: connecting to {} (rate {}/s, burst {}, in flight {}, timeout {} ms)",
                 t->options.name, t->options.endpoint, t->options.rate_per_s, t->options.burst,
                 t->options.max_in_flight, t->options.timeout_ms);
  }
  return Status::OK();
}

void OutboxDispatcher::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    running_ = false;
  }
  if (thread_.joinable()) {
    stop_.store(true, std::memory_order_release);
    mailbox_->Wake();
    thread_.join();
  }
  std::deque<std::shared_ptr<ControlRequest>> left;
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    left.swap(control_);
  }
  if (active_) left.push_back(std::move(active_->request));
  active_.reset();
  for (auto& r : left) {
    if (r == nullptr) continue;
    if (r->kind == ControlRequest::Kind::kReplay) {
      r->replay.set_value(Status::Unavailable("the ERP dispatcher stopped"));
    } else {
      r->purge.set_value(Status::Unavailable("the ERP dispatcher stopped"));
    }
  }
  targets_.clear();  // closes the sockets (linger 0)
}

void OutboxDispatcher::Impl::Run() {
  std::vector<zmq::pollitem_t> items;
  items.push_back(zmq::pollitem_t{nullptr, mailbox_->fd(), ZMQ_POLLIN, 0});
  for (auto& t : targets_) items.push_back(zmq::pollitem_t{t->socket.handle(), 0, ZMQ_POLLIN, 0});
  while (!stop_.load(std::memory_order_acquire)) {
    mailbox_->Drain();
    int64_t now = SteadyNowNs();
    HandleCompletions();
    HandleControl();
    for (uint32_t p = 0; p < options_.partitions; ++p) {
      PartitionState& ps = partitions_[p];
      if (appended_[p].load(std::memory_order_acquire) > ps.cursor) ps.more = true;
      ReadPartition(p);
      if (!ps.replayed_orders.empty()) CleanUpReplayed(p);
    }
    ProcessTimers(now);
    for (auto& t : targets_) Dispatch(*t, now);
    Flush();
    UpdateBackPressure(now);
    const int64_t wake = NextWakeNs(now);
    Publish(now, wake > now);
    const int64_t wait_ms = wake <= now ? 0 : std::max<int64_t>(1, (wake - now + 999'999) / 1'000'000);
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("erp dispatcher: poll failed: {}", e.what());
    }
    now = SteadyNowNs();
    for (size_t i = 0; i < targets_.size(); ++i) {
      if (items[i + 1].revents & ZMQ_POLLIN) ReceiveAcks(*targets_[i], now);
    }
  }
  Flush();
  Publish(SteadyNowNs(), true);
}

void OutboxDispatcher::Impl::ReadPartition(uint32_t p) {
  PartitionState& ps = partitions_[p];
  if (!ps.more || ps.paused > 0) return;
  const size_t limit = options_.erp.read_ahead_per_partition;
  if (ps.window.size() >= limit) return;
  // Everything below `durable` was committed before the iterator below is created, so
  // the iterator sees it (the engine publishes next_outbox_seq after its commit).
  const uint64_t durable = appended_[p].load(std::memory_order_acquire);
  std::string lower, upper;
  SeqKey(&lower, p, ps.cursor);
  std::string unused;
  PartitionRange(p, &unused, &upper);
  auto it = store_->NewIterator(Table::kOutbox, lower, upper);
  while (it->Valid() && ps.window.size() < limit) {
    if (it->key().size() != 10) {
      it->Next();
      continue;
    }
    const uint64_t pos = DecodeBigEndian64(it->key().data() + 2);
    ps.cursor = pos + 1;
    Admit(p, pos, it->value());
    it->Next();
  }
  if (!it->status().ok()) {
    spdlog::error("erp dispatcher: reading the outbox of partition {}: {}", p, it->status().ToString());
    return;  // try again next round
  }
  if (!it->Valid()) ps.cursor = std::max(ps.cursor, durable);  // skip seqs already gone
  ps.more = it->Valid() || appended_[p].load(std::memory_order_acquire) > ps.cursor;
}

void OutboxDispatcher::Impl::Admit(uint32_t p, uint64_t pos, std::string_view value) {
  auto e = std::make_unique<Entry>();
  e->partition = p;
  e->pos = pos;
  e->bytes.assign(value);  // aligned copy: FlatBuffers reads scalars in place
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(e->bytes.data()), e->bytes.size());
  if (!VerifyErpCommandBuffer(verifier)) {
    e->command_id = "corrupt@" + std::to_string(p) + "/" + std::to_string(pos);
    e->seq = pos;
    spdlog::error("erp dispatcher: unreadable command at outbox {}/{}: dead-lettered", p, pos);
    WriteDeadLetter(*e, kReasonCorruptCommand, "the outbox value is not a valid ErpCommand", "", true);
    return;
  }
  const ErpCommand* c = GetErpCommand(e->bytes.data());
  e->command_id = c->command_id() != nullptr ? c->command_id()->str() : "";
  e->order_id = c->order_id() != nullptr ? c->order_id()->str() : "";
  e->seq = c->order_cmd_seq();
  e->kind = c->kind();
  e->same_day = c->priority() == Priority::SameDay;
  const std::string target = c->target() != nullptr ? c->target()->str() : "";
  auto ti = target_index_.find(target);
  if (ti != target_index_.end()) e->target = ti->second;

  auto block = blocks_.find(e->order_id);
  if (block != blocks_.end()) {
    OrderBlockRecord& b = block->second;
    bool dead = false;
    if (b.state == OrderBlockRecord::State::kBlocked) {
      dead = e->seq >= b.from_seq;
    } else if (pos < b.replayed_at_outbox_seq && e->seq > b.replayed_max_seq) {
      // Issued while the order was blocked, before the replay: it must follow the
      // replayed commands, so it waits in the dead letters behind them.
      dead = true;
      b.state = OrderBlockRecord::State::kBlocked;
      b.from_seq = e->seq;
      b.reason = std::string(kReasonBlocked);
    }
    if (dead) {
      const bool review = b.needs_review || IsCompensation(e->kind);
      if (review && !b.needs_review) b.needs_review = true;
      WriteDeadLetter(*e, kReasonBlocked, "order blocked by " + b.blocked_by + " (" + b.reason + ")", b.blocked_by,
                      review);
      PutBlock(p, b);
      if (e->target < targets_.size()) ++targets_[e->target]->counters.dead_lettered;
      return;
    }
  }
  if (ti == target_index_.end()) {
    spdlog::error("erp dispatcher: command {} names target '{}', which is not configured: dead-lettered",
                  e->command_id, target);
    const bool review = IsCompensation(e->kind);
    WriteDeadLetter(*e, kReasonUnknownTarget, "no [erp.targets." + target + "] is configured", e->command_id, review);
    OrderBlockRecord b;
    b.order_id = e->order_id;
    b.from_seq = e->seq;
    b.blocked_by = e->command_id;
    b.reason = std::string(kReasonUnknownTarget);
    b.at_ns = wall_->NowNanos();
    b.needs_review = review;
    PutBlock(p, std::move(b));
    return;
  }
  Entry* raw = e.get();
  PartitionState& ps = partitions_[p];
  ps.window.emplace(pos, std::move(e));
  ++ps.per_target[raw->target];
  std::deque<Entry*>& order = ps.orders[raw->order_id];
  order.push_back(raw);
  if (order.size() == 1) MakeReady(raw);
}

void OutboxDispatcher::Impl::MakeReady(Entry* e) {
  e->st = St::kReady;
  ++e->gen;
  targets_[e->target]->ready[e->same_day ? 0 : 1].push_back(Ref(e));
}

OutboxDispatcher::Impl::Entry* OutboxDispatcher::Impl::PeekReady(Target& t, int* queue) {
  for (int q = 0; q < 2; ++q) {
    while (!t.ready[q].empty()) {
      const EntryRef ref = t.ready[q].front();
      Entry* e = Resolve(ref);
      if (e != nullptr && e->gen == ref.gen && e->st == St::kReady) {
        *queue = q;
        return e;
      }
      t.ready[q].pop_front();
    }
  }
  return nullptr;
}

void OutboxDispatcher::Impl::Dispatch(Target& t, int64_t now) {
  if (now < t.paused_until_ns) return;
  while (t.in_flight < t.options.max_in_flight) {
    int queue = 0;
    Entry* e = PeekReady(t, &queue);
    if (e == nullptr) return;
    if (!t.breaker.AllowSend(now)) return;
    if (!t.bucket.TryTake(now)) return;
    t.ready[queue].pop_front();
    if (!Send(t, e, now)) {
      t.ready[queue].push_front(Ref(e));  // keeps its place; not an attempt
      return;
    }
  }
}

bool OutboxDispatcher::Impl::Send(Target& t, Entry* e, int64_t now) {
  zmq::send_result_t sent;
  try {
    sent = t.socket.send(zmq::buffer(e->bytes.data(), e->bytes.size()), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& err) {
    spdlog::warn("erp target {}: send failed: {}", t.options.name, err.what());
  }
  if (!sent) {
    // Not connected (ZMQ_IMMEDIATE) or the pipe is full: try again after the initial
    // backoff; each refusal counts as one failure for the circuit breaker.
    ++t.counters.no_connection;
    t.breaker.OnFailure(now);
    t.paused_until_ns = now + static_cast<int64_t>(t.options.retry.initial_backoff_ms) * 1'000'000;
    return false;
  }
  ++e->attempts;
  e->last_attempt_ns = now;
  if (e->attempts == 1) {
    e->first_attempt_ns = now;
    e->first_sent_wall_ns = wall_->NowNanos();
  } else {
    ++t.counters.retries;
  }
  ++t.counters.sent;
  t.breaker.OnSend();
  e->st = St::kInFlight;
  ++e->gen;
  ++t.in_flight;
  timeouts_.push(Timer{now + static_cast<int64_t>(t.options.timeout_ms) * 1'000'000, Ref(e)});
  by_command_[e->command_id] = Ref(e);
  // Attempt 1 is told by the ack entry (first_sent_at_ns); only re-sends get their own.
  if (e->attempts > 1) Journal(*e, storage::JournalKind::CommandSent, "sent", "");
  return true;
}

void OutboxDispatcher::Impl::ReceiveAcks(Target& t, int64_t now) {
  zmq::message_t msg;
  for (size_t i = 0; i < kMaxAcksPerPoll; ++i) {
    zmq::recv_result_t got;
    try {
      got = t.socket.recv(msg, zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& err) {
      spdlog::warn("erp target {}: receive failed: {}", t.options.name, err.what());
      return;
    }
    if (!got) return;
    OnAck(t, std::string_view(static_cast<const char*>(msg.data()), msg.size()), now);
  }
}

void OutboxDispatcher::Impl::OnAck(Target& t, std::string_view frame, int64_t now) {
  std::string aligned(frame);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned.data()), aligned.size());
  if (!VerifyErpAckBuffer(verifier)) {
    spdlog::warn("erp target {}: unreadable answer ({} bytes) ignored", t.options.name, frame.size());
    ++stale_acks_;
    return;
  }
  const ErpAck* ack = GetErpAck(aligned.data());
  const std::string command_id = ack->command_id() != nullptr ? ack->command_id()->str() : "";
  auto it = by_command_.find(command_id);
  Entry* e = it == by_command_.end() ? nullptr : Resolve(it->second);
  if (e == nullptr || e->command_id != command_id) {
    ++stale_acks_;  // e.g. a second answer after the command completed
    return;
  }
  Target& owner = *targets_[e->target];
  // Every answer to a sent attempt, whatever its status (and even if late: the command
  // timed out and waits for its retry), is one post latency sample.
  if (e->attempts > 0) post_latency_[e->target]->Record(std::max<int64_t>(0, now - e->last_attempt_ns));
  const std::string message = ack->message() != nullptr ? ack->message()->str() : "";
  Journal(*e, storage::JournalKind::CommandAcked, EnumNameAckStatus(ack->status()), message,
          ack->erp_document_id() != nullptr ? ack->erp_document_id()->string_view() : std::string_view());
  switch (ack->status()) {
    case AckStatus::Posted:
    case AckStatus::AlreadyPosted:
      ++(ack->status() == AckStatus::Posted ? owner.counters.posted : owner.counters.already_posted);
      if (e->st == St::kInFlight) {
        --owner.in_flight;
        e->st = St::kWaiting;  // answered: no longer in flight
        owner.breaker.OnSuccess(now);
      }
      if (options_.on_acknowledged) options_.on_acknowledged(e->bytes, ack->status(), wall_->NowNanos());
      Complete(e);
      return;
    case AckStatus::TransientError:
      if (e->st != St::kInFlight) {
        ++stale_acks_;
        return;
      }
      --owner.in_flight;
      e->st = St::kWaiting;
      ++owner.counters.transient_errors;
      owner.breaker.OnFailure(now);
      Retry(e, now, "transient error: " + message);
      return;
    case AckStatus::Rejected:
      if (e->st == St::kInFlight) {
        --owner.in_flight;
        e->st = St::kWaiting;  // answered: no longer in flight
        owner.breaker.OnSuccess(now);  // the ERP is up; it decided
      } else if (e->st != St::kBackoff) {
        ++stale_acks_;
        return;
      }
      ++owner.counters.rejected;
      spdlog::debug("erp target {}: {} rejected: {}", owner.options.name, command_id, message);
      DeadLetterOrder(e, kReasonRejected, message);
      return;
  }
  ++stale_acks_;  // a status this build does not know
}

void OutboxDispatcher::Impl::Retry(Entry* e, int64_t now, const std::string& why) {
  Target& t = *targets_[e->target];
  if (t.retry.Exhausted(e->attempts, e->first_attempt_ns, now)) {
    DeadLetterOrder(e, kReasonRetriesExhausted, why + " (gave up after " + std::to_string(e->attempts) + " attempts)");
    return;
  }
  e->st = St::kBackoff;
  ++e->gen;
  backoffs_.push(Timer{now + t.retry.BackoffNs(e->attempts), Ref(e)});
}

void OutboxDispatcher::Impl::RemoveEntry(Entry* e) {
  Target& t = *targets_[e->target];
  if (e->st == St::kInFlight) {
    --t.in_flight;
    t.breaker.OnAbandoned();
  }
  auto it = by_command_.find(e->command_id);
  if (it != by_command_.end() && it->second.partition == e->partition && it->second.pos == e->pos) {
    by_command_.erase(it);
  }
  PartitionState& ps = partitions_[e->partition];
  --ps.per_target[e->target];
  ps.window.erase(e->pos);  // destroys e
}

void OutboxDispatcher::Impl::Complete(Entry* e) {
  SeqKey(&key_, e->partition, e->pos);
  batch_->Delete(Table::kOutbox, key_);
  ++acknowledged_;
  PartitionState& ps = partitions_[e->partition];
  auto order = ps.orders.find(e->order_id);
  RemoveEntry(e);
  if (order == ps.orders.end()) return;
  std::deque<Entry*>& queue = order->second;
  queue.pop_front();  // the acknowledged command was its order's head
  if (queue.empty()) {
    ps.orders.erase(order);
  } else {
    MakeReady(queue.front());
  }
}

void OutboxDispatcher::Impl::WriteDeadLetter(const Entry& e, std::string_view reason, const std::string& message,
                                             const std::string& blocked_by, bool review) {
  DeadLetterRecord r;
  r.command = e.bytes;
  r.command_id = e.command_id;
  r.order_id = e.order_id;
  if (e.target < targets_.size()) {
    r.target = targets_[e.target]->options.name;
  } else if (reason != kReasonCorruptCommand) {
    const ErpCommand* c = GetErpCommand(e.bytes.data());
    r.target = c->target() != nullptr ? c->target()->str() : "";
  }
  r.kind = e.kind;
  r.order_cmd_seq = e.seq;
  r.reason = std::string(reason);
  r.message = message;
  r.blocked_by = blocked_by;
  r.attempts = e.attempts;
  r.dead_lettered_at_ns = wall_->NowNanos();
  r.needs_review = review;
  DeadLetterKey(&key_, e.partition, e.order_id, e.seq);
  batch_->Put(Table::kDeadLetters, key_, EncodeDeadLetter(r));
  Journal(e, storage::JournalKind::CommandDeadLettered, reason, message);
  SeqKey(&key_, e.partition, e.pos);
  batch_->Delete(Table::kOutbox, key_);
}

void OutboxDispatcher::Impl::PutBlock(uint32_t p, OrderBlockRecord block) {
  block.partition = p;
  OrderBlockKey(&key_, p, block.order_id);
  batch_->Put(Table::kDeadLetters, key_, EncodeOrderBlock(block));
  std::string order_id = block.order_id;
  blocks_[order_id] = std::move(block);
}

void OutboxDispatcher::Impl::DeadLetterOrder(Entry* head, std::string_view reason, const std::string& message) {
  const uint32_t p = head->partition;
  PartitionState& ps = partitions_[p];
  const std::string order_id = head->order_id;
  const std::string blocked_by = head->command_id;
  std::deque<Entry*> queue;
  auto order = ps.orders.find(order_id);
  if (order != ps.orders.end()) {
    queue.swap(order->second);
    ps.orders.erase(order);
  } else {
    queue.push_back(head);
  }
  bool review = false;
  for (const Entry* e : queue) review |= IsCompensation(e->kind);
  OrderBlockRecord block;
  block.order_id = order_id;
  block.from_seq = head->seq;
  block.blocked_by = blocked_by;
  block.reason = std::string(reason);
  block.at_ns = wall_->NowNanos();
  block.needs_review = review;
  spdlog::info("erp dispatcher: order {} blocked: {} {} ({}); {} command(s) dead-lettered{}", order_id, blocked_by,
               reason, message, queue.size(), review ? "; flagged for review (compensation)" : "");
  for (Entry* e : queue) {
    const bool is_head = e == head;
    WriteDeadLetter(*e, is_head ? reason : kReasonBlocked,
                    is_head ? message : "order blocked by " + blocked_by + " (" + std::string(reason) + ")",
                    blocked_by, review);
    ++targets_[e->target]->counters.dead_lettered;
    RemoveEntry(e);
  }
  PutBlock(p, std::move(block));
}

void OutboxDispatcher::Impl::ProcessTimers(int64_t now) {
  while (!timeouts_.empty() && timeouts_.top().due <= now) {
    const EntryRef ref = timeouts_.top().ref;
    timeouts_.pop();
    Entry* e = Resolve(ref);
    if (e == nullptr || e->gen != ref.gen || e->st != St::kInFlight) continue;
    Target& t = *targets_[e->target];
    --t.in_flight;
    e->st = St::kWaiting;
    ++t.counters.timeouts;
    t.breaker.OnFailure(now);
    Retry(e, now, "no answer within " + std::to_string(t.options.timeout_ms) + " ms");
  }
  while (!backoffs_.empty() && backoffs_.top().due <= now) {
    const EntryRef ref = backoffs_.top().ref;
    backoffs_.pop();
    Entry* e = Resolve(ref);
    if (e == nullptr || e->gen != ref.gen || e->st != St::kBackoff) continue;
    MakeReady(e);
  }
}

void OutboxDispatcher::Impl::Journal(const Entry& e, storage::JournalKind kind, std::string_view outcome,
                                     std::string_view reason, std::string_view document) {
  if (!options_.journal || e.order_id.empty()) return;
  JournalRecord r;
  r.kind = kind;
  r.at_ns = wall_->NowNanos();
  r.outcome = outcome;
  r.reason = reason;
  r.command_id = e.command_id;
  r.command_kind = static_cast<uint8_t>(e.kind);
  r.order_cmd_seq = e.seq;
  r.target = e.target < targets_.size() ? std::string_view(targets_[e.target]->options.name) : std::string_view();
  r.attempt = e.attempts;
  r.erp_document_id = document;
  if (kind != storage::JournalKind::CommandSent) r.first_sent_at_ns = e.first_sent_wall_ns;
  journal_.Append(e.partition, e.order_id, r,
                  r.at_ns + static_cast<int64_t>(options_.journal_retention_s) * 1'000'000'000, batch_.get());
}

void OutboxDispatcher::Impl::CleanUpReplayed(uint32_t p) {
  PartitionState& ps = partitions_[p];
  if (ps.paused > 0) return;
  auto& orders = ps.replayed_orders;
  for (size_t i = 0; i < orders.size();) {
    auto b = blocks_.find(orders[i]);
    const bool replayed = b != blocks_.end() && b->second.state == OrderBlockRecord::State::kReplayed;
    if (replayed && ps.cursor < b->second.replayed_at_outbox_seq) {
      ++i;
      continue;
    }
    if (replayed) {
      // Every command before the replayed ones has been looked at: the order is plain again.
      OrderBlockKey(&key_, p, orders[i]);
      batch_->Delete(Table::kDeadLetters, key_);
      blocks_.erase(b);
    }
    orders[i] = std::move(orders.back());
    orders.pop_back();
  }
}

void OutboxDispatcher::Impl::HandleControl() {
  if (active_) return;
  std::shared_ptr<ControlRequest> request;
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    if (control_.empty()) return;
    request = std::move(control_.front());
    control_.pop_front();
  }
  Flush();
  if (request->kind == ControlRequest::Kind::kReplay) {
    StartReplay(std::move(request));
    return;
  }
  Result<PurgeReport> report = PurgeDeadLetters(store_, request->filter, options_.durability, wall_->NowNanos());
  if (report.ok()) {
    for (const auto& [p, order_id] : report->unblocked) blocks_.erase(order_id);
    spdlog::warn("erp dispatcher: purged {} dead letter(s); {} order(s) unblocked", report->purged.size(),
                 report->unblocked.size());
  }
  request->purge.set_value(std::move(report));
}

void OutboxDispatcher::Impl::StartReplay(std::shared_ptr<ControlRequest> request) {
  std::map<uint32_t, std::vector<std::string>> orders;
  Status s = SelectOrdersForReplay(store_, request->filter, wall_->NowNanos(), &orders);
  if (!s.ok()) {
    request->replay.set_value(s);
    return;
  }
  active_.emplace();
  active_->request = std::move(request);
  for (auto& [p, list] : orders) {
    if (p >= options_.partitions) continue;
    PartitionState& ps = partitions_[p];
    std::vector<std::string> chosen;
    for (std::string& order_id : list) {
      if (ps.orders.count(order_id) > 0) {
        active_->report.skipped.emplace_back(order_id, "commands of the order are still being delivered; replay again later");
      } else {
        chosen.push_back(std::move(order_id));
      }
    }
    if (chosen.empty()) continue;
    std::vector<std::string> names = chosen;
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    const uint32_t partition = p;
    auto task = std::make_unique<DeadLetterReplayTask>(
        std::move(chosen), wall_->NowNanos(), [mailbox, partition](const Status& st, std::vector<ReplayedOrder> r) {
          mailbox->Post(Mailbox::Completion{partition, st, std::move(r)});
        });
    Status submitted = engine_ != nullptr ? engine_->SubmitTask(p, std::move(task))
                                          : Status::Unavailable("no engine attached");
    if (!submitted.ok()) {
      for (auto& n : names) active_->report.skipped.emplace_back(n, submitted.ToString());
      continue;
    }
    ++ps.paused;
    ++active_->outstanding;
  }
  if (active_->outstanding == 0) FinishReplay();
}

void OutboxDispatcher::Impl::HandleCompletions() {
  for (Mailbox::Completion& c : mailbox_->TakeCompletions()) {
    PartitionState& ps = partitions_[c.partition];
    if (ps.paused > 0) --ps.paused;
    if (!active_) continue;  // cannot happen: one replay at a time
    for (ReplayedOrder& o : c.orders) {
      if (!c.status.ok()) {
        active_->report.skipped.emplace_back(o.order_id, "the replay batch failed: " + c.status.ToString());
        continue;
      }
      if (!o.error.empty()) {
        active_->report.skipped.emplace_back(o.order_id, o.error);
        continue;
      }
      if (o.command_ids.empty()) {
        blocks_.erase(o.order_id);
      } else {
        OrderBlockRecord b;
        b.partition = c.partition;
        b.order_id = o.order_id;
        b.state = OrderBlockRecord::State::kReplayed;
        b.reason = "replayed";
        b.at_ns = wall_->NowNanos();
        b.replayed_at_outbox_seq = o.at_outbox_seq;
        b.replayed_max_seq = o.max_seq;
        blocks_[o.order_id] = std::move(b);
        ps.replayed_orders.push_back(o.order_id);
        // The replayed commands are durable at and after at_outbox_seq.
        OnAppended(c.partition, o.at_outbox_seq + o.command_ids.size());
      }
      active_->report.orders.push_back(std::move(o));
    }
    if (--active_->outstanding == 0) FinishReplay();
  }
}

void OutboxDispatcher::Impl::FinishReplay() {
  size_t commands = 0;
  for (const ReplayedOrder& o : active_->report.orders) commands += o.command_ids.size();
  spdlog::warn("erp dispatcher: replayed {} dead letter(s) of {} order(s); {} order(s) skipped", commands,
               active_->report.orders.size(), active_->report.skipped.size());
  active_->request->replay.set_value(std::move(active_->report));
  active_.reset();
}

void OutboxDispatcher::Impl::Flush() {
  if (batch_->Count() == 0) return;
  Status s = store_->Write(batch_.get(), options_.durability);
  if (!s.ok()) {
    // The outbox keeps what could not be deleted: those commands are sent again after a
    // restart (the ERP answers AlreadyPosted); dead letters not written stay in the outbox.
    spdlog::error("erp dispatcher: writing outbox deletes / dead letters failed: {}", s.ToString());
  }
  batch_->Clear();
}

void OutboxDispatcher::Impl::UpdateBackPressure(int64_t now) {
  if (now < next_back_pressure_ns_) return;
  next_back_pressure_ns_ = now + kBackPressureEveryNs;
  std::vector<uint64_t> backlog(targets_.size(), 0);
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    const PartitionState& ps = partitions_[p];
    const uint64_t appended = appended_[p].load(std::memory_order_acquire);
    const uint64_t unread = appended > ps.cursor ? appended - ps.cursor : 0;
    const size_t in_window = ps.window.size();
    for (size_t t = 0; t < targets_.size(); ++t) {
      backlog[t] += ps.per_target[t];
      if (unread == 0) continue;
      if (in_window > 0) {
        backlog[t] += unread * ps.per_target[t] / in_window;  // the unread share, as in the window
      } else if (targets_.size() == 1) {
        backlog[t] += unread;
      }
    }
  }
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& t = *targets_[i];
    t.backlog = backlog[i];
    if (!t.ingress_blocked && t.backlog >= t.options.outbox_high_water) {
      t.ingress_blocked = true;
      if (engine_ != nullptr) engine_->SetTargetBlocked(t.options.name, true);
      spdlog::warn("erp target {}: outbox backlog {} reached the high-water mark {}: ingress answers Busy for it",
                   t.options.name, t.backlog, t.options.outbox_high_water);
    } else if (t.ingress_blocked && t.backlog <= t.options.outbox_low_water) {
      t.ingress_blocked = false;
      if (engine_ != nullptr) engine_->SetTargetBlocked(t.options.name, false);
      spdlog::info("erp target {}: outbox backlog {} down to the low-water mark {}: ingress accepts again",
                   t.options.name, t.backlog, t.options.outbox_low_water);
    }
  }
}

int64_t OutboxDispatcher::Impl::NextWakeNs(int64_t now) {
  int64_t wake = now + kMaxIdleNs;
  if (!timeouts_.empty()) wake = std::min(wake, timeouts_.top().due);
  if (!backoffs_.empty()) wake = std::min(wake, backoffs_.top().due);
  for (auto& tp : targets_) {
    Target& t = *tp;
    if (t.ready[0].empty() && t.ready[1].empty()) continue;
    if (now < t.paused_until_ns) {
      wake = std::min(wake, t.paused_until_ns);
    } else if (t.breaker.state() == CircuitBreaker::State::kOpen) {
      wake = std::min(wake, t.breaker.reopen_at_ns());
    } else if (t.in_flight < t.options.max_in_flight && t.breaker.state() == CircuitBreaker::State::kClosed) {
      wake = std::min(wake, t.bucket.NextTokenAt(now));
    }
  }
  return wake;
}

void OutboxDispatcher::Impl::Publish(int64_t now, bool force) {
  if (!force && now < next_publish_ns_) return;
  next_publish_ns_ = now + kPublishEveryNs;
  DispatcherStats s;
  for (auto& tp : targets_) {
    Target& t = *tp;
    // Record circuit transitions as they are seen (the breaker counts them itself).
    t.counters.circuit = std::string(CircuitStateName(t.breaker.state()));
    t.counters.circuit_opened = t.breaker.times_opened();
    t.counters.circuit_closed = t.breaker.times_closed();
    t.counters.in_flight = t.in_flight;
    t.counters.backlog = t.backlog;
    t.counters.ingress_blocked = t.ingress_blocked;
    s.targets.push_back(t.counters);
  }
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    s.window += partitions_[p].window.size();
    const uint64_t appended = appended_[p].load(std::memory_order_acquire);
    if (appended > partitions_[p].cursor) s.unread += appended - partitions_[p].cursor;
  }
  s.acknowledged = acknowledged_;
  s.stale_acks = stale_acks_;
  for (const auto& [order, b] : blocks_) s.blocked_orders += b.state == OrderBlockRecord::State::kBlocked ? 1 : 0;
  std::lock_guard<std::mutex> lock(stats_mu_);
  published_ = std::move(s);
}

// --- OutboxDispatcher ---

OutboxDispatcher::OutboxDispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutboxDispatcher::~OutboxDispatcher() = default;

Result<std::unique_ptr<OutboxDispatcher>> OutboxDispatcher::Create(const DispatcherOptions& options,
                                                                   StateStore* store, const Clock* wall_clock) {
  if (options.partitions == 0) return Status::InvalidArgument("dispatcher: partitions must be > 0");
  if (options.erp.targets.empty()) return Status::InvalidArgument("erp.targets: no ERP target configured");
  for (const ErpTargetOptions& t : options.erp.targets) {
    if (t.rate_per_s == 0 || t.burst == 0 || t.max_in_flight == 0) {
      return Status::InvalidArgument("erp.targets." + t.name + ": rate_per_s, burst and max_in_flight must be > 0");
    }
  }
  return std::unique_ptr<OutboxDispatcher>(
      new OutboxDispatcher(std::make_unique<Impl>(options, store, wall_clock)));
}

Status OutboxDispatcher::Start(Engine* engine) { return impl_->Start(engine); }
void OutboxDispatcher::Stop() { impl_->Stop(); }
void OutboxDispatcher::OnOutboxAppended(uint32_t partition, uint64_t next_outbox_seq) {
  impl_->OnAppended(partition, next_outbox_seq);
}
Result<ReplayReport> OutboxDispatcher::Replay(const DeadLetterFilter& filter) { return impl_->Replay(filter); }
Result<PurgeReport> OutboxDispatcher::Purge(const DeadLetterFilter& filter) { return impl_->Purge(filter); }
DispatcherStats OutboxDispatcher::Stats() const { return impl_->Stats(); }

}  // namespace ordersync
