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

// 2024-05-01T12:00:00.123456Z
std::string IsoTime(int64_t ns) {
  if (ns <= 0) return "-";
  const time_t secs = static_cast<time_t>(ns / kNanosPerSecond);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (ns % kNanosPerSecond) / 1000);
  return buf;
}

// A duration for people: 850us, 12.3ms, 4.21s, 3m05s, 2h10m, 3d04h.
std::string Human(int64_t ns) {
  const bool neg = ns < 0;
  const uint64_t a = static_cast<uint64_t>(neg ? -ns : ns);
  char buf[32];
  if (a < 1'000'000) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "us", a / 1000);
  } else if (a < 1'000'000'000) {
    std::snprintf(buf, sizeof(buf), "%.1fms", static_cast<double>(a) / 1e6);
  } else if (a < 60ull * 1'000'000'000) {
    std::snprintf(buf, sizeof(buf), "%.2fs", static_cast<double>(a) / 1e9);
  } else if (a < 3600ull * 1'000'000'000) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "m%02" PRIu64 "s", a / 60'000'000'000, (a / 1'000'000'000) % 60);
  } else if (a < 86400ull * 1'000'000'000) {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "h%02" PRIu64 "m", a / 3'600'000'000'000, (a / 60'000'000'000) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRIu64 "d%02" PRIu64 "h", a / 86'400'000'000'000,
                  (a / 3'600'000'000'000) % 24);
  }
  return (neg ? "-" : "") + std::string(buf);
}

void JsonString(std::ostream& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out << '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') out << "\\\"";
    else if (c == '\\') out << "\\\\";
    else if (c == '\n') out << "\\n";
    else if (c == '\t') out << "\\t";
    else if (c == '\r') out << "\\r";
    else if (u < 0x20) out << "\\u00" << kHex[u >> 4] << kHex[u & 0xf];
    else out << c;
  }
  out << '"';
}

// Writes "key": value pairs of one JSON object; skips empty strings and zero numbers
// unless forced.
class JsonObject {
 public:
  explicit JsonObject(std::ostream& out) : out_(out) { out_ << '{'; }
  ~JsonObject() { out_ << '}'; }
  JsonObject& S(std::string_view k, std::string_view v, bool always = false) {
    if (v.empty() && !always) return *this;
    Key(k);
    JsonString(out_, v);
    return *this;
  }
  JsonObject& I(std::string_view k, int64_t v, bool always = false) {
    if (v == 0 && !always) return *this;
    Key(k);
    out_ << v;
    return *this;
  }
  JsonObject& B(std::string_view k, bool v) {
    Key(k);
    out_ << (v ? "true" : "false");
    return *this;
  }
  JsonObject& T(std::string_view k, int64_t ns) {  // a time: ns and ISO text
    if (ns == 0) return *this;
    I(std::string(k) + "_ns", ns);
    return S(k, IsoTime(ns));
  }
  std::ostream& Raw(std::string_view k) {
    Key(k);
    return out_;
  }

 private:
  void Key(std::string_view k) {
    if (!first_) out_ << ',';
    first_ = false;
    JsonString(out_, k);
    out_ << ':';
  }
  std::ostream& out_;
  bool first_ = true;
};

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

