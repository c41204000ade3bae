// IngressServer::Impl, the frame half: reading a message into a batch, validating and
// submitting each frame to the EventIntake (the engine, or the cluster front door),
// rejections with their quarantined copy, and the results coming back. See
// ingress_server_impl.h.
#include "adapters/ingress/ingress_server.h"
#include "adapters/ingress/ingress_server_impl.h"

namespace ordersync {

using ingress_internal::Readable;
using ingress_internal::View;
using ingress_internal::kMaxFreeBatches;
using ingress_internal::kMaxRequestIdBytes;

IngressServer::Impl::Batch* IngressServer::Impl::NewBatch() {
  if (free_.empty()) return new Batch();
  Batch* b = free_.back();
  free_.pop_back();
  return b;
}

void IngressServer::Impl::Recycle(Batch* b) {
  for (size_t i = 0; i < b->frame_count; ++i) b->frames[i].rebuild();  // release the frames now
  b->routing_id.rebuild();
  b->prefix.clear();
  b->frame_count = 0;
  b->next = 0;
  if (free_.size() < kMaxFreeBatches) {
    free_.push_back(b);
  } else {
    delete b;
  }
}

bool IngressServer::Impl::ReadMessage(zmq::socket_t& socket, Batch* b) {
  zmq::message_t first;
  if (!socket.recv(first, zmq::recv_flags::dontwait)) return false;
  bool more = first.more();
  size_t n = 0;
  if (b->ack) {
    b->routing_id = std::move(first);
  } else {
    if (b->frames.empty()) b->frames.resize(1);
    b->frames[n++] = std::move(first);
  }
  while (more) {  // the rest of a multipart message is already there
    if (b->frames.size() <= n) b->frames.resize(std::max<size_t>(16, 2 * n));
    if (!socket.recv(b->frames[n], zmq::recv_flags::none)) break;
    more = b->frames[n].more();
    ++n;
  }
  b->frame_count = n;
  // Connection metadata, read once per message.
  b->peer_address.clear();
  b->key_name.clear();
  if (n > 0) {
    if (const char* peer = zmq_msg_gets(b->frames[0].handle(), "Peer-Address")) b->peer_address = peer;
    if (zap_ != nullptr) {
      if (const char* user = zmq_msg_gets(b->frames[0].handle(), "User-Id")) b->key_name = user;
    }
  }
  return true;
}

void IngressServer::Impl::Prepare(Batch* b) {
  b->received_at_ns = clock_->NowNanos();
  // Split off the reply prefix: [empty] or [request-id][empty].
  size_t first = 0;
  if (b->frame_count >= 1 && b->frames[0].size() == 0) {
    first = 1;
  } else if (b->frame_count >= 2 && b->frames[0].size() <= kMaxRequestIdBytes && b->frames[1].size() == 0) {
    first = 2;
  }
  for (size_t i = 0; i < first; ++i) b->prefix.push_back(std::move(b->frames[i]));
  if (first > 0) {
    std::move(b->frames.begin() + static_cast<ptrdiff_t>(first),
              b->frames.begin() + static_cast<ptrdiff_t>(b->frame_count), b->frames.begin());
    b->frame_count -= first;
  }
  const size_t n = b->frame_count;
  if (b->slots.size() < n) b->slots.resize(n);
  if (b->data.size() < n) b->data.resize(n);
  // Frames are used in place when 8-byte aligned (FlatBuffers reads scalars in place);
  // misaligned ones are copied into one arena, sized before anything points into it.
  size_t words = 0;
  for (size_t i = 0; i < n; ++i) {
    if (reinterpret_cast<uintptr_t>(b->frames[i].data()) % 8 != 0) words += (b->frames[i].size() + 7) / 8;
  }
  if (b->aligned.size() < words) b->aligned.resize(words);
  size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    const zmq::message_t& m = b->frames[i];
    if (reinterpret_cast<uintptr_t>(m.data()) % 8 == 0) {
      b->data[i] = static_cast<const uint8_t*>(m.data());
    } else {
      uint8_t* dst = reinterpret_cast<uint8_t*>(b->aligned.data() + at);
      std::memcpy(dst, m.data(), m.size());
      b->data[i] = dst;
      at += (m.size() + 7) / 8;
    }
  }
  b->ids.clear();
  b->pending.store(1, std::memory_order_relaxed);  // the ingress thread's own hold
  counters_.frames_received.fetch_add(n, std::memory_order_relaxed);
}

