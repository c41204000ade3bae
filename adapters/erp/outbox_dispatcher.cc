// The dispatcher's lifecycle and loop, and how commands come in (see dispatcher_impl.h
// for how the implementation is split).
#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "adapters/erp/dispatcher_impl.h"
#include "adapters/erp/http_target_channel.h"
#include "adapters/erp/zmq_target_channel.h"
#include "engine/coding.h"
#include "engine/keys.h"

namespace ordersync {
namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kMaxIdleNs = 100'000'000;  // longest poll when nothing is due
constexpr auto kControlWait = std::chrono::seconds(120);
constexpr size_t kInboxBulk = 4096;

}  // namespace

OutboxDispatcher::Impl::Impl(const DispatcherOptions& options, StateStore* store, const Clock* wall)
    : options_(options), store_(store), wall_(wall), mailbox_(std::make_shared<DispatcherMailbox>()),
      partitions_(options.partitions), batch_(store->NewBatch()) {
  for (size_t i = 0; i < options.erp.targets.size(); ++i) {
    post_latency_.push_back(std::make_unique<StatsHistogram>(kErpPostLatencyBoundsNs));
    target_index_[options.erp.targets[i].name] = static_cast<uint32_t>(i);
  }
  for (PartitionState& ps : partitions_) {
    ps.per_target.assign(options.erp.targets.size(), 0);
    ps.staged_per_target.assign(options.erp.targets.size(), 0);
  }
  inbox_scratch_.resize(kInboxBulk);
}

Status OutboxDispatcher::Impl::Start(DispatcherHost* host) {
  host_ = host;
  if (options_.own_all_partitions) {
    // Blocks (and replay markers) survive restarts in the dead-letter table.
    Result<uint64_t> blocks = LoadBlocks(std::nullopt);
    if (!blocks.ok()) return blocks.status();
    // The outbox the last run left: the engine's checkpoint at open holds all of it.
    Result<uint64_t> loaded = LoadOutbox(std::nullopt);
    if (!loaded.ok()) return loaded.status();
    if (*loaded > 0) spdlog::info("erp dispatcher: {} command(s) in the outbox from before the restart", *loaded);
    for (PartitionState& ps : partitions_) ps.owned = true;
  }
  // Cluster mode: nothing is loaded or admitted until AdoptPartition.
  const int64_t now = SteadyNowNs();
  for (size_t i = 0; i < options_.erp.targets.size(); ++i) {
    const ErpTargetOptions& o = options_.erp.targets[i];
    // The target's kind picks its transport (target_channel.h).
    const std::optional<ErpKind> kind = ErpKindFromName(o.kind);
    if (!kind) return Status::InvalidArgument("erp.targets." + o.name + ".kind: unknown kind '" + o.kind + "'");
    std::unique_ptr<TargetChannel> channel;
    if (IsHttpErpKind(*kind)) {
      channel = std::make_unique<HttpTargetChannel>(o);
    } else {
      channel = std::make_unique<ZmqTargetChannel>(ctx_, o);
    }
    if (Status opened = channel->Open(); !opened.ok()) {
      targets_.clear();  // stops the connectors already created
      return opened;
    }
    auto t = std::make_unique<Target>(o, std::move(channel), now, options_.seed + i);
    t->answers_every_attempt = t->channel->AnswersEveryAttempt();
    t->counters.name = o.name;
    t->counters.endpoint = t->channel->endpoint();
    targets_.push_back(std::move(t));
  }
  if (!blocks_.empty()) spdlog::info("erp dispatcher: {} orders blocked by dead letters", blocks_.size());
  Publish(now, true);
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    running_ = true;
  }
  thread_ = std::thread([this] { Run(); });
  for (const auto& t : targets_) {
    spdlog::info("erp target {}: {} at {} (rate {}/s, burst {}, in flight {}, timeout {} ms{})", t->options.name,
                 t->options.kind, t->channel->endpoint(), t->options.rate_per_s, t->options.burst,
                 t->options.max_in_flight, t->options.timeout_ms,
                 t->answers_every_attempt ? " per HTTP request" : "");
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
  std::deque<std::shared_ptr<DispatcherControl>> left;
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    left.swap(control_);
  }
  if (active_) left.push_back(std::move(active_->request));
  active_.reset();
  for (auto& r : left) {
    if (r == nullptr) continue;
    const Status stopped = Status::Unavailable("the ERP dispatcher stopped");
    switch (r->kind) {
      case DispatcherControl::Kind::kReplay:
        r->replay.set_value(stopped);
        break;
      case DispatcherControl::Kind::kPurge:
        r->purge.set_value(stopped);
        break;
      case DispatcherControl::Kind::kAdopt:
      case DispatcherControl::Kind::kRelease:
        r->ownership.set_value(stopped);
        break;
    }
  }
  targets_.clear();  // closes the channels
}

