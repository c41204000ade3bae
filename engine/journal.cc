#include "engine/journal.h"

#include <chrono>

#include "engine/coding.h"
#include "engine/flatbuffer_record.h"
#include "engine/keys.h"

namespace ordersync {
namespace {

constexpr std::string_view kChunkMagic = "OSJ3";

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void PutStr(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}

// Reads the compact encoding; every Get fails (returns false) past the end.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return false;
      const uint8_t b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Signed(int64_t* v) {
    uint64_t u;
    if (!Varint(&u)) return false;
    *v = UnZigZag(u);
    return true;
  }
  bool Byte(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool Bytes(size_t n, std::string_view* v) {
    if (in_.size() < n) return false;
    *v = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Str(std::string_view* v) {
    uint64_t n;
    return Varint(&n) && Bytes(n, v);
  }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
};

bool DecodeCompact(std::string_view payload, JournalEntryView* e) {
  Cursor c(payload);
  uint8_t kind = 0;
  uint64_t present = 0, seq = 0, attempt = 0;
  std::string_view at;
  if (!c.Byte(&kind) || !c.Varint(&present) || !c.Bytes(8, &at) || !c.Byte(&e->milestone) ||
      !c.Byte(&e->command_kind) || !c.Varint(&seq) || !c.Varint(&attempt) || !c.Signed(&e->ordered) ||
      !c.Signed(&e->reserved) || !c.Signed(&e->picked) || !c.Signed(&e->shipped) || !c.Signed(&e->returned) ||
      !c.Signed(&e->occurred_at_ns) || !c.Signed(&e->received_at_ns) || !c.Signed(&e->first_sent_at_ns)) {
    return false;
  }
  e->kind = static_cast<storage::JournalKind>(kind);
  e->at_ns = static_cast<int64_t>(DecodeFixed64(at.data()));
  e->order_cmd_seq = seq;
  e->attempt = static_cast<uint32_t>(attempt);
  std::string_view* strings[] = {&e->event_id, &e->source,     &e->correlation_id, &e->outcome,
                                 &e->reason,   &e->command_id, &e->target,         &e->erp_document_id};
  for (size_t i = 0; i < 8; ++i) {
    if ((present & (1u << i)) != 0 && !c.Str(strings[i])) return false;
  }
  e->commands.clear();
  if ((present & (1u << 8)) != 0) {
    uint64_t n = 0;
    if (!c.Varint(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      JournalCommandView cmd;
      uint64_t cmd_seq = 0;
      if (!c.Str(&cmd.command_id) || !c.Byte(&cmd.command_kind) || !c.Varint(&cmd_seq) || !c.Str(&cmd.target)) {
        return false;
      }
      cmd.order_cmd_seq = cmd_seq;
      e->commands.push_back(cmd);
    }
  }
  return c.empty();
}

std::string_view View(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

bool DecodeFlatBuffer(std::string_view value, std::string* scratch, JournalEntryView* e) {
  const auto* j = VerifiedRoot<storage::JournalEntry>(value, scratch);
  if (j == nullptr) return false;
  *e = JournalEntryView();
  e->kind = j->kind();
  e->at_ns = j->at_ns();
  e->event_id = View(j->event_id());
  e->source = View(j->source());
  e->correlation_id = View(j->correlation_id());
  e->milestone = j->milestone();
  e->occurred_at_ns = j->occurred_at_ns();
  e->received_at_ns = j->received_at_ns();
  e->outcome = View(j->outcome());
  e->reason = View(j->reason());
  e->command_id = View(j->command_id());
  e->command_kind = j->command_kind();
  e->order_cmd_seq = j->order_cmd_seq();
  e->target = View(j->target());
  e->attempt = j->attempt();
  e->erp_document_id = View(j->erp_document_id());
  e->ordered = j->ordered();
  e->reserved = j->reserved();
  e->picked = j->picked();
  e->shipped = j->shipped();
  e->returned = j->returned();
  e->first_sent_at_ns = j->first_sent_at_ns();
  if (j->commands() != nullptr) {
    for (const storage::JournalCommand* c : *j->commands()) {
      e->commands.push_back({View(c->command_id()), c->command_kind(), c->order_cmd_seq(), View(c->target())});
    }
  }
  return true;
}

}  // namespace

std::atomic<uint64_t> JournalWriter::next_uniq_{
    static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())};

void PutVarint64(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void JournalOrderRange(uint32_t partition, std::string_view order_id, std::string* lower, std::string* upper) {
  ParkedOrderPrefix(lower, partition, order_id);  // same p|len|order_id prefix layout
  *upper = *lower;
  upper->append(16, '\xff');
}

bool ForEachJournalEntry(std::string_view body, const std::function<void(const JournalEntryView&)>& fn) {
  JournalEntryView e;
  if (body.substr(0, kChunkMagic.size()) != kChunkMagic) {
    std::string scratch;
    if (!DecodeFlatBuffer(body, &scratch, &e)) return false;
    fn(e);
    return true;
  }
  Cursor c(body.substr(kChunkMagic.size()));
  while (!c.empty()) {
    std::string_view payload;
    if (!c.Str(&payload) || !DecodeCompact(payload, &e)) return false;
    fn(e);
  }
  return true;
}

void JournalWriter::Encode(const JournalRecord& r, std::string* out) {
  const std::string_view strings[] = {r.event_id, r.source,     r.correlation_id, r.outcome,
                                      r.reason,   r.command_id, r.target,         r.erp_document_id};
  uint64_t present = 0;
  for (size_t i = 0; i < 8; ++i) present |= strings[i].empty() ? 0 : (1u << i);
  if (!r.commands.empty()) present |= 1u << 8;
  out->push_back(static_cast<char>(r.kind));
  PutVarint64(out, present);
  PutFixed64(out, static_cast<uint64_t>(r.at_ns));
  out->push_back(static_cast<char>(r.milestone));
  out->push_back(static_cast<char>(r.command_kind));
  PutVarint64(out, r.order_cmd_seq);
  PutVarint64(out, r.attempt);
  for (int64_t v : {r.ordered, r.reserved, r.picked, r.shipped, r.returned, r.occurred_at_ns, r.received_at_ns,
                    r.first_sent_at_ns}) {
    PutVarint64(out, ZigZag(v));
  }
  for (std::string_view s : strings) {
    if (!s.empty()) PutStr(out, s);
  }
  if (!r.commands.empty()) {
    PutVarint64(out, r.commands.size());
    for (const IssuedCommand& c : r.commands) {
      PutStr(out, c.command_id);
      out->push_back(static_cast<char>(c.command_kind));
      PutVarint64(out, c.order_cmd_seq);
      PutStr(out, c.target);
    }
  }
}

void JournalWriter::PutChunk(uint32_t partition, std::string_view order_id, int64_t first_at_ns, uint64_t chunk_seq,
                             int64_t expire_at_ns, std::string_view entries, StoreBatch* batch) {
  ParkedOrderPrefix(&key_, partition, order_id);
  PutBigEndian64(&key_, static_cast<uint64_t>(first_at_ns));
  PutBigEndian64(&key_, chunk_seq);
  value_.clear();
  PutFixed64(&value_, static_cast<uint64_t>(expire_at_ns));
  value_.append(kChunkMagic);
  value_.append(entries);
  batch->Put(Table::kJournal, key_, value_);
}

void JournalWriter::Append(uint32_t partition, std::string_view order_id, const JournalRecord& r, int64_t expire_at_ns,
                           StoreBatch* batch) {
  fbb_.Clear();
  auto str = [this](std::string_view s) { return s.empty() ? 0 : fbb_.CreateString(s.data(), s.size()); };
  auto event_id = str(r.event_id);
  auto source = str(r.source);
  auto correlation_id = str(r.correlation_id);
  auto outcome = str(r.outcome);
  auto reason = str(r.reason);
  auto command_id = str(r.command_id);
  auto target = str(r.target);
  auto document = str(r.erp_document_id);
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<storage::JournalCommand>>> commands;
  if (!r.commands.empty()) {
    command_offsets_.clear();
    for (const IssuedCommand& c : r.commands) {
      command_offsets_.push_back(
          storage::CreateJournalCommand(fbb_, str(c.command_id), c.command_kind, c.order_cmd_seq, str(c.target)));
    }
    commands = fbb_.CreateVector(command_offsets_);
  }
  storage::JournalEntryBuilder b(fbb_);
  b.add_kind(r.kind);
  b.add_at_ns(r.at_ns);
  b.add_event_id(event_id);
  b.add_source(source);
  b.add_correlation_id(correlation_id);
  b.add_milestone(r.milestone);
  b.add_occurred_at_ns(r.occurred_at_ns);
  b.add_received_at_ns(r.received_at_ns);
  b.add_outcome(outcome);
  b.add_reason(reason);
  b.add_command_id(command_id);
  b.add_command_kind(r.command_kind);
  b.add_order_cmd_seq(r.order_cmd_seq);
  b.add_target(target);
  b.add_attempt(r.attempt);
  b.add_erp_document_id(document);
  b.add_ordered(r.ordered);
  b.add_reserved(r.reserved);
  b.add_picked(r.picked);
  b.add_shipped(r.shipped);
  b.add_returned(r.returned);
  b.add_commands(commands);
  b.add_first_sent_at_ns(r.first_sent_at_ns);
  fbb_.Finish(b.Finish());
  ParkedOrderPrefix(&key_, partition, order_id);
  PutBigEndian64(&key_, static_cast<uint64_t>(r.at_ns));
  PutBigEndian64(&key_, next_uniq_.fetch_add(1, std::memory_order_relaxed));
  value_.clear();
  PutFixed64(&value_, static_cast<uint64_t>(expire_at_ns));
  value_.append(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize());
  batch->Put(Table::kJournal, key_, value_);
}

}  // namespace ordersync
