// EventProcessor: the journal arena (each order's entries since the last checkpoint),
// the ERP fan-out's notes, and cutting a checkpoint of a partition. The event path is in
// event_processor.cc, parking in event_processor_parked.cc.
#include "engine/event_processor.h"
#include "engine/flatbuffer_record.h"
#include "engine/coding.h"
#include "engine/command_id.h"
#include "engine/hash.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "storage_generated.h"

namespace ordersync {

namespace {

void EncodeFixed32At(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
}
uint32_t DecodeFixed32At(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(s[at + static_cast<size_t>(i)])) << (8 * i);
  return v;
}

}  // namespace

void EventProcessor::AddJournal(Partition* p, CachedOrder* order, const JournalRecord& r) {
  // Entries of all the partition's orders share one arena (no allocation per order);
  // each order links its own: next:4 len:4 entry.
  std::string& arena = p->journal_arena();
  const uint32_t at = static_cast<uint32_t>(arena.size());
  arena.append(8, '\0');
  journal_.Encode(r, &arena);
  EncodeFixed32At(&arena, at, kNoJournal);
  EncodeFixed32At(&arena, at + 4, static_cast<uint32_t>(arena.size() - at - 8));
  if (order->journal_head == kNoJournal) {
    order->journal_head = at;
    order->journal_first_at_ns = r.at_ns;
  } else {
    EncodeFixed32At(&arena, order->journal_tail, at);
  }
  order->journal_tail = at;
  p->MarkChanged(order, /*state=*/false, now_ns_);
}

void EventProcessor::JournalEvent(Partition* p, CachedOrder* cached, storage::JournalKind kind, const EventView& e,
                                  int64_t received_at_ns, EventOutcome outcome, std::string_view reason) {
  if (!options_.journal) return;
  const OrderState* order = &cached->state;
  JournalRecord r;
  r.kind = kind;
  r.at_ns = now_ns_;
  r.event_id = e.event_id;
  r.source = e.source;
  r.correlation_id = e.correlation_id;
  r.milestone = static_cast<uint8_t>(e.kind);
  r.occurred_at_ns = e.occurred_at_ns;
  r.received_at_ns = received_at_ns;
  r.outcome = EventOutcomeName(outcome);
  r.reason = reason;
  {
    for (const LineState& l : order->lines) {
      r.ordered += l.ordered;
      r.reserved += l.reserved;
      r.picked += l.picked;
      r.shipped += l.shipped;
      r.returned += l.returned;
    }
  }
  r.commands = std::span<const IssuedCommand>(issued_.data(), issued_count_);
  AddJournal(p, cached, r);
  issued_count_ = 0;
}


void EventProcessor::ApplyNote(Partition* p, const LogItem& n, StoreBatch* batch) {
  if (n.removes_command) {
    if (PendingCommand* c = p->FindPending(n.outbox_seq)) {
      c->bytes.reset();  // never reaches the store
    } else if (n.outbox_seq < p->next_outbox_seq) {
      SeqKey(&key_, p->id(), n.outbox_seq);  // in an earlier checkpoint
      batch->Delete(Table::kOutbox, key_);
    }
  }
  if (!options_.journal || n.order_id.empty()) return;
  CachedOrder* order = nullptr;
  if (!LoadOrder(p, n.order_id, &order).ok()) return;  // the trace misses this note; nothing else does
  JournalRecord r;
  r.kind = static_cast<storage::JournalKind>(n.journal_kind);
  r.at_ns = n.at_ns;
  r.outcome = n.outcome;
  r.reason = n.reason;
  r.command_id = n.command_id;
  r.command_kind = n.command_kind;
  r.order_cmd_seq = n.order_cmd_seq;
  r.target = n.target;
  r.attempt = n.attempts;
  r.erp_document_id = n.erp_document_id;
  if (r.kind != storage::JournalKind::CommandSent) r.first_sent_at_ns = n.first_sent_at_ns;
  AddJournal(p, order, r);
}

void EventProcessor::CutCheckpoint(Partition* p, const LogPosition& position, uint64_t epoch, StoreBatch* batch) {
  const int64_t retention_ns = static_cast<int64_t>(options_.order_retention_s) * kNanosPerSecond;
  for (CachedOrder* o : p->change_list()) {
    if (o->state_changed) {
      EncodeOrderState(o->state, o->changed_at_ns + retention_ns, &state_fbb_, &value_);
      OrderKey(&key_, p->id(), o->state.order_id);
      batch->Put(Table::kOrders, key_, value_);
    }
    if (o->journal_head != kNoJournal) {
      const std::string& arena = p->journal_arena();
      journal_scratch_.clear();
      for (uint32_t at = o->journal_head; at != kNoJournal; at = DecodeFixed32At(arena, at)) {
        const uint32_t len = DecodeFixed32At(arena, at + 4);
        PutVarint64(&journal_scratch_, len);
        journal_scratch_.append(arena, at + 8, len);
      }
      journal_.PutChunk(p->id(), o->state.order_id, o->journal_first_at_ns, p->next_journal_seq++,
                        o->journal_first_at_ns + retention_ns, journal_scratch_, batch);
    }
  }
  // Commands issued in the epoch and still unacknowledged go to the outbox table.
  for (const PendingCommand& c : p->pending_commands()) {
    if (c.bytes == nullptr) continue;
    SeqKey(&key_, p->id(), c.outbox_seq);
    batch->Put(Table::kOutbox, key_, *c.bytes);
  }
  p->pending_commands().clear();
  MetaCountersKey(&key_, p->id());
  value_.clear();
  PutFixed64(&value_, p->next_outbox_seq);
  PutFixed64(&value_, p->next_exception_seq);
  PutFixed64(&value_, p->next_journal_seq);
  batch->Put(Table::kMeta, key_, value_);
  MetaCheckpointKey(&key_, p->id());
  value_.clear();
  PutFixed64(&value_, static_cast<uint64_t>(position.generation) | (static_cast<uint64_t>(position.stream) << 32));
  PutFixed64(&value_, position.offset);
  batch->Put(Table::kMeta, key_, value_);
  p->checkpoint = position;
  p->CloseEpoch(epoch);
}

void EventProcessor::CheckpointDurable(Partition* p, uint64_t epoch) { p->EpochDurable(epoch); }

Status EventProcessor::Reset(Partition* p) {
  AdjustParked(p, -p->parked_count);
  p->Reset();
  return Recover(p);  // counters, checkpoint position, park deadlines and the parked gauge
}

}  // namespace ordersync
