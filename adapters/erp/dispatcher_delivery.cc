// Delivery: admitting commands into per-order sequence, sending them within each target's
// budget, handling the ERP's answers, timeouts and retries (see dispatcher_impl.h).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "adapters/erp/dispatcher_impl.h"

namespace ordersync {
namespace {

// What the journal keeps as an answer's reason: for HTTP answers "HTTP <status>" (or "no
// HTTP answer (<failure class>)") before the message, so `ordersync trace` shows the
// status of every attempt; zmq answers keep their message as it is.
std::string AnswerReason(const ErpAnswer& a) {
  if (a.http_status == 0 && a.failure == ErpFailureClass::kNone) return std::string(a.message);
  std::string head = a.http_status != 0 ? "HTTP " + std::to_string(a.http_status)
                                        : "no HTTP answer (" + std::string(ErpFailureClassName(a.failure)) + ")";
  if (a.message.empty()) return head;
  if (a.message.rfind(head, 0) == 0) return std::string(a.message);  // the connector said it already
  return head + ": " + std::string(a.message);
}

}  // namespace

void OutboxDispatcher::Impl::Admit(uint32_t p, Staged s) {
  Entry* e = pool_.Acquire();
  e->partition = p;
  e->pos = s.pos;
  e->bytes = std::move(s.bytes);
  // Commands that never enter the window go back to the pool whatever path they take.
  struct Recycle {
    EntryPool* pool;
    Entry* entry;
    ~Recycle() {
      if (entry != nullptr) pool->Release(entry);
    }
  } recycle{&pool_, e};
  if (!s.trusted) {
    e->owned_id = "corrupt@" + std::to_string(p) + "/" + std::to_string(s.pos);
    e->command_id = e->owned_id;
    e->seq = s.pos;
    spdlog::error("erp dispatcher: unreadable command at outbox {}/{}: dead-lettered", p, s.pos);
    WriteDeadLetter(*e, kReasonCorruptCommand, "the outbox value is not a valid ErpCommand", "", true);
    return;
  }
  const ErpCommand* c = GetErpCommand(e->bytes->data());
  auto view = [](const flatbuffers::String* str) { return str == nullptr ? std::string_view() : str->string_view(); };
  e->command_id = view(c->command_id());
  e->order_id = view(c->order_id());
  e->seq = c->order_cmd_seq();
  e->kind = c->kind();
  e->same_day = c->priority() == Priority::SameDay;
  e->maybe_posted = s.from_last_run;
  const std::string_view target = view(c->target());
  e->target = s.target != UINT32_MAX ? s.target : TargetIndex(target);

  auto block = blocks_.find(e->order_id);
  if (block != blocks_.end()) {
    OrderBlockRecord& b = block->second;
    bool dead = false;
    if (b.state == OrderBlockRecord::State::kBlocked) {
      dead = e->seq >= b.from_seq;
    } else if (s.pos < b.replayed_at_outbox_seq && e->seq > b.replayed_max_seq) {
      // Issued while the order was blocked, before the replay: it must follow the
      // replayed commands, so it waits in the dead letters behind them.
      dead = true;
      b.state = OrderBlockRecord::State::kBlocked;
      b.from_seq = e->seq;
      b.reason = std::string(kReasonBlocked);
    }
    if (!dead && b.state == OrderBlockRecord::State::kReplayed && s.pos >= b.replayed_at_outbox_seq) {
      // A replayed dead letter: an attempt before it went to the DLQ may have posted
      // (retries exhausted after a lost reply).
      e->maybe_posted = true;
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
  if (e->target == UINT32_MAX) {
    spdlog::error("erp dispatcher: command {} names target '{}', which is not configured: dead-lettered",
                  e->command_id, target);
    const bool review = IsCompensation(e->kind);
    WriteDeadLetter(*e, kReasonUnknownTarget, "no [erp.targets." + std::string(target) + "] is configured",
                    std::string(e->command_id), review);
    OrderBlockRecord b;
    b.order_id = std::string(e->order_id);
    b.from_seq = e->seq;
    b.blocked_by = std::string(e->command_id);
    b.reason = std::string(kReasonUnknownTarget);
    b.at_ns = wall_->NowNanos();
    b.needs_review = review;
    PutBlock(p, std::move(b));
    return;
  }
  recycle.entry = nullptr;  // admitted: the window owns it
  PartitionState& ps = partitions_[p];
  ++ps.window;
  ++ps.per_target[e->target];
  auto [it, fresh] = ps.orders.try_emplace(std::string(e->order_id));
  OrderQueue& order = it->second;
  if (order.tail != nullptr) {
    order.tail->next_in_order = e;
    order.tail = e;
    return;
  }
  order.head = order.tail = e;
  MakeReady(e);
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
    if (OrphanInFlight(*e)) {
      // An attempt of the command from before its partition was released and adopted
      // again is still on its way: the new one waits for it (no two attempts of one
      // command at a time; not an attempt, no failure).
      t.ready[queue].pop_front();
      e->st = St::kBackoff;
      ++e->gen;
      backoffs_.push(Timer{now + static_cast<int64_t>(t.options.retry.initial_backoff_ms) * 1'000'000, Ref(e)});
      continue;
    }
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
  const uint64_t epoch = partitions_[e->partition].epoch;
  if (!t.channel->Send(e->command_id, *e->bytes, e->attempts > 0 || e->maybe_posted, epoch)) {
    // Not connected or the transport is full: try again after the initial backoff; each
    // refusal counts as one failure for the circuit breaker.
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
  if (epoch > 0) {
    spdlog::debug("erp target {}: {} attempt {} (epoch {})", t.options.name, e->command_id, e->attempts, epoch);
  }
  t.breaker.OnSend();
  e->st = St::kInFlight;
  ++e->gen;
  ++t.in_flight;
  // A channel that ends every attempt itself (HTTP) gets no timeout here: a second
  // attempt must not start while the first may still be on its way.
  if (!t.answers_every_attempt) timeouts_.push(Timer{now + static_cast<int64_t>(t.options.timeout_ms) * 1'000'000, Ref(e)});
  by_command_[e->command_id] = e;
  // Attempt 1 is told by the answer's note (first_sent_at_ns); only re-sends get their own.
  if (e->attempts > 1) Note(*e, /*removes=*/false, storage::JournalKind::CommandSent, "sent", "");
  return true;
}

void OutboxDispatcher::Impl::OnAnswer(Target& t, const ErpAnswer& answer, int64_t now) {
  auto it = by_command_.find(answer.command_id);
  Entry* e = it == by_command_.end() ? nullptr : it->second;
  if (e == nullptr || !e->live || e->command_id != answer.command_id) {
    ++stale_acks_;  // e.g. a second answer after the command completed
    return;
  }
  if (e->orphaned) {
    // Its partition was released while the attempt was on its way: the next owner
    // re-sends the command (answered AlreadyPosted if this attempt posted it).
    ++late_answers_ignored_;
    spdlog::debug("erp dispatcher: late answer {} for {} of a released partition ignored",
                  EnumNameAckStatus(answer.status), e->command_id);
    FreeOrphan(e);
    return;
  }
  Target& owner = *targets_[e->target];
  // Every answer to a sent attempt, whatever its status (and even if late: the command
  // timed out and waits for its retry), is one post latency sample.
  if (e->attempts > 0) post_latency_[e->target]->Record(std::max<int64_t>(0, now - e->last_attempt_ns));
  const std::string message(answer.message);
  // The journal (`ordersync trace`) shows each HTTP attempt's status with its message.
  const std::string reason = AnswerReason(answer);
  switch (answer.status) {
    case AckStatus::Posted:
    case AckStatus::AlreadyPosted:
      ++(answer.status == AckStatus::Posted ? owner.counters.posted : owner.counters.already_posted);
      if (e->st == St::kInFlight) {
        --owner.in_flight;
        e->st = St::kWaiting;  // answered: no longer in flight
        owner.breaker.OnSuccess(now);
      }
      if (options_.on_acknowledged) options_.on_acknowledged(*e->bytes, answer.status, wall_->NowNanos());
      Note(*e, /*removes=*/true, storage::JournalKind::CommandAcked, EnumNameAckStatus(answer.status), reason,
           answer.erp_document_id);
      Complete(e);
      return;
    case AckStatus::TransientError:
      Note(*e, false, storage::JournalKind::CommandAcked, EnumNameAckStatus(answer.status), reason,
           answer.erp_document_id);
      if (e->st != St::kInFlight) {
        ++stale_acks_;
        return;
      }
      --owner.in_flight;
      e->st = St::kWaiting;
      switch (answer.failure) {
        case ErpFailureClass::kAuth:
          ++owner.counters.transient_errors;
          OnAuthFailure(owner, e, now, message);
          return;
        case ErpFailureClass::kRateLimited:
          // The ERP is up and asked us to slow down: no verdict for the circuit.
          ++owner.counters.transient_errors;
          ++owner.counters.rate_limited;
          owner.breaker.OnAbandoned();
          break;
        case ErpFailureClass::kTimeout:
          ++owner.counters.timeouts;  // the connector's request timed out: no answer
          owner.breaker.OnFailure(now);
          break;
        default:
          ++owner.counters.transient_errors;
          owner.breaker.OnFailure(now);
          break;
      }
      Retry(e, now, "transient error: " + reason, answer.retry_after_ms);
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
      Note(*e, false, storage::JournalKind::CommandAcked, EnumNameAckStatus(answer.status), reason,
           answer.erp_document_id);
      ++owner.counters.rejected;
      spdlog::debug("erp target {}: {} rejected: {}", owner.options.name, e->command_id, message);
      DeadLetterOrder(e, kReasonRejected, message);
      return;
  }
  ++stale_acks_;  // a status this build does not know
}

void OutboxDispatcher::Impl::Retry(Entry* e, int64_t now, const std::string& why, uint32_t not_before_ms) {
  Target& t = *targets_[e->target];
  if (t.retry.Exhausted(e->attempts, e->first_attempt_ns, now)) {
    DeadLetterOrder(e, kReasonRetriesExhausted, why + " (gave up after " + std::to_string(e->attempts) + " attempts)");
    return;
  }
  int64_t delay = t.retry.BackoffNs(e->attempts);
  const int64_t asked = static_cast<int64_t>(not_before_ms) * 1'000'000;
  if (asked > delay) {
    delay = asked;  // the ERP's Retry-After: not sooner
    ++t.counters.retry_after_delays;
  }
  e->st = St::kBackoff;
  ++e->gen;
  backoffs_.push(Timer{now + delay, Ref(e)});
}

void OutboxDispatcher::Impl::OnAuthFailure(Target& t, Entry* e, int64_t now, std::string_view message) {
  ++t.counters.auth_failures;
  if (t.breaker.Trip(now)) {
    spdlog::error(
        "erp target {}: the ERP refused our credentials or permissions ({}): circuit open for {} ms; commands "
        "wait in the outbox, none is dead-lettered; check [erp.targets.{}.auth] and the ERP user's roles",
        t.options.name, message, t.options.circuit_breaker.cooldown_ms, t.options.name);
  }
  // Not a retry that can run out: it waits for the circuit's next probe.
  e->st = St::kBackoff;
  ++e->gen;
  backoffs_.push(Timer{std::max(now + t.retry.BackoffNs(std::max<uint32_t>(1, e->attempts)), t.breaker.reopen_at_ns()),
                       Ref(e)});
}

void OutboxDispatcher::Impl::RemoveEntry(Entry* e) {
  Target& t = *targets_[e->target];
  if (e->st == St::kInFlight) {
    --t.in_flight;
    t.breaker.OnAbandoned();
  }
  auto it = by_command_.find(e->command_id);
  if (it != by_command_.end() && it->second == e) by_command_.erase(it);
  PartitionState& ps = partitions_[e->partition];
  --ps.per_target[e->target];
  --ps.window;
  pool_.Release(e);
}

void OutboxDispatcher::Impl::Complete(Entry* e) {
  ++acknowledged_;
  PartitionState& ps = partitions_[e->partition];
  auto order = ps.orders.find(e->order_id);
  Entry* next = e->next_in_order;
  RemoveEntry(e);
  if (order == ps.orders.end()) return;
  // The acknowledged command was its order's head.
  order->second.head = next;
  if (next == nullptr) {
    ps.orders.erase(order);
  } else {
    MakeReady(next);
  }
}

void OutboxDispatcher::Impl::ProcessTimers(int64_t now) {
  while (!timeouts_.empty() && timeouts_.top().due <= now) {
    const EntryRef ref = timeouts_.top().ref;
    timeouts_.pop();
    Entry* e = Resolve(ref);
    if (e == nullptr || e->gen != ref.gen || e->st != St::kInFlight) continue;
    if (e->orphaned) {
      FreeOrphan(e);  // its partition was released: nobody retries it here
      continue;
    }
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

void OutboxDispatcher::Impl::Note(const Entry& e, bool removes, storage::JournalKind kind, std::string_view outcome,
                                  std::string_view reason, std::string_view document) {
  if (!removes && (!options_.journal || e.order_id.empty())) return;
  CommandNote n;
  n.partition = e.partition;
  n.outbox_seq = e.pos;
  n.removes_command = removes;
  n.journal_kind = kind;
  n.at_ns = wall_->NowNanos();
  n.attempts = e.attempts;
  n.first_sent_at_ns = e.first_sent_wall_ns;
  if (options_.journal && e.owned_id.empty()) {  // an unreadable command has no journal fields
    n.command = e.bytes;
    n.outcome = outcome;
    // Cluster mode: each attempt's journal line says which owner's epoch sent it.
    const uint64_t epoch = partitions_[e.partition].epoch;
    if (epoch > 0 && kind != storage::JournalKind::CommandDeadLettered) {
      n.reason = "epoch " + std::to_string(epoch) + (reason.empty() ? "" : "; ") + std::string(reason);
    } else {
      n.reason = std::string(reason);
    }
    n.erp_document_id = std::string(document);
  }
  (kind == storage::JournalKind::CommandDeadLettered ? dead_notes_ : notes_).push_back(std::move(n));
}

}  // namespace ordersync