void PrintTraceText(const OrderTrace& t, int64_t now_ns, std::ostream& out) {
  out << "order " << t.order_id << "  (partition " << t.partition << ")\n";
  if (t.order_known) {
    out << "  state     " << (t.cancelled ? "cancelled" : t.accepted ? "accepted" : "not accepted yet")
        << (t.company_code.empty() ? "" : ", company " + t.company_code) << "; ordered " << t.ordered << ", reserved "
        << t.reserved << ", picked " << t.picked << ", shipped " << t.shipped << ", returned " << t.returned << "\n";
  } else {
    out << "  state     not in the orders table (never seen, or past order_retention_s)\n";
  }
  out << "\ntimeline  (+ = since the previous step)\n";
  if (t.steps.empty()) out << "  (no journal entries; is engine.journal on?)\n";
  int64_t prev = 0;
  for (const TraceStep& s : t.steps) {
    const std::string delta = prev == 0 ? "" : "+" + Human(s.at_ns - prev);
    prev = s.at_ns;
    char head[96];
    std::snprintf(head, sizeof(head), "  %s %9s  ", IsoTime(s.at_ns).c_str(), delta.c_str());
    out << head;
    if (s.kind == "event_received" || s.kind == "event_resolved") {
      out << (s.kind == "event_received" ? "event    " : "resolved ") << s.milestone << " " << s.event_id;
      if (s.kind == "event_received") {
        out << " from " << s.source;
        if (!s.correlation_id.empty()) out << " corr=" << s.correlation_id;
      }
      std::string outcome = s.outcome;
      if (outcome == "duplicate_exact") outcome = "DUPLICATE (exact: same event_id)";
      else if (outcome == "duplicate_business") outcome = "DUPLICATE (business: same fact, other event_id)";
      else if (outcome == "parked") outcome = "PARKED";
      else if (outcome == "excepted") outcome = "EXCEPTION";
      else if (outcome == "applied" && s.kind == "event_resolved") outcome = "applied after parking";
      out << "  -> " << outcome;
      if (!s.reason.empty() && s.reason != "exact" && s.reason != "business" && s.reason != "unparked") {
        out << " (" << s.reason << ")";
      }
      if (s.kind == "event_received" && s.occurred_at_ns != 0 && s.received_at_ns != 0) {
        out << "  [occurred→received " << Human(s.received_at_ns - s.occurred_at_ns) << ", received→done "
            << Human(s.at_ns - s.received_at_ns) << "]";
      }
      if (s.has_totals) {
        out << "\n" << std::string(41, ' ') << "totals: ordered " << s.ordered << " reserved " << s.reserved
            << " picked " << s.picked << " shipped " << s.shipped << " returned " << s.returned;
      }
    } else if (s.kind == "command_issued") {
      out << "command  " << s.command_kind << " " << s.command_id << " #" << s.order_cmd_seq << " -> " << s.target
          << "  issued (outbox)";
    } else if (s.kind == "command_sent") {
      out << "command  " << s.command_id << "  sent, attempt " << s.attempt << (s.attempt > 1 ? " (RETRY)" : "");
    } else if (s.kind == "command_acked") {
      out << "command  " << s.command_id << "  ERP answered " << s.outcome;
      if (!s.erp_document_id.empty()) out << ", document " << s.erp_document_id;
      if (!s.reason.empty()) out << " (" << s.reason << ")";
    } else if (s.kind == "command_dead_lettered") {
      out << "command  " << s.command_id << "  DEAD-LETTERED (" << s.outcome
          << (s.reason.empty() ? "" : ": " + s.reason) << ")";
    }
    out << "\n";
  }
  if (!t.commands.empty()) {
    out << "\nERP commands\n";
    for (const TraceCommand& c : t.commands) {
      out << "  #" << c.order_cmd_seq << " " << c.command_kind << " " << c.command_id << " -> " << c.target << ": "
          << c.state;
      if (c.attempts > 0) out << ", " << c.attempts << (c.attempts == 1 ? " attempt" : " attempts");
      if (!c.erp_document_id.empty()) out << ", document " << c.erp_document_id;
      if (c.acked_at_ns != 0 && c.issued_at_ns != 0) out << ", issued→acknowledged " << Human(c.acked_at_ns - c.issued_at_ns);
      if (c.state == "in_outbox" && c.issued_at_ns != 0) out << ", waiting " << Human(now_ns - c.issued_at_ns);
      if (!c.message.empty()) out << " (" << c.message << ")";
      out << "\n";
    }
  }
  if (!t.parked.empty()) {
    out << "\nparked now\n";
    for (const auto& p : t.parked) {
      out << "  " << p.milestone << " " << p.event_id << " waiting for " << p.waiting_for << " since "
          << IsoTime(p.parked_at_ns) << " (" << Human(now_ns - p.parked_at_ns) << " ago; times out at "
          << IsoTime(p.deadline_ns) << ")\n";
    }
  }
  if (!t.exceptions.empty()) {
    out << "\nexceptions\n";
    for (const auto& e : t.exceptions) {
      out << "  " << IsoTime(e.recorded_at_ns) << " " << e.event_id << " " << e.failure_class << " at " << e.stage
          << ": " << e.reason << "\n";
    }
  }
  if (!t.quarantined.empty()) {
    out << "\nrejected frames (quarantine)\n";
    for (const auto& q : t.quarantined) {
      out << "  #" << q.id << " " << IsoTime(q.received_at_ns) << " " << q.event_id << " from " << q.source << ": "
          << q.reason << (q.description.empty() ? "" : " (" + q.description + ")") << "\n";
    }
  }
}

