// Dead letters and order blocks, and the control operations on them (replay, purge),
// carried out on the dispatcher thread (see dispatcher_impl.h and outbox_dispatcher.h for
// the replay protocol).
#include <spdlog/spdlog.h>

#include "adapters/erp/dispatcher_impl.h"
#include "engine/failpoint.h"

namespace ordersync {

void OutboxDispatcher::Impl::WriteDeadLetter(const Entry& e, std::string_view reason, const std::string& message,
                                             const std::string& blocked_by, bool review) {
  DeadLetterRecord r;
  r.command = *e.bytes;
  r.command_id = std::string(e.command_id);
  r.order_id = std::string(e.order_id);
  if (e.target < targets_.size()) {
    r.target = targets_[e.target]->options.name;
  } else if (reason != kReasonCorruptCommand) {
    const ErpCommand* c = GetErpCommand(e.bytes->data());
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
  // Takes the command out of the outbox once the dead letter is durable (Flush).
  Note(e, /*removes=*/true, storage::JournalKind::CommandDeadLettered, reason, message);
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
  const std::string order_id(head->order_id);
  const std::string blocked_by(head->command_id);
  std::vector<Entry*> queue;
  auto order = ps.orders.find(order_id);
  if (order != ps.orders.end()) {
    for (Entry* e = order->second.head; e != nullptr; e = e->next_in_order) queue.push_back(e);
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

void OutboxDispatcher::Impl::CleanUpReplayed(uint32_t p) {
  PartitionState& ps = partitions_[p];
  if (ps.paused > 0) return;
  auto& orders = ps.replayed_orders;
  for (size_t i = 0; i < orders.size();) {
    auto b = blocks_.find(orders[i]);
    const bool replayed = b != blocks_.end() && b->second.state == OrderBlockRecord::State::kReplayed;
    // Everything before the replayed commands must have been admitted (and looked at).
    const bool passed = replayed && ps.cursor >= b->second.replayed_at_outbox_seq &&
                        (ps.staged.empty() || ps.staged.front().pos >= b->second.replayed_at_outbox_seq);
    if (replayed && !passed) {
      ++i;
      continue;
    }
    if (replayed) {
      // The order is plain again.
      OrderBlockKey(&key_, p, orders[i]);
      batch_->Delete(Table::kDeadLetters, key_);
      blocks_.erase(b);
    }
    orders[i] = std::move(orders.back());
    orders.pop_back();
  }
}

void OutboxDispatcher::Impl::Flush() {
  if (batch_->Count() > 0) {
    Status s = store_->Write(batch_.get(), options_.durability);
    batch_->Clear();
    if (!s.ok()) {
      // Dead letters not written stay in the outbox: their notes are dropped, so the
      // engine keeps the commands and the next start sends them again.
      spdlog::error("erp dispatcher: writing dead letters failed: {}", s.ToString());
      dead_notes_.clear();
    }
  }
  for (CommandNote& n : dead_notes_) notes_.push_back(std::move(n));
  dead_notes_.clear();
  if (notes_.empty() || host_ == nullptr) return;
  if (Status s = host_->SubmitNotes(std::move(notes_)); !s.ok()) {
    // The engine is stopping: the commands stay in its outbox and are re-sent after a
    // restart (answered AlreadyPosted).
    s.PermitUncheckedError();
  }
  notes_.clear();
}

void OutboxDispatcher::Impl::HandleControl() {
  if (active_) return;
  std::shared_ptr<DispatcherControl> request;
  {
    std::lock_guard<std::mutex> lock(control_mu_);
    if (control_.empty()) return;
    request = std::move(control_.front());
    control_.pop_front();
  }
  Flush();
  switch (request->kind) {
    case DispatcherControl::Kind::kReplay:
      StartReplay(std::move(request));
      return;
    case DispatcherControl::Kind::kAdopt:
    case DispatcherControl::Kind::kRelease: {
      const Status done = request->kind == DispatcherControl::Kind::kAdopt
                              ? Adopt(request->partition, request->epoch)
                              : Release(request->partition);
      PublishNow();  // Stats() shows the change once the call returns
      request->ownership.set_value(done);
      return;
    }
    case DispatcherControl::Kind::kPurge:
      break;
  }
  Result<PurgeReport> report = PurgeDeadLetters(store_, request->filter, options_.durability, wall_->NowNanos());
  if (report.ok()) {
    for (const auto& [p, order_id] : report->unblocked) blocks_.erase(order_id);
    spdlog::warn("erp dispatcher: purged {} dead letter(s); {} order(s) unblocked", report->purged.size(),
                 report->unblocked.size());
  }
  request->purge.set_value(std::move(report));
}

void OutboxDispatcher::Impl::StartReplay(std::shared_ptr<DispatcherControl> request) {
  std::map<uint32_t, std::vector<std::string>> orders;
  Status s = SelectOrdersForReplay(store_, request->filter, wall_->NowNanos(), &orders);
  if (!s.ok()) {
    request->replay.set_value(s);
    return;
  }
  // Cluster mode: only the partition's owner may replay (its task runs on the owner's
  // follower); a request for partitions this node does not own says who to ask.
  std::string not_here;
  bool any_here = false;
  for (const auto& [p, list] : orders) {
    if (p >= options_.partitions || list.empty()) continue;
    if (partitions_[p].owned) {
      any_here = true;
    } else if (not_here.empty()) {
      not_here = "partition " + std::to_string(p) + " is owned by another node";
    }
  }
  if (!any_here && !not_here.empty()) {
    request->replay.set_value(Status::Unavailable(not_here + "; replay its dead letters there"));
    return;
  }
  active_.emplace();
  active_->request = std::move(request);
  for (auto& [p, list] : orders) {
    if (p >= options_.partitions) continue;
    PartitionState& ps = partitions_[p];
    if (!ps.owned) {
      for (std::string& order_id : list) {
        active_->report.skipped.emplace_back(
            std::move(order_id), "partition " + std::to_string(p) + " is owned by another node; replay it there");
      }
      continue;
    }
    std::vector<std::string> chosen;
    for (std::string& order_id : list) {
      if (ps.orders.count(order_id) > 0) {
        active_->report.skipped.emplace_back(order_id,
                                             "commands of the order are still being delivered; replay again later");
      } else {
        chosen.push_back(std::move(order_id));
      }
    }
    if (chosen.empty()) continue;
    std::vector<std::string> names = chosen;
    std::shared_ptr<DispatcherMailbox> mailbox = mailbox_;
    const uint32_t partition = p;
    auto task = std::make_unique<DeadLetterReplayTask>(
        std::move(chosen), wall_->NowNanos(), [mailbox, partition](const Status& st, std::vector<ReplayedOrder> r) {
          mailbox->Post(DispatcherMailbox::Completion{partition, st, std::move(r)});
        });
    Status submitted =
        host_ != nullptr ? host_->SubmitTask(p, std::move(task)) : Status::Unavailable("no engine attached");
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
  for (DispatcherMailbox::Completion& c : mailbox_->TakeCompletions()) {
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

}  // namespace ordersync