void OutboxDispatcher::Impl::OnCommandsDurable(std::vector<DurableCommand>& commands) {
  inbox_.enqueue_bulk(std::make_move_iterator(commands.begin()), commands.size());
  commands.clear();
  mailbox_->Wake();
}

uint32_t OutboxDispatcher::Impl::TargetIndex(std::string_view name) const {
  auto it = target_index_.find(name);
  return it == target_index_.end() ? UINT32_MAX : it->second;
}

uint32_t OutboxDispatcher::Impl::TargetOf(std::string_view erp_command) const {
  const ErpCommand* c = GetErpCommand(erp_command.data());
  return c->target() == nullptr ? UINT32_MAX : TargetIndex(c->target()->string_view());
}

OutboxDispatcher::Impl::Entry* OutboxDispatcher::Impl::EntryPool::Acquire() {
  if (free_ == nullptr) {
    slabs_.push_back(std::make_unique<Entry[]>(kSlab));
    Entry* slab = slabs_.back().get();
    for (size_t i = 0; i < kSlab; ++i) {
      slab[i].next_free = free_;
      free_ = &slab[i];
    }
  }
  Entry* e = free_;
  free_ = e->next_free;
  e->next_free = nullptr;
  e->live = true;
  return e;
}

void OutboxDispatcher::Impl::EntryPool::Release(Entry* e) {
  const uint32_t gen = e->gen + 1;  // refs to the old occupant stay stale
  *e = Entry();
  e->gen = gen;
  e->next_free = free_;
  free_ = e;
}

void OutboxDispatcher::Impl::Stage(uint32_t p, Staged s) {
  PartitionState& ps = partitions_[p];
  if (s.pos < ps.cursor) return;  // taken in already (read from the store at start)
  ps.cursor = s.pos + 1;
  if (s.trusted) {
    s.target = TargetOf(*s.bytes);
    if (s.target != UINT32_MAX) ++ps.staged_per_target[s.target];
  }
  ps.staged.push_back(std::move(s));
}

void OutboxDispatcher::Impl::TakeInbox() {
  size_t n;
  while ((n = inbox_.try_dequeue_bulk(inbox_scratch_.begin(), inbox_scratch_.size())) > 0) {
    for (size_t i = 0; i < n; ++i) {
      DurableCommand& c = inbox_scratch_[i];
      if (c.partition < options_.partitions && !partitions_[c.partition].owned) {
        ++dropped_not_owned_;  // cluster mode: another node owns it (or will again)
      } else if (c.partition < options_.partitions) {
        Staged s;
        s.pos = c.outbox_seq;
        s.bytes = std::move(c.bytes);
        s.trusted = true;
        // Cluster mode: a follower catching up replays records an earlier owner applied,
        // whose commands that owner may have sent; nothing here tells them apart from new
        // ones, so every first attempt says "maybe posted before" (connectors of ERPs
        // without an idempotent create look the command up first).
        s.from_last_run = !options_.own_all_partitions;
        Stage(c.partition, std::move(s));
      }
      c = DurableCommand();
    }
    if (n < inbox_scratch_.size()) break;
  }
}

void OutboxDispatcher::Impl::AdmitStaged(uint32_t p) {
  PartitionState& ps = partitions_[p];
  if (ps.paused > 0) return;
  const size_t limit = options_.erp.read_ahead_per_partition;
  while (!ps.staged.empty() && ps.window < limit) {
    Staged s = std::move(ps.staged.front());
    ps.staged.pop_front();
    if (s.target != UINT32_MAX) --ps.staged_per_target[s.target];
    Admit(p, std::move(s));
  }
}

void OutboxDispatcher::Impl::Run() {
  std::vector<zmq::pollitem_t> items;
  items.push_back(zmq::pollitem_t{nullptr, mailbox_->fd(), ZMQ_POLLIN, 0});
  for (auto& t : targets_) items.push_back(t->channel->PollItem());
  const auto on_answer_of = [this](Target& t, int64_t now) {
    return [this, &t, now](const ErpAnswer& a) { OnAnswer(t, a, now); };
  };
  while (!stop_.load(std::memory_order_acquire)) {
    mailbox_->Drain();
    int64_t now = SteadyNowNs();
    HandleCompletions();
    HandleControl();
    TakeInbox();
    for (uint32_t p = 0; p < options_.partitions; ++p) {
      PartitionState& ps = partitions_[p];
      if (!ps.staged.empty()) AdmitStaged(p);
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
      if (items[i + 1].revents & ZMQ_POLLIN) targets_[i]->channel->Receive(on_answer_of(*targets_[i], now), &stale_acks_);
    }
  }
  Flush();
  Publish(SteadyNowNs(), true);
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
  constexpr int64_t kPublishEveryNs = 10'000'000;
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
    t.counters.retry_after_ms = t.ingress_blocked ? t.retry_after_ms : 0;
    t.counters.has_transport_stats = t.channel->TransportStats(&t.counters.transport);
    s.targets.push_back(t.counters);
  }
  for (const PartitionState& ps : partitions_) {
    s.window += ps.window;
    s.unread += ps.staged.size();
  }
  s.acknowledged = acknowledged_;
  s.stale_acks = stale_acks_;
  s.dropped_not_owned = dropped_not_owned_;
  s.late_answers_ignored = late_answers_ignored_;
  for (const PartitionState& ps : partitions_) s.partitions_adopted += ps.owned ? 1 : 0;
  for (const auto& [order, b] : blocks_) s.blocked_orders += b.state == OrderBlockRecord::State::kBlocked ? 1 : 0;
  std::lock_guard<std::mutex> lock(stats_mu_);
  published_ = std::move(s);
}

