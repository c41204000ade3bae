// EventProcessor: the master-data part (engine/master_data_gate.h) — the check of an
// OrderAccepted at intake, credit holds (park, release, expiry) and the held-orders index
// on recovery. Kept apart from event_processor.cc, which calls it from one place per
// concern (ProcessEvent, RunParked, ExpireParked, Recover).
#include "engine/event_processor.h"
#include "engine/keys.h"
#include "storage_generated.h"

namespace ordersync {
namespace {

std::string_view CustomerOf(const EventView& e) {
  if (e.envelope == nullptr || e.kind != Milestone::OrderAccepted) return {};
  return ToView(e.envelope->payload_as_OrderAccepted()->customer_id());
}

}  // namespace

bool EventProcessor::IsCreditHold(const ParkedRef& ref) {
  return ref.kind == Milestone::OrderAccepted && ref.waiting_for == PrerequisiteName(Prerequisite::kCreditHold);
}

bool EventProcessor::CheckMasterData(Partition* p, CachedOrder* order, const EventView& e, std::string_view envelope,
                                     int64_t received_at_ns, StoreBatch* batch, EventOutcome* outcome,
                                     std::string* reason, bool* order_changed) {
  const MasterDataVerdict& v = gate_->Decide(e);
  switch (v.kind) {
    case MasterDataVerdict::Kind::kNone:
    case MasterDataVerdict::Kind::kPass:
      return false;
    case MasterDataVerdict::Kind::kException:
      RecordException(p, e, envelope, "master_data", v.failure_class, v.reason, batch);
      // Like a lifecycle exception, it consumes its sequence number.
      if (e.source_seq > 0 && e.source_seq == order->state.LastSeq(e.source) + 1) {
        order->state.SetLastSeq(e.source, e.source_seq);
        p->MarkChanged(order, /*state=*/true, now_ns_);
        *order_changed = true;
      }
      *outcome = EventOutcome::kExcepted;
      reason->assign(FailureClassName(v.failure_class)).push_back(':');
      reason->append(std::string_view(v.reason).substr(0, v.reason.find(':')));
      return true;
    case MasterDataVerdict::Kind::kHold:
      if (order->state.parked.size() >= kMaxParkedPerOrder) {
        RecordException(p, e, envelope, "sequencing", FailureClass::kBusinessRule,
                        "too_many_parked:order has " + std::to_string(kMaxParkedPerOrder) + " parked events", batch);
        *outcome = EventOutcome::kExcepted;
        *reason = "business_rule:too_many_parked";
        return true;
      }
      Park(p, order, e, envelope, Prerequisite::kCreditHold, received_at_ns, batch);
      gate_->OnHeld(p->id(), CustomerOf(e), e.order_id);
      Bump(stats_->events_parked);
      *outcome = EventOutcome::kParked;
      reason->assign(PrerequisiteName(Prerequisite::kCreditHold));
      return true;
  }
  return false;
}

size_t EventProcessor::ReleaseHolds(Partition* p, std::string_view customer_id, StoreBatch* batch) {
  if (gate_ == nullptr) return 0;
  size_t released = 0;
  for (const std::string& order_id : gate_->HeldOrders(p->id(), customer_id)) {
    CachedOrder* order = nullptr;
    if (!LoadOrder(p, order_id, &order).ok()) continue;  // stays held; its deadline still runs
    auto& parked = order->state.parked;
    size_t i = 0;
    while (i < parked.size() && !IsCreditHold(parked[i])) ++i;
    if (i == parked.size()) {  // released or expired meanwhile
      gate_->OnUnheld(p->id(), customer_id, order_id);
      continue;
    }
    if (parked[i].envelope.empty() && !LoadParkedEnvelope(p, order_id, parked[i].event_id, &parked[i].envelope)) {
      continue;  // unreadable now: stays held (a later release or its deadline decides)
    }
    ParkedRef ref = std::move(parked[i]);
    parked.erase(parked.begin() + static_cast<ptrdiff_t>(i));
    ParkedKey(&key_, p->id(), order_id, ref.event_id);
    batch->Delete(Table::kParked, key_);
    AdjustParked(p, -1);
    gate_->OnUnheld(p->id(), customer_id, order_id);
    Bump(stats_->credit_holds_released);
    ++released;

    const EventView e = MakeEventView(GetEnvelope(ref.envelope.data()));
    issued_count_ = 0;
    Verdict v = Decide(order->state, e);
    switch (v.kind) {
      case Verdict::Kind::kApply:
        Apply(p, order, e);
        Bump(stats_->events_unparked);
        JournalEvent(p, order, storage::JournalKind::EventResolved, e, 0, EventOutcome::kApplied,
                     "credit_hold_released");
        break;
      case Verdict::Kind::kPark:  // e.g. an earlier source_seq still missing
        Park(p, order, e, ref.envelope, v.waiting_for, now_ns_, batch);
        reason_scratch_.assign("credit_hold_released, missing_prerequisite:").append(PrerequisiteName(v.waiting_for));
        JournalEvent(p, order, storage::JournalKind::EventResolved, e, 0, EventOutcome::kParked, reason_scratch_);
        break;
      case Verdict::Kind::kException:
        RecordException(p, e, ref.envelope, "lifecycle", v.failure_class, v.reason, batch);
        if (e.source_seq > 0 && e.source_seq == order->state.LastSeq(e.source) + 1) {
          order->state.SetLastSeq(e.source, e.source_seq);
        }
        reason_scratch_.assign(FailureClassName(v.failure_class)).push_back(':');
        reason_scratch_.append(v.reason);
        JournalEvent(p, order, storage::JournalKind::EventResolved, e, 0, EventOutcome::kExcepted, reason_scratch_);
        break;
    }
    p->MarkChanged(order, /*state=*/true, now_ns_);
    if (!order->state.parked.empty()) RunParked(p, order, batch);
  }
  return released;
}

void EventProcessor::ExpireCreditHold(Partition* p, const EventView& e, const ParkedRef& ref, StoreBatch* batch) {
  const std::string_view customer = CustomerOf(e);
  reason_scratch_.assign("credit_hold_expired:customer '")
      .append(customer)
      .append("' still on credit hold after ")
      .append(std::to_string((ref.deadline_ns - ref.parked_at_ns) / kNanosPerSecond))
      .append(" s");
  RecordException(p, e, ref.envelope, "master_data", FailureClass::kMasterData, reason_scratch_, batch);
  if (gate_ != nullptr) gate_->OnUnheld(p->id(), customer, e.order_id);
}

void EventProcessor::NoteParkedOnRecover(Partition* p, std::string_view order_id, std::string_view waiting_for,
                                         const flatbuffers::Vector<uint8_t>* envelope) {
  if (waiting_for != PrerequisiteName(Prerequisite::kCreditHold) || envelope == nullptr || envelope->size() == 0) {
    return;
  }
  // Copied: the envelope is read in place and needs 8-byte alignment (heap strings have it).
  stored_.assign(reinterpret_cast<const char*>(envelope->data()), envelope->size());
  const Envelope* env = GetEnvelope(stored_.data());
  if (env->payload_type() != Milestone::OrderAccepted) return;
  gate_->OnHeld(p->id(), ToView(env->payload_as_OrderAccepted()->customer_id()), order_id);
}

}  // namespace ordersync
