#include "adapters/reconcile/ordersync_view.h"

#include "adapters/erp/dead_letters.h"
#include "engine/coding.h"
#include "engine/journal.h"
#include "engine/keys.h"
#include "engine/order_state.h"

namespace ordersync {
namespace {

std::string_view View(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

// Collects one order's journal and resolves its commands' expected content.
class JournalScan {
 public:
  JournalScan(StateStore* store, const ViewOptions& o, OrdersyncView* view) : store_(store), o_(o), view_(view) {}

  Status Run() {
    auto it = store_->NewIterator(Table::kJournal, "", "");
    std::string current;  // p|len|order_id of the order being collected
    for (; it->Valid(); it->Next()) {
      const std::string_view key = it->key();
      if (key.size() < 3 || key.size() < 3 + static_cast<uint8_t>(key[2])) continue;
      const size_t prefix_len = 3 + static_cast<uint8_t>(key[2]);
      if (key.substr(0, prefix_len) != current) {
        ORDERSYNC_RETURN_IF_ERROR(FinishOrder());
        current.assign(key.substr(0, prefix_len));
        partition_ = PartitionOfKey(key);
        order_id_.assign(key.substr(3, prefix_len - 3));
      }
      const std::string_view value = it->value();
      if (value.size() < 8) continue;
      if (static_cast<int64_t>(DecodeFixed64(value.data())) < o_.now_ns) continue;  // expired
      ++view_->journal_values;
      if (!ForEachJournalEntry(value.substr(8), [&](const JournalEntryView& entry) { Entry(entry); })) ++view_->unreadable;
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
    return FinishOrder();
  }

 private:
  OurCommand& Command(std::string_view id) {
    // Looked up through a reused key buffer: a command is met several times (issued,
    // acknowledged), and only its first meeting allocates its key.
    id_.assign(id);
    auto found = view_->commands.find(id_);
    if (found != view_->commands.end()) {
      touched_.push_back(&found->second);
      return found->second;
    }
    auto [pos, inserted] = view_->commands.try_emplace(id_);
    OurCommand& c = pos->second;
    if (inserted) {
      c.origin.command_id = pos->first;
      c.order_id = order_id_;
      c.partition = partition_;
      c.origin.target = o_.target;
    }
    touched_.push_back(&c);
    return c;
  }

  void Issued(std::string_view id, uint8_t kind, uint64_t seq, std::string_view target, const JournalEntryView& e) {
    if (target != o_.target) {
      view_->other_targets.try_emplace(std::string(id), std::string(target));
      return;
    }
    OurCommand& c = Command(id);
    c.issued = true;
    c.origin.kind = static_cast<CommandKind>(kind);
    c.origin.order_cmd_seq = seq;
    c.origin.caused_by_event_id.assign(e.event_id);
    c.origin.correlation_id.assign(e.correlation_id);
    c.origin.issued_at_ns = e.at_ns;
    c.origin.event_occurred_at_ns = e.occurred_at_ns;
  }

  void Entry(const JournalEntryView& e) {
    ++view_->journal_entries;
    switch (e.kind) {
      case storage::JournalKind::EventReceived:
      case storage::JournalKind::EventResolved:
        for (const JournalCommandView& c : e.commands) {
          Issued(c.command_id, c.command_kind, c.order_cmd_seq, c.target, e);
        }
        break;
      case storage::JournalKind::CommandIssued:  // older versions: one entry per command
        Issued(e.command_id, e.command_kind, e.order_cmd_seq, e.target, e);
        break;
      case storage::JournalKind::CommandAcked: {
        if (e.outcome != "Posted" && e.outcome != "AlreadyPosted") break;
        if (e.target != o_.target) {
          view_->other_targets.try_emplace(std::string(e.command_id), std::string(e.target));
          break;
        }
        OurCommand& c = Command(e.command_id);
        if (!c.issued) {  // its issuing entry expired or is in a later chunk: what the ack says
          c.origin.kind = static_cast<CommandKind>(e.command_kind);
          c.origin.order_cmd_seq = e.order_cmd_seq;
        }
        if (!c.acked || e.at_ns >= c.acked_at_ns) {
          c.acked = true;
          c.acked_at_ns = e.at_ns;
          c.erp_document_id.assign(e.erp_document_id);
          c.ack_status.assign(e.outcome);
        }
        break;
      }
      case storage::JournalKind::CommandDeadLettered:
        if (e.target == o_.target) {
          OurCommand& c = Command(e.command_id);
          c.dead_lettered_at_ns = std::max(c.dead_lettered_at_ns, e.at_ns);
        }
        break;
      default:
        break;
    }
  }

  // The order's commands acknowledged in the window get their expected content.
  Status FinishOrder() {
    bool needed = false;
    for (OurCommand* c : touched_) {
      needed |= c->acked && c->acked_at_ns >= o_.content_from_ns && c->acked_at_ns < o_.content_to_ns;
    }
    if (!needed) {
      touched_.clear();
      return Status::OK();
    }
    OrderKey(&key_, partition_, order_id_);
    OrderState state;
    int64_t expire_at = 0;
    Status s = store_->Get(Table::kOrders, key_, &value_);
    std::string why;
    if (s.ok()) {
      ++view_->orders_read;
      Status d = DecodeOrderState(value_, &state, &expire_at);
      if (!d.ok()) why = "the order's record does not decode: " + d.message();
    } else if (s.IsNotFound()) {
      why = "order " + order_id_ + " is no longer in the store (retention)";
    } else {
      return s;
    }
    for (OurCommand* c : touched_) {
      if (c->content_known || !c->content_error.empty()) continue;
      if (!why.empty()) {
        c->content_error = why;
        continue;
      }
      Result<RebuiltCommand> r = ExpectedContent(state, c->origin);
      if (!r.ok()) {
        c->content_error = r.status().message();
        continue;
      }
      c->content_known = true;
      c->quantity = r->quantity;
      c->amount_minor = r->amount_minor;
      c->company_code = std::move(r->company_code);
      c->currency = std::move(r->currency);
    }
    touched_.clear();
    return Status::OK();
  }

  StateStore* store_;
  const ViewOptions& o_;
  OrdersyncView* view_;
  uint32_t partition_ = 0;
  std::string order_id_;
  std::vector<OurCommand*> touched_;  // stable: unordered_map node addresses do not move
  std::string key_, value_, id_;
};

}  // namespace

Status ScanOrdersyncView(StateStore* store, const ViewOptions& options, OrdersyncView* view) {
  // 1. Queues first (see the header).
  {
    auto it = store->NewIterator(Table::kOutbox, "", "");
    std::string aligned;
    for (; it->Valid(); it->Next()) {
      aligned.assign(it->value());
      flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned.data()), aligned.size());
      if (!VerifyErpCommandBuffer(verifier)) {
        ++view->unreadable;
        continue;
      }
      const ErpCommand* c = GetErpCommand(aligned.data());
      if (View(c->target()) != options.target) continue;
      auto [pos, inserted] = view->commands.try_emplace(std::string(View(c->command_id())));
      OurCommand& our = pos->second;
      if (inserted) {
        our.origin.command_id = pos->first;
        our.origin.kind = c->kind();
        our.origin.order_cmd_seq = c->order_cmd_seq();
        our.origin.target = options.target;
        our.origin.issued_at_ns = c->issued_at_ns();
        our.order_id = std::string(View(c->order_id()));
        our.partition = PartitionOfKey(it->key());
      }
      our.queue = OurCommand::Queue::kOutbox;
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
  }
  {
    DeadLetterFilter filter;
    filter.target = options.target;
    std::vector<DeadLetterRecord> letters;
    ORDERSYNC_RETURN_IF_ERROR(ListDeadLetters(store, filter, options.now_ns, &letters));
    for (DeadLetterRecord& r : letters) {
      auto [pos, inserted] = view->commands.try_emplace(r.command_id);
      OurCommand& our = pos->second;
      if (inserted) {
        our.origin.command_id = r.command_id;
        our.origin.kind = r.kind;
        our.origin.order_cmd_seq = r.order_cmd_seq;
        our.origin.target = options.target;
        our.order_id = r.order_id;
        our.partition = r.partition;
      }
      our.queue = OurCommand::Queue::kDeadLetter;
      our.dead_letter_reason = r.reason;
    }
  }
  // 2. Journals.
  return JournalScan(store, options, view).Run();
}

}  // namespace ordersync