void PrintTraceJson(const OrderTrace& t, std::ostream& out) {
  {
    JsonObject o(out);
    o.S("order_id", t.order_id, true).I("partition", t.partition, true).B("order_known", t.order_known);
    {
      std::ostream& s = o.Raw("state");
      JsonObject st(s);
      st.B("accepted", t.accepted).B("cancelled", t.cancelled).S("company_code", t.company_code).S("currency", t.currency);
      st.I("ordered", t.ordered, true).I("reserved", t.reserved, true).I("picked", t.picked, true);
      st.I("shipped", t.shipped, true).I("returned", t.returned, true);
    }
    std::ostream& tl = o.Raw("timeline");
    tl << '[';
    int64_t prev = 0;
    for (size_t i = 0; i < t.steps.size(); ++i) {
      const TraceStep& s = t.steps[i];
      if (i > 0) tl << ',';
      JsonObject e(tl);
      e.S("kind", s.kind, true).T("at", s.at_ns);
      if (prev != 0) e.I("since_previous_ns", s.at_ns - prev, true);
      prev = s.at_ns;
      e.S("event_id", s.event_id).S("source", s.source).S("correlation_id", s.correlation_id).S("milestone", s.milestone);
      e.T("occurred_at", s.occurred_at_ns).T("received_at", s.received_at_ns);
      e.S("outcome", s.outcome).S("reason", s.reason);
      e.S("command_id", s.command_id).S("command_kind", s.command_kind).I("order_cmd_seq", s.order_cmd_seq);
      e.S("target", s.target).I("attempt", s.attempt).S("erp_document_id", s.erp_document_id);
      if (s.has_totals) {
        std::ostream& tt = e.Raw("totals");
        JsonObject to(tt);
        to.I("ordered", s.ordered, true).I("reserved", s.reserved, true).I("picked", s.picked, true);
        to.I("shipped", s.shipped, true).I("returned", s.returned, true);
      }
    }
    tl << ']';
    std::ostream& cs = o.Raw("commands");
    cs << '[';
    for (size_t i = 0; i < t.commands.size(); ++i) {
      const TraceCommand& c = t.commands[i];
      if (i > 0) cs << ',';
      JsonObject e(cs);
      e.S("command_id", c.command_id, true).S("command_kind", c.command_kind).S("target", c.target);
      e.I("order_cmd_seq", c.order_cmd_seq).S("state", c.state, true).I("attempts", c.attempts, true);
      e.T("issued_at", c.issued_at_ns).T("first_sent_at", c.first_sent_at_ns).T("acknowledged_at", c.acked_at_ns);
      e.S("ack_status", c.ack_status).S("erp_document_id", c.erp_document_id).S("message", c.message);
    }
    cs << ']';
    std::ostream& ps = o.Raw("parked");
    ps << '[';
    for (size_t i = 0; i < t.parked.size(); ++i) {
      if (i > 0) ps << ',';
      JsonObject e(ps);
      e.S("event_id", t.parked[i].event_id, true).S("milestone", t.parked[i].milestone);
      e.S("waiting_for", t.parked[i].waiting_for).T("parked_at", t.parked[i].parked_at_ns).T("deadline", t.parked[i].deadline_ns);
    }
    ps << ']';
    std::ostream& es = o.Raw("exceptions");
    es << '[';
    for (size_t i = 0; i < t.exceptions.size(); ++i) {
      if (i > 0) es << ',';
      JsonObject e(es);
      const auto& x = t.exceptions[i];
      e.S("event_id", x.event_id, true).S("stage", x.stage).S("class", x.failure_class).S("reason", x.reason);
      e.T("recorded_at", x.recorded_at_ns);
    }
    es << ']';
    std::ostream& qs = o.Raw("quarantined");
    qs << '[';
    for (size_t i = 0; i < t.quarantined.size(); ++i) {
      if (i > 0) qs << ',';
      JsonObject e(qs);
      const auto& q = t.quarantined[i];
      e.I("id", static_cast<int64_t>(q.id), true).T("received_at", q.received_at_ns).S("event_id", q.event_id);
      e.S("source", q.source).S("reason", q.reason).S("description", q.description);
    }
    qs << ']';
  }
  out << "\n";
}

void RegisterTraceAdminCommand(AdminServer* admin, StateStore* store, Engine* engine) {
  const uint32_t partitions = engine->options().partitions;
  admin->Register("trace", {"an order's timeline, as `ordersync trace --json` (args: order_id)", false,
                            [store, engine, partitions](const nlohmann::json& args) -> Result<nlohmann::json> {
                              const std::string order_id = args.value("order_id", std::string());
                              if (order_id.empty()) return Status::InvalidArgument("trace needs args.order_id");
                              // The store shows the last checkpoint: cut one, so the
                              // trace shows everything processed until now.
                              ORDERSYNC_RETURN_IF_ERROR(engine->Checkpoint());
                              OrderTrace trace;
                              ORDERSYNC_RETURN_IF_ERROR(BuildOrderTrace(store, partitions, order_id, &trace));
                              std::ostringstream json;
                              PrintTraceJson(trace, json);
                              return nlohmann::json::parse(json.str());
                            }});
}

int RunTrace(const AppConfig& config, const TraceOptions& options, std::ostream& out, std::ostream& err) {
  StorageOptions storage = config.storage;
  if (!options.data_dir.empty()) storage.data_dir = options.data_dir;
  auto store = RocksDbStore::OpenReadOnly(storage);
  if (!store.ok()) {
    err << "ordersync trace: cannot open " << storage.data_dir << ": " << store.status().ToString() << "\n";
    return 2;
  }
  OrderTrace trace;
  Status s = BuildOrderTrace(store->get(), config.engine.partitions, options.order_id, &trace);
  if (!s.ok()) {
    err << "ordersync trace: " << s.ToString() << "\n";
    return 2;
  }
  const bool found = trace.order_known || !trace.steps.empty() || !trace.commands.empty() ||
                     !trace.exceptions.empty() || !trace.quarantined.empty();
  if (options.json) {
    PrintTraceJson(trace, out);
  } else if (found) {
    PrintTraceText(trace, SystemClock::Default()->NowNanos(), out);
  }
  if (!found) {
    err << "ordersync trace: no trace of order '" << options.order_id << "' in " << storage.data_dir
        << " (engine.partitions = " << config.engine.partitions << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace ordersync
