// BuildOrderTrace: one order's timeline assembled from the store (order record, parked
// events, exceptions, outbox, dead letters and the journal written at checkpoints).
// The printing and the command are in trace_command.cc.
#include "adapters/cli/trace_command.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <map>

#include <sstream>

#include "engine/flatbuffer_record.h"
#include "adapters/admin/admin_server.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/clock.h"
#include "engine/coding.h"
#include "engine/hash.h"
#include "engine/journal.h"
#include "engine/keys.h"
#include "engine/order_state.h"
#include "erp_generated.h"
#include "milestone_generated.h"
#include "storage_generated.h"

namespace ordersync {
namespace {

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

template <typename T>
const T* Decode(std::string_view value, std::string* scratch) {
  return VerifiedRoot<T>(value, scratch);
}

std::string MilestoneName(uint8_t m) {
  const char* n = EnumNameMilestone(static_cast<Milestone>(m));
  return n != nullptr && *n != '\0' ? n : "milestone#" + std::to_string(m);
}
std::string CommandKindName(uint8_t k) {
  const char* n = EnumNameCommandKind(static_cast<CommandKind>(k));
  return n != nullptr && *n != '\0' ? n : "command#" + std::to_string(k);
}

std::string StepKindName(storage::JournalKind k) {
  switch (k) {
    case storage::JournalKind::EventReceived: return "event_received";
    case storage::JournalKind::EventResolved: return "event_resolved";
    case storage::JournalKind::CommandIssued: return "command_issued";
    case storage::JournalKind::CommandSent: return "command_sent";
    case storage::JournalKind::CommandAcked: return "command_acked";
    case storage::JournalKind::CommandDeadLettered: return "command_dead_lettered";
  }
  return "unknown";
}

}  // namespace

Status BuildOrderTrace(StateStore* store, uint32_t partitions, const std::string& order_id, OrderTrace* out) {
  *out = OrderTrace();
  out->order_id = order_id;
  out->partition = PartitionOf(order_id, partitions);
  const uint32_t p = out->partition;
  std::string key, value, scratch, lower, upper;

  // The order itself.
  OrderKey(&key, p, order_id);
  Status s = store->Get(Table::kOrders, key, &value);
  if (s.ok()) {
    OrderState state;
    int64_t expire_at = 0;
    ORDERSYNC_RETURN_IF_ERROR(DecodeOrderState(value, &state, &expire_at));
    out->order_known = true;
    out->accepted = state.accepted;
    out->cancelled = state.cancelled;
    out->company_code = state.company_code;
    out->currency = state.currency;
    for (const LineState& l : state.lines) {
      out->ordered += l.ordered;
      out->reserved += l.reserved;
      out->picked += l.picked;
      out->shipped += l.shipped;
      out->returned += l.returned;
    }
    for (const ParkedRef& r : state.parked) {
      out->parked.push_back({r.event_id, MilestoneName(static_cast<uint8_t>(r.kind)), r.waiting_for, r.parked_at_ns,
                             r.deadline_ns});
    }
  } else if (!s.IsNotFound()) {
    return s;
  }

  // The journal.
  JournalOrderRange(p, order_id, &lower, &upper);
  {
    auto it = store->NewIterator(Table::kJournal, lower, upper);
    for (; it->Valid(); it->Next()) {
      if (it->value().size() < 8) continue;
      ForEachJournalEntry(it->value().substr(8), [&](const JournalEntryView& e) {
        TraceStep& t = out->steps.emplace_back();
        t.kind = StepKindName(e.kind);
        t.at_ns = e.at_ns;
        t.event_id = std::string(e.event_id);
        t.source = std::string(e.source);
        t.correlation_id = std::string(e.correlation_id);
        const bool is_event =
            e.kind == storage::JournalKind::EventReceived || e.kind == storage::JournalKind::EventResolved;
        if (is_event) t.milestone = MilestoneName(e.milestone);
        t.occurred_at_ns = e.occurred_at_ns;
        t.received_at_ns = e.received_at_ns;
        t.outcome = std::string(e.outcome);
        t.reason = std::string(e.reason);
        t.command_id = std::string(e.command_id);
        if (!t.command_id.empty()) t.command_kind = CommandKindName(e.command_kind);
        t.order_cmd_seq = e.order_cmd_seq;
        t.target = std::string(e.target);
        t.attempt = e.attempt;
        t.erp_document_id = std::string(e.erp_document_id);
        // Totals are meaningful after events that reached the order (not exact duplicates).
        t.has_totals = is_event && t.outcome != "duplicate_exact";
        t.ordered = e.ordered;
        t.reserved = e.reserved;
        t.picked = e.picked;
        t.shipped = e.shipped;
        t.returned = e.returned;
        t.first_sent_at_ns = e.first_sent_at_ns;
        // The commands the event issued: one command_issued step each, right after it.
        if (is_event) {
          const TraceStep event_step = t;
          for (const JournalCommandView& c : e.commands) {
            TraceStep& ct = out->steps.emplace_back();
            ct.kind = "command_issued";
            ct.at_ns = event_step.at_ns;
            ct.event_id = event_step.event_id;
            ct.correlation_id = event_step.correlation_id;
            ct.command_id = std::string(c.command_id);
            ct.command_kind = CommandKindName(c.command_kind);
            ct.order_cmd_seq = c.order_cmd_seq;
            ct.target = std::string(c.target);
          }
        }
      });
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
  }
  // Time order; at equal times an event before the commands it issued (older versions
  // journaled the commands first, as entries of their own).
  std::stable_sort(out->steps.begin(), out->steps.end(), [](const TraceStep& a, const TraceStep& b) {
    if (a.at_ns != b.at_ns) return a.at_ns < b.at_ns;
    return a.command_id.empty() && !b.command_id.empty();
  });

  // Commands: from the journal, then what the outbox and dead letters say now.
  std::map<std::string, TraceCommand> commands;
  for (const TraceStep& t : out->steps) {
    if (t.command_id.empty()) continue;
    TraceCommand& c = commands[t.command_id];
    c.command_id = t.command_id;
    if (!t.command_kind.empty()) c.command_kind = t.command_kind;
    if (!t.target.empty()) c.target = t.target;
    if (t.order_cmd_seq != 0) c.order_cmd_seq = t.order_cmd_seq;
    if (t.kind == "command_issued") {
      c.issued_at_ns = t.at_ns;
      if (c.state.empty()) c.state = "issued";
    } else if (t.kind == "command_sent") {
      if (c.first_sent_at_ns == 0) c.first_sent_at_ns = t.at_ns;
      c.attempts = std::max(c.attempts + 1, t.attempt);
    } else if (t.kind == "command_acked") {
      if (t.first_sent_at_ns != 0 && (c.first_sent_at_ns == 0 || t.first_sent_at_ns < c.first_sent_at_ns)) {
        c.first_sent_at_ns = t.first_sent_at_ns;
      }
      c.attempts = std::max(c.attempts, t.attempt);
      c.ack_status = t.outcome;
      if (t.outcome == "Posted" || t.outcome == "AlreadyPosted") {
        c.state = "acknowledged";
        c.acked_at_ns = t.at_ns;
        c.erp_document_id = t.erp_document_id;
      }
      c.message = t.reason;  // the latest answer's message
    } else if (t.kind == "command_dead_lettered") {
      if (c.first_sent_at_ns == 0) c.first_sent_at_ns = t.first_sent_at_ns;
      c.attempts = std::max(c.attempts, t.attempt);
      c.state = "dead_lettered";
      if (!t.reason.empty()) c.message = t.reason;
    }
  }
  PartitionRange(p, &lower, &upper);
  {
    auto it = store->NewIterator(Table::kOutbox, lower, upper);
    for (; it->Valid(); it->Next()) {
      const ErpCommand* cmd = Decode<ErpCommand>(it->value(), &scratch);
      if (cmd == nullptr || Str(cmd->order_id()) != order_id) continue;
      TraceCommand& c = commands[Str(cmd->command_id())];
      c.command_id = Str(cmd->command_id());
      c.command_kind = CommandKindName(static_cast<uint8_t>(cmd->kind()));
      c.target = Str(cmd->target());
      c.order_cmd_seq = cmd->order_cmd_seq();
      if (c.issued_at_ns == 0) c.issued_at_ns = cmd->issued_at_ns();
      c.state = "in_outbox";
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
  }
  {
    // adapters/erp/dead_letters.h: partition | 'L' | len(order_id):1 | order_id | seq:8
    lower.clear();
    PutBigEndian16(&lower, static_cast<uint16_t>(p));
    lower.push_back('L');
    lower.push_back(static_cast<char>(order_id.size()));
    lower.append(order_id);
    upper = lower;
    upper.append(8, '\xff');
    auto it = store->NewIterator(Table::kDeadLetters, lower, upper);
    for (; it->Valid(); it->Next()) {
      const auto* d = Decode<storage::DeadLetter>(it->value(), &scratch);
      if (d == nullptr) continue;
      TraceCommand& c = commands[Str(d->command_id())];
      c.command_id = Str(d->command_id());
      c.command_kind = CommandKindName(d->kind());
      c.target = Str(d->target());
      c.order_cmd_seq = d->order_cmd_seq();
      c.state = "dead_lettered";
      c.attempts = std::max(c.attempts, d->attempts());
      c.message = Str(d->reason()) + (d->message() != nullptr && d->message()->size() > 0 ? ": " + Str(d->message()) : "");
      if (std::none_of(out->steps.begin(), out->steps.end(), [&](const TraceStep& t) {
            return t.kind == "command_dead_lettered" && t.command_id == c.command_id;
          })) {
        TraceStep& t = out->steps.emplace_back();
        t.kind = "command_dead_lettered";
        t.at_ns = d->dead_lettered_at_ns();
        t.command_id = c.command_id;
        t.command_kind = c.command_kind;
        t.target = c.target;
        t.order_cmd_seq = c.order_cmd_seq;
        t.attempt = d->attempts();
        t.outcome = Str(d->reason());
        t.reason = Str(d->message());
      }
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
    std::stable_sort(out->steps.begin(), out->steps.end(),
                     [](const TraceStep& a, const TraceStep& b) { return a.at_ns < b.at_ns; });
  }
  for (auto& [id, c] : commands) {
    // Issued, no longer in the outbox and not dead-lettered: the dispatcher deleted it
    // after the ERP acknowledged it (journal entries of the ack may be missing).
    if (c.state == "issued") c.state = "acknowledged";
    out->commands.push_back(c);
  }
  std::sort(out->commands.begin(), out->commands.end(),
            [](const TraceCommand& a, const TraceCommand& b) { return a.order_cmd_seq < b.order_cmd_seq; });

  // Exceptions of the order (the partition's exception queue).
  PartitionRange(p, &lower, &upper);
  {
    auto it = store->NewIterator(Table::kExceptions, lower, upper);
    for (; it->Valid(); it->Next()) {
      const auto* r = Decode<storage::ExceptionRecord>(it->value(), &scratch);
      if (r == nullptr || Str(r->order_id()) != order_id) continue;
      out->exceptions.push_back(
          {Str(r->event_id()), Str(r->stage()), Str(r->failure_class()), Str(r->reason()), r->recorded_at_ns()});
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
  }
  // Rejected frames that named the order (adapters/ingress/quarantine_store.h).
  {
    auto it = store->NewIterator(Table::kQuarantine, "", "");
    for (; it->Valid(); it->Next()) {
      const auto* q = Decode<storage::QuarantineRecord>(it->value(), &scratch);
      if (q == nullptr || Str(q->order_id()) != order_id) continue;
      const std::string_view k = it->key();
      out->quarantined.push_back({k.size() >= 10 ? DecodeBigEndian64(k.data() + 2) : 0, q->received_at_ns(),
                                  Str(q->event_id()), Str(q->source()), Str(q->reason()), Str(q->description())});
    }
    ORDERSYNC_RETURN_IF_ERROR(it->status());
  }
  return Status::OK();
}

}  // namespace ordersync
