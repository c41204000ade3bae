#include "engine/journal.h"

#include <chrono>

#include "engine/coding.h"
#include "engine/keys.h"

namespace ordersync {

std::atomic<uint64_t> JournalWriter::next_uniq_{
    static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())};

void JournalOrderRange(uint32_t partition, std::string_view order_id, std::string* lower, std::string* upper) {
  ParkedOrderPrefix(lower, partition, order_id);  // same p|len|order_id prefix layout
  *upper = *lower;
  upper->append(16, '\xff');
}

void JournalWriter::Build(const JournalRecord& r) {
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
      command_offsets_.push_back(storage::CreateJournalCommand(fbb_, str(c.command_id), c.command_kind,
                                                               c.order_cmd_seq, str(c.target)));
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
}

void JournalWriter::AppendTo(const JournalRecord& r, std::string* chunk) {
  Build(r);
  if (chunk->empty()) chunk->append(kJournalChunkMagic);
  const uint32_t n = fbb_.GetSize();
  char len[4];
  for (int i = 0; i < 4; ++i) len[i] = static_cast<char>(n >> (8 * i));
  chunk->append(len, 4);
  chunk->append(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), n);
}

void JournalWriter::PutChunk(uint32_t partition, std::string_view order_id, int64_t first_at_ns, uint64_t chunk_seq,
                             int64_t expire_at_ns, std::string_view chunk, StoreBatch* batch) {
  ParkedOrderPrefix(&key_, partition, order_id);
  PutBigEndian64(&key_, static_cast<uint64_t>(first_at_ns));
  PutBigEndian64(&key_, chunk_seq);
  value_.clear();
  PutFixed64(&value_, static_cast<uint64_t>(expire_at_ns));
  value_.append(chunk);
  batch->Put(Table::kJournal, key_, value_);
}

void JournalWriter::Append(uint32_t partition, std::string_view order_id, const JournalRecord& r, int64_t expire_at_ns,
                           StoreBatch* batch) {
  Build(r);
  ParkedOrderPrefix(&key_, partition, order_id);
  PutBigEndian64(&key_, static_cast<uint64_t>(r.at_ns));
  PutBigEndian64(&key_, next_uniq_.fetch_add(1, std::memory_order_relaxed));
  value_.clear();
  PutFixed64(&value_, static_cast<uint64_t>(expire_at_ns));
  value_.append(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize());
  batch->Put(Table::kJournal, key_, value_);
}

}  // namespace ordersync