void OutboxDispatcher::Impl::PublishNow() { Publish(SteadyNowNs(), true); }

bool OutboxDispatcher::Impl::Enqueue(std::shared_ptr<DispatcherControl> request) {
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    if (!running_) return false;
    control_.push_back(std::move(request));
  }
  mailbox_->Wake();
  return true;
}

Status OutboxDispatcher::Impl::AdoptPartition(uint32_t partition, uint64_t epoch) {
  auto request = std::make_shared<DispatcherControl>();
  request->kind = DispatcherControl::Kind::kAdopt;
  request->partition = partition;
  request->epoch = epoch;
  std::future<Status> result = request->ownership.get_future();
  if (!Enqueue(request)) return Status::Unavailable("the ERP dispatcher is not running");
  if (result.wait_for(kControlWait) != std::future_status::ready) {
    return Status::Unavailable("adopting partition " + std::to_string(partition) + " did not finish in time");
  }
  return result.get();
}

Status OutboxDispatcher::Impl::ReleasePartition(uint32_t partition) {
  auto request = std::make_shared<DispatcherControl>();
  request->kind = DispatcherControl::Kind::kRelease;
  request->partition = partition;
  std::future<Status> result = request->ownership.get_future();
  if (!Enqueue(request)) return Status::Unavailable("the ERP dispatcher is not running");
  if (result.wait_for(kControlWait) != std::future_status::ready) {
    return Status::Unavailable("releasing partition " + std::to_string(partition) + " did not finish in time");
  }
  return result.get();
}

Result<ReplayReport> OutboxDispatcher::Impl::Replay(const DeadLetterFilter& filter) {
  auto request = std::make_shared<DispatcherControl>();
  request->kind = DispatcherControl::Kind::kReplay;
  request->filter = filter;
  std::future<Result<ReplayReport>> result = request->replay.get_future();
  if (!Enqueue(request)) return Status::Unavailable("the ERP dispatcher is not running");
  if (result.wait_for(kControlWait) != std::future_status::ready) {
    return Status::Unavailable("replay did not finish in time (is the engine stopping?)");
  }
  return result.get();
}

Result<PurgeReport> OutboxDispatcher::Impl::Purge(const DeadLetterFilter& filter) {
  auto request = std::make_shared<DispatcherControl>();
  request->kind = DispatcherControl::Kind::kPurge;
  request->filter = filter;
  std::future<Result<PurgeReport>> result = request->purge.get_future();
  if (!Enqueue(request)) return Status::Unavailable("the ERP dispatcher is not running");
  if (result.wait_for(kControlWait) != std::future_status::ready) {
    return Status::Unavailable("purge did not finish in time");
  }
  return result.get();
}

DispatcherStats OutboxDispatcher::Impl::Stats() const {
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
  return std::unique_ptr<OutboxDispatcher>(new OutboxDispatcher(std::make_unique<Impl>(options, store, wall_clock)));
}

Status OutboxDispatcher::Start(DispatcherHost* host) { return impl_->Start(host); }
Status OutboxDispatcher::AdoptPartition(uint32_t partition, uint64_t epoch) {
  return impl_->AdoptPartition(partition, epoch);
}
Status OutboxDispatcher::ReleasePartition(uint32_t partition) { return impl_->ReleasePartition(partition); }
void OutboxDispatcher::Stop() { impl_->Stop(); }
void OutboxDispatcher::OnCommandsDurable(std::vector<DurableCommand>& commands) {
  impl_->OnCommandsDurable(commands);
}
Result<ReplayReport> OutboxDispatcher::Replay(const DeadLetterFilter& filter) { return impl_->Replay(filter); }
Result<PurgeReport> OutboxDispatcher::Purge(const DeadLetterFilter& filter) { return impl_->Purge(filter); }
DispatcherStats OutboxDispatcher::Stats() const { return impl_->Stats(); }

}  // namespace ordersync