void IngressServer::Impl::EchoEventId(Batch* b, Slot& slot, std::string_view event_id) {
  if (event_id.empty() || event_id.size() > ValidatorOptions::kMaxEventIdBytes) return;
  slot.id_offset = static_cast<uint32_t>(b->ids.size());
  slot.id_len = static_cast<uint32_t>(event_id.size());
  b->ids.append(event_id);
}

void IngressServer::Impl::Reject(Batch* b, size_t i, size_t reason_index, std::string_view reason,
                                 const std::string& description, const Envelope* readable) {
  Slot& slot = b->slots[i];
  slot.status = IngressVerdict::kRejected;
  slot.reason.assign(reason);
  counters_.rejected.fetch_add(1, std::memory_order_relaxed);
  if (reason_index < kIngressRejectReasons) Bump(counters_.rejected_by_reason[reason_index]);
  QuarantineInput q;
  q.received_at_ns = b->received_at_ns;
  q.endpoint = b->ack ? "ack" : "pull";
  q.reason = reason;
  q.description = description;
  q.routing_id = b->ack ? b->routing_id.to_string_view() : std::string_view();
  q.peer_address = b->peer_address;
  q.curve_key_name = b->key_name;
  if (readable != nullptr) {
    q.source = View(readable->source());
    q.event_id = View(readable->event_id());
    q.order_id = View(readable->order_id());
    EchoEventId(b, slot, q.event_id);
  }
  q.frame_index = static_cast<uint32_t>(i);
  q.frame = b->frames[i].to_string_view();
  quarantine_->Add(q);
}

IngressServer::Impl::FrameOutcome IngressServer::Impl::ProcessFrame(Batch* b, size_t i, uint32_t* retry_after_ms) {
  Slot& slot = b->slots[i];
  slot.batch = b;
  slot.id_len = 0;
  slot.retry_after_ms = 0;
  slot.reason.clear();
  if (i >= options_.max_frames_per_batch) {
    Reject(b, i, kRejectReasonBatchTooLarge, IngressRejectReasonName(kRejectReasonBatchTooLarge),
           "frame " + std::to_string(i) + " of a batch of " + std::to_string(b->frame_count) + "; at most " +
               std::to_string(options_.max_frames_per_batch) + " frames per batch (ingress.max_frames_per_batch)",
           nullptr);
    return FrameOutcome::kAnswered;
  }
  const uint8_t* data = b->data[i];
  const size_t size = b->frames[i].size();
  const Envelope* envelope = nullptr;
  const Rejection rejection = ValidateEnvelope(data, size, validation_, &envelope);
  if (!rejection.ok()) {
    Reject(b, i, RejectReasonIndex(rejection.code), rejection.ToString(), rejection.Describe(),
           Readable(rejection.code) ? GetEnvelope(data) : nullptr);
    return FrameOutcome::kAnswered;
  }
  if (b->ack) EchoEventId(b, slot, View(envelope->event_id()));
  const std::string_view source = View(envelope->source());
  const bool same_day = envelope->priority() == Priority::SameDay;
  auto answer = [&](IngressVerdict status, uint32_t retry, std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
    if (!b->ack) {  // pull: no one to answer; retry later and stop reading meanwhile
      *retry_after_ms = retry;
      return FrameOutcome::kRetry;
    }
    slot.status = status;
    slot.retry_after_ms = retry;
    return FrameOutcome::kAnswered;
  };
  // Too many ack batches waiting for results: Standard events wait outside (Busy);
  // SameDay ones still go to the engine, which keeps them a reserve, up to a hard cap.
  if (b->ack && pending_ack_batches_ >= options_.max_pending_batches &&
      (!same_day || pending_ack_batches_ >= 2ull * options_.max_pending_batches)) {
    slot.reason = "ingress_backlog";
    return answer(IngressVerdict::kBusy, options_.busy_retry_after_ms, counters_.busy);
  }
  const RateDecision rate = limiter_.Acquire(source, b->received_at_ns);
  if (!rate.admitted) {
    CountThrottled(source);
    return answer(IngressVerdict::kThrottled, rate.retry_after_ms, counters_.throttled);
  }

  InboundEvent event;
  event.bytes = EventBuffer(data, size, nullptr, nullptr);  // the batch owns the frame
  event.received_at_ns = b->received_at_ns;
  event.sink = this;
  event.cookie = reinterpret_cast<uint64_t>(&slot);
  b->pending.fetch_add(1, std::memory_order_relaxed);
  uint32_t target_wait_ms = 0;  // set when the event's ERP target is backlogged
  const Status s = intake_->Submit(std::move(event), &target_wait_ms);
  if (s.ok()) return FrameOutcome::kSubmitted;
  b->pending.fetch_sub(1, std::memory_order_relaxed);  // never reaches 0: the ingress holds 1
  limiter_.Refund(source);
  if (b->ack) slot.reason = !s.IsBusy() ? "engine_unavailable" : target_wait_ms > 0 ? "erp_backlogged" : "engine_busy";
  return answer(IngressVerdict::kBusy, std::max(options_.busy_retry_after_ms, target_wait_ms), counters_.busy);
}

