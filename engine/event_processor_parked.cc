// EventProcessor: parked events — reading a parked envelope back, re-running an order's
// parked events once a prerequisite arrives, and timing them out (park_timeout_s, from
// the log record's time). The event path is in event_processor.cc.
#include "engine/event_processor.h"
#include "engine/flatbuffer_record.h"
#include "engine/coding.h"
#include "engine/command_id.h"
#include "engine/hash.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "storage_generated.h"

namespace ordersync {

bool EventProcessor::LoadParkedEnvelope(Partition* p, std::string_view order_id, std::string_view event_id,
                                        std::string* envelope) {
  ParkedKey(&key_, p->id(), order_id, event_id);
  if (!store_->Get(Table::kParked, key_, &stored_).ok()) return false;
  const auto* pe = VerifiedRoot<storage::ParkedEvent>(stored_, &value_);
  if (pe == nullptr || pe->envelope() == nullptr || pe->envelope()->size() == 0) return false;
  envelope->assign(reinterpret_cast<const char*>(pe->envelope()->data()), pe->envelope()->size());
  return true;
}

void EventProcessor::AdjustParked(Partition* p, int64_t delta) {
  p->parked_count += delta;
  stats_->parked_now.fetch_add(delta, std::memory_order_relaxed);
}

void EventProcessor::RunParked(Partition* p, CachedOrder* order, StoreBatch* batch) {
  bool progressed = true;
  while (progressed) {
    progressed = false;
    for (size_t i = 0; i < order->state.parked.size(); ++i) {
      ParkedRef& ref = order->state.parked[i];
      if (IsCreditHold(ref)) continue;  // only a release_hold item releases it
      if (ref.envelope.empty() && !LoadParkedEnvelope(p, order->state.order_id, ref.event_id, &ref.envelope)) {
        continue;  // unreadable now; retried on the order's next change or at its deadline
      }
      const EventView e = MakeEventView(GetEnvelope(ref.envelope.data()));
      Verdict v = Decide(order->state, e);
      if (v.kind == Verdict::Kind::kPark) {
        ref.waiting_for = std::string(PrerequisiteName(v.waiting_for));
        continue;
      }
      // Resolved: take it off the parked list (keeping its bytes alive for `e`).
      ParkedRef resolved = std::move(ref);
      order->state.parked.erase(order->state.parked.begin() + static_cast<ptrdiff_t>(i));
      ParkedKey(&key_, p->id(), order->state.order_id, resolved.event_id);
      batch->Delete(Table::kParked, key_);
      AdjustParked(p, -1);
      issued_count_ = 0;
      if (v.kind == Verdict::Kind::kApply) {
        Apply(p, order, e);
        Bump(stats_->events_unparked);
        JournalEvent(p, order, storage::JournalKind::EventResolved, e, 0, EventOutcome::kApplied, "unparked");
      } else {
        RecordException(p, e, resolved.envelope, "lifecycle", v.failure_class, v.reason, batch);
        if (e.source_seq > 0 && e.source_seq == order->state.LastSeq(e.source) + 1) {
          order->state.SetLastSeq(e.source, e.source_seq);
        }
        reason_scratch_.assign(FailureClassName(v.failure_class)).push_back(':');
        reason_scratch_.append(v.reason);
        JournalEvent(p, order, storage::JournalKind::EventResolved, e, 0, EventOutcome::kExcepted, reason_scratch_);
      }
      p->MarkChanged(order, /*state=*/true, now_ns_);
      progressed = true;
      break;  // the list changed: start over
    }
  }
}

bool EventProcessor::ParkDeadlineDue(const Partition* p) const {
  return !p->deadlines.empty() && p->deadlines.top().deadline_ns <= now_ns_;
}

size_t EventProcessor::ExpireParked(Partition* p, StoreBatch* batch) {
  size_t expired = 0;
  while (!p->deadlines.empty() && p->deadlines.top().deadline_ns <= now_ns_) {
    ParkDeadline d = p->deadlines.top();
    CachedOrder* order = nullptr;
    if (!LoadOrder(p, d.order_id, &order).ok()) break;  // retried at the next sweep
    p->deadlines.pop();
    auto& parked = order->state.parked;
    for (size_t i = 0; i < parked.size(); ++i) {
      if (parked[i].event_id != d.event_id || parked[i].deadline_ns != d.deadline_ns) continue;
      ParkedRef ref = std::move(parked[i]);
      parked.erase(parked.begin() + static_cast<ptrdiff_t>(i));
      if (ref.envelope.empty()) LoadParkedEnvelope(p, d.order_id, ref.event_id, &ref.envelope);
      ParkedKey(&key_, p->id(), d.order_id, ref.event_id);
      batch->Delete(Table::kParked, key_);
      EventView e;
      if (!ref.envelope.empty()) e = MakeEventView(GetEnvelope(ref.envelope.data()));
      e.order_id = d.order_id;
      e.event_id = ref.event_id;
      if (IsCreditHold(ref)) {
        ExpireCreditHold(p, e, ref, batch);
      } else {
        reason_scratch_ = "missing_prerequisite:" + ref.waiting_for;
        RecordException(p, e, ref.envelope, "park_timeout", FailureClass::kMissingPrerequisite, reason_scratch_,
                        batch);
      }
      issued_count_ = 0;
      JournalEvent(p, order, storage::JournalKind::EventResolved, e, 0, EventOutcome::kExcepted, reason_scratch_);
      p->MarkChanged(order, /*state=*/true, now_ns_);
      AdjustParked(p, -1);
      Bump(stats_->park_timeouts);
      ++expired;
      break;
    }
  }
  return expired;
}

}  // namespace ordersync
