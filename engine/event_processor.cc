#include "engine/event_processor.h"

#include "engine/flatbuffer_record.h"
#include "engine/coding.h"
#include "engine/command_id.h"
#include "engine/hash.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "storage_generated.h"

namespace ordersync {

namespace fb = flatbuffers;

// Writes the commands an applied event issues into the outbox, numbering them per order.
class EventProcessor::OutboxWriter final : public CommandEmitter {
 public:
  OutboxWriter(EventProcessor* processor, Partition* partition, OrderState* order, const EventView& event)
      : processor_(processor), partition_(partition), order_(order), event_(event) {}

  void Emit(CommandKind kind, std::string_view business_key, LinesRef lines) override {
    fb::FlatBufferBuilder& fbb = processor_->fbb_;
    fbb.Clear();
    std::vector<fb::Offset<Line>> line_offsets;
    if (lines.event != nullptr) {
      line_offsets.reserve(lines.event->size());
      for (const Line* l : *lines.event) {
        line_offsets.push_back(CreateLine(fbb, l->line_no(), fbb.CreateString(ToView(l->sku())), l->qty(),
                                          fbb.CreateString(ToView(l->uom())), l->unit_price_minor()));
      }
    } else if (lines.stored != nullptr) {
      line_offsets.reserve(lines.stored->size());
      for (const LineItem& l : *lines.stored) {
        line_offsets.push_back(CreateLine(fbb, l.line_no, fbb.CreateString(l.sku), l.qty, fbb.CreateString(l.uom),
                                          l.unit_price_minor));
      }
    }
    std::string_view company = CompanyCode(*order_, event_);
    MakeCommandId(order_->order_id, kind, business_key, &command_id_);
    auto cmd = CreateErpCommand(
        fbb, fbb.CreateString(command_id_), fbb.CreateString(order_->order_id), fbb.CreateString(event_.correlation_id),
        fbb.CreateString(event_.event_id), fbb.CreateString(company), fbb.CreateString(processor_->router_.Route(company, kind)),
        kind, order_->next_cmd_seq++, fbb.CreateString(business_key), fbb.CreateVector(line_offsets), event_.priority,
        processor_->now_ns_, fbb.CreateString(order_->currency), event_.occurred_at_ns,
        order_->accepted_at_ns);
    FinishErpCommandBuffer(fbb, cmd);
    if (processor_->options_.journal) {
      // Reuses the slots (and their string buffers) of earlier events: no allocation.
      auto& issued = processor_->issued_;
      if (processor_->issued_count_ == issued.size()) issued.emplace_back();
      IssuedCommand& c = issued[processor_->issued_count_++];
      c.command_id = command_id_;
      c.command_kind = static_cast<uint8_t>(kind);
      c.order_cmd_seq = order_->next_cmd_seq - 1;
      c.target = processor_->router_.Route(company, kind);
    }
    processor_->AppendToOutbox(partition_,
                               std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
    Bump(processor_->stats_->commands_emitted);
  }

 private:
  EventProcessor* processor_;
  Partition* partition_;
  OrderState* order_;
  const EventView& event_;
  std::string command_id_;
};

EventProcessor::EventProcessor(const EngineOptions& options, StateStore* store, WorkerStats* stats)
    : options_(options), router_(options.routing), store_(store), stats_(stats), fbb_(1024), state_fbb_(1024) {}

Status EventProcessor::Recover(Partition* p) {
  MetaCountersKey(&key_, p->id());
  Status s = store_->Get(Table::kMeta, key_, &value_);
  if (s.ok()) {
    if (value_.size() < 16) return Status::Corruption("meta counters of partition " + std::to_string(p->id()));
    p->next_outbox_seq = DecodeFixed64(value_.data());
    p->next_exception_seq = DecodeFixed64(value_.data() + 8);
    if (value_.size() >= 24) p->next_journal_seq = DecodeFixed64(value_.data() + 16);
  } else if (!s.IsNotFound()) {
    return s;
  }
  MetaCheckpointKey(&key_, p->id());
  s = store_->Get(Table::kMeta, key_, &value_);
  if (s.ok()) {
    if (value_.size() < 16) return Status::Corruption("checkpoint position of partition " + std::to_string(p->id()));
    const uint64_t ids = DecodeFixed64(value_.data());
    p->checkpoint = LogPosition{static_cast<uint32_t>(ids), static_cast<uint32_t>(ids >> 32),
                                DecodeFixed64(value_.data() + 8)};
  } else if (!s.IsNotFound()) {
    return s;
  }
  std::string lower, upper;
  PartitionRange(p->id(), &lower, &upper);
  auto it = store_->NewIterator(Table::kParked, lower, upper);
  while (!p->deadlines.empty()) p->deadlines.pop();
  if (gate_ != nullptr) gate_->ForgetPartition(p->id());
  int64_t parked = 0;
  for (; it->Valid(); it->Next()) {
    std::string_view order_id, event_id;
    if (!ParseParkedKey(it->key(), &order_id, &event_id)) continue;
    const auto* pe = VerifiedRoot<storage::ParkedEvent>(it->value(), &value_);
    if (pe == nullptr) return Status::Corruption("parked event of order " + std::string(order_id) + " does not verify");
    p->deadlines.push(ParkDeadline{pe->deadline_ns(), std::string(order_id), std::string(event_id)});
    if (gate_ != nullptr) NoteParkedOnRecover(p, order_id, ToView(pe->waiting_for()), pe->envelope());
    ++parked;
  }
  AdjustParked(p, parked - p->parked_count);
  return it->status();
}

Status EventProcessor::LoadOrder(Partition* p, std::string_view order_id, CachedOrder** order) {
  if ((*order = p->FindOrder(order_id)) != nullptr) return Status::OK();
  Bump(stats_->order_cache_misses);
  OrderState state;
  OrderKey(&key_, p->id(), order_id);
  int64_t expire_at = 0;
  Status s = store_->Get(Table::kOrders, key_, &value_);
  if (s.ok()) {
    // A stored order that cannot be read must not silently start afresh: that would
    // renumber its commands. The event fails (not acknowledged) until someone looks.
    ORDERSYNC_RETURN_IF_ERROR(DecodeOrderState(value_, &state, &expire_at));
    if (expire_at < now_ns_) state = OrderState();  // retention passed
  } else if (!s.IsNotFound()) {
    return s;
  }
  state.order_id = std::string(order_id);
  *order = p->InsertOrder(std::move(state));
  return Status::OK();
}

Status EventProcessor::SeenEventId(Partition* p, const OrderState& order, std::string_view event_id,
                                   uint64_t id_hash, bool* seen, uint64_t* fingerprint) {
  if (const SeenEvent* e = order.FindSeen(id_hash)) {
    *seen = true;
    *fingerprint = e->fingerprint;
    return Status::OK();
  }
  *seen = false;
  if (!order.dedup_in_table) return Status::OK();
  // The order's later (or older-format) event ids: the partition cache, then the table.
  *seen = p->FindEventId(event_id, fingerprint);
  if (*seen) return Status::OK();
  Bump(stats_->dedup_store_lookups);
  DedupKey(&key_, p->id(), event_id);
  Status s = store_->Get(Table::kDedup, key_, &value_);
  if (s.IsNotFound()) return Status::OK();
  ORDERSYNC_RETURN_IF_ERROR(s);
  if (value_.size() < 16) return Status::Corruption("dedup entry of event " + std::string(event_id));
  if (static_cast<int64_t>(DecodeFixed64(value_.data())) < now_ns_) return Status::OK();  // window passed
  *fingerprint = DecodeFixed64(value_.data() + 8);
  *seen = true;
  p->RememberEventId(event_id, *fingerprint, /*epoch=*/0);  // durable already
  return Status::OK();
}

void EventProcessor::RememberEventId(Partition* p, CachedOrder* order, const EventView& e, uint64_t id_hash,
                                     StoreBatch* batch) {
  OrderState& state = order->state;
  p->MarkChanged(order, /*state=*/true, now_ns_);  // the order record carries its seen event ids
  if (state.seen.size() < kMaxSeenPerOrder) {
    state.seen.push_back(SeenEvent{id_hash, e.fingerprint});
    return;
  }
  state.dedup_in_table = true;
  DedupKey(&key_, p->id(), e.event_id);
  value_.clear();
  PutFixed64(&value_, static_cast<uint64_t>(now_ns_ + static_cast<int64_t>(options_.dedup_window_s) * kNanosPerSecond));
  PutFixed64(&value_, e.fingerprint);
  batch->Put(Table::kDedup, key_, value_);
  p->RememberEventId(e.event_id, e.fingerprint, epoch_);
}

std::string_view EventProcessor::CompanyCode(const OrderState& order, const EventView& e) {
  return order.accepted && !order.company_code.empty() ? std::string_view(order.company_code) : e.company_code;
}

uint64_t EventProcessor::AppendToOutbox(Partition* p, std::string_view erp_command) {
  const uint64_t seq = p->next_outbox_seq++;
  auto bytes = std::make_shared<const std::string>(erp_command);
  p->pending_commands().push_back(PendingCommand{seq, bytes});
  issued_commands_.push_back(DurableCommand{p->id(), seq, std::move(bytes)});
  return seq;
}

Verdict EventProcessor::Decide(const OrderState& order, const EventView& e) const {
  if (e.source_seq > 0) {
    uint64_t last = order.LastSeq(e.source);
    if (e.source_seq <= last) {
      return Verdict::Exception(FailureClass::kConflictingDuplicate,
                                "source_seq_reused:" + std::string(e.source) + " #" + std::to_string(e.source_seq) +
                                    " was already applied");
    }
    if (e.source_seq > last + 1) return Verdict::Park(Prerequisite::kSourceSeq);
  }
  const LifecycleRule* rule = FindRule(e.kind);
  if (rule == nullptr) return Verdict::Exception(FailureClass::kInvalidInput, "unknown_payload");
  Verdict v = Evaluate(*rule, order, e);
  if (v.kind != Verdict::Kind::kApply) return v;
  std::string_view company = CompanyCode(order, e);
  for (uint8_t i = 0; i < rule->emits_count; ++i) {
    if (router_.Route(company, rule->emits[i]).empty()) {
      return Verdict::Exception(FailureClass::kBusinessRule, "no_route:company_code '" + std::string(company) + "'");
    }
  }
  return v;
}

void EventProcessor::Apply(Partition* p, CachedOrder* order, const EventView& e) {
  OutboxWriter writer(this, p, &order->state, e);
  FindRule(e.kind)->apply(order->state, e, options_, writer);
  if (e.source_seq > 0) order->state.SetLastSeq(e.source, e.source_seq);
  order->state.last_change_ns = now_ns_;
  p->MarkChanged(order, /*state=*/true, now_ns_);
}

void EventProcessor::Park(Partition* p, CachedOrder* order, const EventView& e, std::string_view envelope,
                          Prerequisite waiting_for, int64_t received_at_ns, StoreBatch* batch) {
  const int64_t now = now_ns_;
  ParkedRef ref;
  ref.event_id = std::string(e.event_id);
  ref.kind = e.kind;
  ref.business_key = std::string(e.business_key);
  ref.fingerprint = e.fingerprint;
  ref.source = std::string(e.source);
  ref.source_seq = e.source_seq;
  ref.waiting_for = std::string(PrerequisiteName(waiting_for));
  ref.parked_at_ns = now;
  const uint64_t timeout_s = waiting_for == Prerequisite::kCreditHold ? options_.master_data.credit_hold_timeout_s
                                                                       : options_.ParkTimeoutSeconds(e.kind);
  ref.deadline_ns = now + static_cast<int64_t>(timeout_s) * kNanosPerSecond;
  ref.envelope = std::string(envelope);

  fbb_.Clear();
  auto bytes = fbb_.CreateVector(reinterpret_cast<const uint8_t*>(envelope.data()), envelope.size());
  fbb_.Finish(storage::CreateParkedEvent(fbb_, received_at_ns, fbb_.CreateString(ref.waiting_for), bytes, now,
                                         ref.deadline_ns));
  ParkedKey(&key_, p->id(), e.order_id, e.event_id);
  batch->Put(Table::kParked, key_,
             std::string_view(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize()));
  p->deadlines.push(ParkDeadline{ref.deadline_ns, order->state.order_id, ref.event_id});
  order->state.parked.push_back(std::move(ref));
  p->MarkChanged(order, /*state=*/true, now_ns_);
  AdjustParked(p, +1);
}

void EventProcessor::RecordException(Partition* p, const EventView& e, std::string_view envelope,
                                     std::string_view stage, FailureClass failure_class, std::string_view reason,
                                     StoreBatch* batch) {
  fbb_.Clear();
  auto bytes = fbb_.CreateVector(reinterpret_cast<const uint8_t*>(envelope.data()), envelope.size());
  auto rec = storage::CreateExceptionRecord(fbb_, fbb_.CreateString(e.order_id), fbb_.CreateString(e.event_id),
                                            fbb_.CreateString(stage), fbb_.CreateString(FailureClassName(failure_class)),
                                            fbb_.CreateString(reason), now_ns_, bytes);
  fbb_.Finish(rec);
  SeqKey(&key_, p->id(), p->next_exception_seq++);
  batch->Put(Table::kExceptions, key_,
             std::string_view(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize()));
  Bump(stats_->events_excepted);
  Bump(stats_->exceptions[ExceptionStageIndex(stage)][static_cast<size_t>(failure_class) % kExceptionClasses]);
}

void EventProcessor::Process(Partition* p, std::string_view envelope, int64_t received_at_ns, bool replay,
                             StoreBatch* batch, EventOutcome* outcome, std::string* reason) {
  Bump(stats_->events_processed);
  reason->clear();
  const EventView e = MakeEventView(GetEnvelope(envelope.data()));
  issued_count_ = 0;
  bool order_changed = false;
  CachedOrder* order = ProcessEvent(p, e, envelope, received_at_ns, replay, batch, outcome, reason, &order_changed);
  if (*outcome == EventOutcome::kExcepted) Bump(stats_->events_excepted_on_arrival);
  // Journal the event (and the commands it issued) before any event it unparks.
  if (order != nullptr) JournalEvent(p, order, storage::JournalKind::EventReceived, e, received_at_ns, *outcome, *reason);
  issued_count_ = 0;
  if (order_changed && !order->state.parked.empty()) RunParked(p, order, batch);
}

CachedOrder* EventProcessor::ProcessEvent(Partition* p, const EventView& e, std::string_view envelope,
                                          int64_t received_at_ns, bool replay, StoreBatch* batch,
                                          EventOutcome* outcome, std::string* reason, bool* order_changed) {

  // A store read that fails leaves the event unprocessed and unacknowledged (the producer
  // resends it); guessing "new" could apply a fact twice.
  auto read_failed = [&](const Status& st) {
    *outcome = EventOutcome::kStoreError;
    *reason = st.ToString();
    return nullptr;
  };

  CachedOrder* order = nullptr;
  if (Status st = LoadOrder(p, e.order_id, &order); !st.ok()) return read_failed(st);

  // 1. Exact duplicate: an event_id this order has seen.
  const uint64_t id_hash = HashBytes(e.event_id);
  uint64_t seen_fingerprint = 0;
  bool seen = false;
  if (!replay) {
    if (Status st = SeenEventId(p, order->state, e.event_id, id_hash, &seen, &seen_fingerprint); !st.ok()) {
      return read_failed(st);
    }
  }
  if (seen) {
    if (seen_fingerprint == e.fingerprint) {
      Bump(stats_->duplicates_exact);
      *outcome = EventOutcome::kDuplicateExact;
      *reason = "exact";
      return order;
    }
    RecordException(p, e, envelope, "dedup", FailureClass::kConflictingDuplicate,
                    "event_id_reused:same event_id, different content", batch);
    *outcome = EventOutcome::kExcepted;
    *reason = "conflicting_duplicate:event_id_reused";
    return order;
  }

  // 2. Business duplicate: the same fact (order + kind + business key), applied or parked.
  uint64_t fact_fingerprint = 0;
  bool fact_known = false;
  if (const Fact* f = order->state.FindFact(e.kind, e.business_key)) {
    fact_known = true;
    fact_fingerprint = f->fingerprint;
  } else if (const ParkedRef* r = order->state.FindParked(e.kind, e.business_key)) {
    fact_known = true;
    fact_fingerprint = r->fingerprint;
  }
  if (fact_known) {
    RememberEventId(p, order, e, id_hash, batch);
    if (fact_fingerprint == e.fingerprint) {
      Bump(stats_->duplicates_business);
      *outcome = EventOutcome::kDuplicateBusiness;
      *reason = "business";
      return order;
    }
    RecordException(p, e, envelope, "dedup", FailureClass::kConflictingDuplicate,
                    "business_key_conflict:" + std::string(EnumNameMilestone(e.kind)) + " '" +
                        std::string(e.business_key) + "' was already received with different content",
                    batch);
    *outcome = EventOutcome::kExcepted;
    *reason = "conflicting_duplicate:business_key_conflict";
    return order;
  }

  // 3. Master data (OrderAccepted), sequencing, lifecycle, routing.
  RememberEventId(p, order, e, id_hash, batch);
  if (gate_ != nullptr && e.kind == Milestone::OrderAccepted &&
      CheckMasterData(p, order, e, envelope, received_at_ns, batch, outcome, reason, order_changed)) {
    return order;
  }
  Verdict v = Decide(order->state, e);
  switch (v.kind) {
    case Verdict::Kind::kApply:
      Apply(p, order, e);
      Bump(stats_->events_applied);
      *outcome = EventOutcome::kApplied;
      break;
    case Verdict::Kind::kPark:
      if (order->state.parked.size() >= kMaxParkedPerOrder) {
        RecordException(p, e, envelope, "sequencing", FailureClass::kBusinessRule,
                        "too_many_parked:order has " + std::to_string(kMaxParkedPerOrder) + " parked events", batch);
        *outcome = EventOutcome::kExcepted;
        *reason = "business_rule:too_many_parked";
        return order;
      }
      Park(p, order, e, envelope, v.waiting_for, received_at_ns, batch);
      Bump(stats_->events_parked);
      *outcome = EventOutcome::kParked;
      reason->assign("missing_prerequisite:").append(PrerequisiteName(v.waiting_for));
      return order;  // nothing changed that could unpark others
    case Verdict::Kind::kException: {
      RecordException(p, e, envelope, "lifecycle", v.failure_class, v.reason, batch);
      // An excepted event still consumes its sequence number, or its source would stall.
      if (e.source_seq == order->state.LastSeq(e.source) + 1 && e.source_seq > 0) {
        order->state.SetLastSeq(e.source, e.source_seq);
        p->MarkChanged(order, /*state=*/true, now_ns_);
      }
      *outcome = EventOutcome::kExcepted;
      reason->assign(FailureClassName(v.failure_class)).push_back(':');
      reason->append(v.reason.substr(0, v.reason.find(':')));
      break;
    }
  }
  *order_changed = true;  // applied, or an exception that may have advanced a source cursor
  return order;
}

}  // namespace ordersync