void IngressServer::Impl::CountThrottled(std::string_view source) {
  auto it = throttle_index_.find(source);
  Bump(throttled_by_label_[it != throttle_index_.end() ? it->second : throttle_labels_.size() - 1]);
}

void IngressServer::Impl::OnEventResult(uint64_t cookie, const EventReport& result) {
  Slot* slot = reinterpret_cast<Slot*>(cookie);
  switch (result.outcome) {
    case EventOutcome::kApplied:
      slot->status = IngressVerdict::kAccepted;
      break;
    case EventOutcome::kParked:
      slot->status = IngressVerdict::kAccepted;
      slot->reason.assign("parked:").append(result.reason);
      break;
    case EventOutcome::kExcepted:
      slot->status = IngressVerdict::kAccepted;
      slot->reason.assign("exception:").append(result.reason);
      break;
    case EventOutcome::kDuplicateExact:
    case EventOutcome::kDuplicateBusiness:
      slot->status = IngressVerdict::kDuplicate;
      slot->reason.assign(result.reason);
      break;
    case EventOutcome::kLogged:  // cluster mode: in the replicated log; processed later
      slot->status = IngressVerdict::kAccepted;
      slot->reason.assign("logged");
      if (!result.reason.empty()) slot->reason.append(":").append(result.reason);
      break;
    case EventOutcome::kStoreError:
      slot->status = IngressVerdict::kBusy;
      slot->reason.assign("store_error");
      slot->retry_after_ms = options_.store_error_retry_after_ms;
      break;
  }
  if (slot->status == IngressVerdict::kAccepted) {
    counters_.accepted.fetch_add(1, std::memory_order_relaxed);
  } else if (slot->status == IngressVerdict::kDuplicate) {
    counters_.duplicate.fetch_add(1, std::memory_order_relaxed);
  } else {
    counters_.store_errors.fetch_add(1, std::memory_order_relaxed);
    counters_.busy.fetch_add(1, std::memory_order_relaxed);
    if (!slot->batch->ack) {
      spdlog::error("ingress: an event from the pull endpoint was lost: the store refused its batch");
    }
  }
  // The worker that reports a batch's last event hands the batch back to the ingress
  // thread: the release on `pending` and the queue order every slot write before the
  // ingress thread's reads.
  Batch* b = slot->batch;
  if (b->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    completed_.enqueue(b);
    Wake();
  }
}

void IngressServer::Impl::FlushQuarantine() {
  if (quarantine_->empty()) return;
  QuarantineWriter::WriteResult result;
  Status s = quarantine_->Flush(&result);
  if (!s.ok()) {
    counters_.quarantine_errors.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("ingress: cannot write rejected frames to the quarantine: {}", s.ToString());
    return;
  }
  counters_.quarantined.fetch_add(result.written, std::memory_order_relaxed);
  counters_.quarantine_dropped.fetch_add(result.dropped, std::memory_order_relaxed);
}

void IngressServer::Impl::FinishBuilding(Batch* b) {
  // Quarantine before answering: a producer never hears Rejected for an unrecorded frame.
  FlushQuarantine();
  if (b->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    if (b->ack) SendAck(b);
    Recycle(b);
    return;
  }
  ++outstanding_batches_;
  if (b->ack) pending_ack_batches_published_.store(++pending_ack_batches_, std::memory_order_relaxed);
}


}  // namespace ordersync
