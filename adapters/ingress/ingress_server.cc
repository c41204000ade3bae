#include "adapters/ingress/ingress_server.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "adapters/ingress/ack_encoder.h"
#include "adapters/ingress/curve_keys.h"
#include "adapters/ingress/quarantine_store.h"
#include "adapters/ingress/rate_limiter.h"
#include "adapters/ingress/zap_handler.h"
#include "concurrentqueue/concurrentqueue.h"
#include "engine/engine_stats.h"  // Bump: single-writer increments
#include "milestone_generated.h"

namespace ordersync {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Longest request id of the reply prefix; no valid Envelope is this short.
constexpr size_t kMaxRequestIdBytes = 32;
// Messages read from one socket before the loop looks at the others (fairness between
// the endpoints and the completion queue).
constexpr int kMessagesPerTurn = 64;
// How long Stop() keeps answering submitted batches.
constexpr auto kStopReplyTimeout = std::chrono::seconds(10);
constexpr int kLingerMs = 1000;
// Batch objects kept for reuse (their vectors keep their capacity).
constexpr size_t kMaxFreeBatches = 64;

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

// Whether a rejected frame's fields may be read: the validator ran the FlatBuffers
// verifier (and it passed) for every code but these.
bool Readable(RejectCode code) {
  return code != RejectCode::kOversizedMessage && code != RejectCode::kTruncatedOrCorrupt &&
         code != RejectCode::kWrongFileIdentifier;
}

// The `source` labels of the throttled counter: the sources named in the startup
// rate-limit config (each once), then "other". The set is fixed at start so the label
// cardinality is bounded by the config, not by what producers put in `source` (a free
// string), and a scrape reads the names without a lock. Sources added by a later reload
// count as "other" until the next restart.
std::vector<std::string> ThrottleLabels(const RateLimitOptions& limits) {
  std::vector<std::string> labels;
  for (const SourceRateLimit& s : limits.sources) {
    if (s.source == kOtherSourceLabel || std::find(labels.begin(), labels.end(), s.source) != labels.end()) continue;
    labels.push_back(s.source);
  }
  labels.emplace_back(kOtherSourceLabel);
  return labels;
}

}  // namespace

class IngressServer::Impl final : public ResultSink {
 public:
  Impl(const IngressOptions& options, const ValidatorOptions& validation, Engine* engine, StateStore* store,
       const Clock* clock, QuarantineWriter* shared_quarantine)
      : quarantine_(shared_quarantine),
        options_(options),
        validation_(validation),
        engine_(engine),
        store_(store),
        clock_(clock),
        limiter_(options.rate_limit),
        throttle_labels_(ThrottleLabels(options.rate_limit)),
        throttled_by_label_(std::make_unique<std::atomic<uint64_t>[]>(throttle_labels_.size())),
        context_(static_cast<int>(std::max<uint32_t>(1, options.io_threads))) {
    for (size_t i = 0; i < throttle_labels_.size(); ++i) {
      throttled_by_label_[i].store(0, std::memory_order_relaxed);
      throttle_index_.emplace(throttle_labels_[i], i);
    }
  }

  ~Impl() override {
    if (wake_fd_ >= 0) ::close(wake_fd_);
    for (Batch* b : free_) delete b;
  }

  Status Open(std::string* ack_endpoint, std::string* pull_endpoint);
  void Run();

  void RequestStop() {
    stop_requested_.store(true, std::memory_order_release);
    Wake();
  }
  void UpdateRateLimits(const RateLimitOptions& limits) {
    {
      std::lock_guard<std::mutex> lock(reload_mu_);
      reload_ = limits;
    }
    reload_pending_.store(true, std::memory_order_release);
    Wake();
  }
  const IngressCounters& counters() const { return counters_; }
  // Throttled events per label of ThrottleLabels (read from any thread).
  void ReadThrottled(std::vector<std::pair<std::string, uint64_t>>* out) const {
    out->clear();
    for (size_t i = 0; i < throttle_labels_.size(); ++i) {
      out->emplace_back(throttle_labels_[i], throttled_by_label_[i].load(std::memory_order_relaxed));
    }
  }
  uint64_t pending_ack_batches() const { return pending_ack_batches_published_.load(std::memory_order_relaxed); }

  // ResultSink: a worker thread reports one submitted event, after its batch is durable.
  void OnEventResult(uint64_t cookie, const EventReport& result) override;

 private:
  struct Batch;
  struct Slot {
    Batch* batch = nullptr;
    uint32_t id_offset = 0;
    uint32_t id_len = 0;
    IngressVerdict status = IngressVerdict::kAccepted;
    uint32_t retry_after_ms = 0;
    std::string reason;  // written by the ingress thread, or by the one worker that reports it
  };
  // One received message. Owned by the ingress thread, except that while `pending` > 0
  // the engine holds views of its frames and workers write the slots of their events.
  struct Batch {
    bool ack = true;  // from the ack endpoint (gets a reply) or the pull endpoint
    zmq::message_t routing_id;
    std::vector<zmq::message_t> prefix;  // reply prefix (see the header)
    std::vector<zmq::message_t> frames;  // [0, frame_count): envelope frames
    size_t frame_count = 0;
    std::vector<const uint8_t*> data;    // per frame: 8-byte aligned bytes
    std::vector<uint64_t> aligned;       // copies of misaligned frames
    std::vector<Slot> slots;             // [0, frame_count)
    std::string ids;                     // echoed event_ids, by offset
    std::atomic<uint32_t> pending{0};    // submitted events without a result, +1 while building
    int64_t received_at_ns = 0;
    std::string peer_address;
    std::string key_name;
    size_t next = 0;                     // pull: next frame to process
  };
  enum class FrameOutcome { kAnswered, kSubmitted, kRetry };

  void Wake() {
    if (!wake_flag_.exchange(true)) {
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    }
  }
  Batch* NewBatch();
  void Recycle(Batch* b);
  bool ReadMessage(zmq::socket_t& socket, Batch* b);
  void Prepare(Batch* b);
  FrameOutcome ProcessFrame(Batch* b, size_t i, uint32_t* retry_after_ms);
  void Reject(Batch* b, size_t i, size_t reason_index, std::string_view reason, const std::string& description,
              const Envelope* readable);
  void CountThrottled(std::string_view source);
  void EchoEventId(Batch* b, Slot& slot, std::string_view event_id);
  void HandleAck(Batch* b);
  void HandlePull(Batch* b);
  void ContinuePull();
  void FinishBuilding(Batch* b);
  void FlushQuarantine();
  void DrainCompletions();
  void SendAck(Batch* b);
  void ApplyReload();

  QuarantineWriter* quarantine_;  // shared, or owned_quarantine_
  std::unique_ptr<QuarantineWriter> owned_quarantine_;
  const IngressOptions options_;
  const ValidatorOptions validation_;
  Engine* const engine_;
  StateStore* const store_;
  const Clock* const clock_;
  RateLimiter limiter_;
  IngressCounters counters_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Throttled events by source label; the labels and the map are immutable after
  // construction, the counters are written by the ingress thread only.
  const std::vector<std::string> throttle_labels_;
  std::unique_ptr<std::atomic<uint64_t>[]> throttled_by_label_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> throttle_index_;

  zmq::context_t context_;
  std::unique_ptr<zmq::socket_t> router_;
  std::unique_ptr<zmq::socket_t> pull_;
  std::unique_ptr<ZapHandler> zap_;
  int wake_fd_ = -1;
  std::atomic<bool> wake_flag_{false};
  moodycamel::ConcurrentQueue<Batch*> completed_;
  std::atomic<bool> stop_requested_{false};

  std::mutex reload_mu_;
  std::optional<RateLimitOptions> reload_;  // GUARDED_BY(reload_mu_)
  std::atomic<bool> reload_pending_{false};

  // Ingress thread only.
  std::vector<Batch*> free_;
  uint64_t outstanding_batches_ = 0;  // batches the engine still holds events of
  uint64_t pending_ack_batches_ = 0;  // ack batches among them
  std::atomic<uint64_t> pending_ack_batches_published_{0};
  Batch* pull_current_ = nullptr;     // pull batch being submitted (stalled when retry set)
  SteadyClock::time_point pull_retry_at_{};
  AckEncoder encoder_;
};

Status IngressServer::Impl::Open(std::string* ack_endpoint, std::string* pull_endpoint) {
  if (quarantine_ == nullptr) {
    Result<std::unique_ptr<QuarantineWriter>> q =
        QuarantineWriter::Open(store_, options_.quarantine, engine_->options().durability);
    if (!q.ok()) return q.status();
    owned_quarantine_ = std::move(q).value();
    quarantine_ = owned_quarantine_.get();
  }

  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status::IOError(std::string("ingress: eventfd: ") + std::strerror(errno));

  const bool curve = !options_.curve_secret_key_file.empty();
  std::string secret;
  if (curve) {
    if (options_.curve_authorized_keys_dir.empty()) {
      return Status::InvalidArgument(
          "ingress.curve_authorized_keys_dir must be set when ingress.curve_secret_key_file is");
    }
    Result<std::string> key = ReadCurveKeyFile(options_.curve_secret_key_file);
    if (!key.ok()) return key.status();
    secret = *key;
    Result<std::map<std::string, std::string>> keys = LoadAuthorizedKeys(options_.curve_authorized_keys_dir);
    if (!keys.ok()) return keys.status();
    if (keys->empty()) {
      spdlog::warn("ingress: no *.pub keys in {}: every producer will be refused",
                   options_.curve_authorized_keys_dir);
    }
    try {
      zap_ = std::make_unique<ZapHandler>(context_, std::move(keys).value(), &counters_);
    } catch (const zmq::error_t& e) {
      return Status::IOError(std::string("ingress: cannot bind the ZAP handler: ") + e.what());
    }
  }
  const int64_t max_frame = std::max<int64_t>(int64_t{1} << 20, int64_t{4} * validation_.max_message_bytes);
  auto make = [&](zmq::socket_type type, const std::string& endpoint, const char* what,
                  std::unique_ptr<zmq::socket_t>* out, std::string* bound) -> Status {
    if (endpoint.empty()) return Status::OK();
    try {
      auto s = std::make_unique<zmq::socket_t>(context_, type);
      s->set(zmq::sockopt::linger, kLingerMs);
      s->set(zmq::sockopt::rcvhwm, static_cast<int>(options_.high_water_mark));
      s->set(zmq::sockopt::sndhwm, static_cast<int>(options_.high_water_mark));
      s->set(zmq::sockopt::maxmsgsize, max_frame);
      if (type == zmq::socket_type::router) s->set(zmq::sockopt::router_mandatory, 1);
      if (curve) {
        s->set(zmq::sockopt::zap_domain, "ordersync");
        s->set(zmq::sockopt::curve_server, 1);
        s->set(zmq::sockopt::curve_secretkey, secret);
      }
      s->bind(endpoint);
      *bound = s->get(zmq::sockopt::last_endpoint);
      *out = std::move(s);
      return Status::OK();
    } catch (const zmq::error_t& e) {
      return Status::IOError(std::string("ingress: cannot bind the ") + what + " endpoint '" + endpoint +
                             "': " + e.what());
    }
  };
  ORDERSYNC_RETURN_IF_ERROR(make(zmq::socket_type::router, options_.ack_endpoint, "ack", &router_, ack_endpoint));
  ORDERSYNC_RETURN_IF_ERROR(make(zmq::socket_type::pull, options_.pull_endpoint, "pull", &pull_, pull_endpoint));
  return Status::OK();
}

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
  const Status s = engine_->Submit(std::move(event), &target_wait_ms);
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

void IngressServer::Impl::HandleAck(Batch* b) {
  counters_.batches_received.fetch_add(1, std::memory_order_relaxed);
  Prepare(b);
  uint32_t unused = 0;
  for (size_t i = 0; i < b->frame_count; ++i) ProcessFrame(b, i, &unused);
  FinishBuilding(b);
}

void IngressServer::Impl::HandlePull(Batch* b) {
  counters_.pull_batches_received.fetch_add(1, std::memory_order_relaxed);
  Prepare(b);
  b->next = 0;
  pull_current_ = b;
  ContinuePull();
}

void IngressServer::Impl::ContinuePull() {
  Batch* b = pull_current_;
  while (b->next < b->frame_count) {
    uint32_t retry_after_ms = 0;
    if (ProcessFrame(b, b->next, &retry_after_ms) == FrameOutcome::kRetry) {
      FlushQuarantine();
      pull_retry_at_ = SteadyClock::now() + std::chrono::milliseconds(std::max<uint32_t>(1, retry_after_ms));
      return;  // stalled: the pull socket is not read until this frame is taken
    }
    ++b->next;
  }
  pull_current_ = nullptr;
  FinishBuilding(b);
}

void IngressServer::Impl::SendAck(Batch* b) {
  encoder_.Begin();
  for (size_t i = 0; i < b->frame_count; ++i) {
    const Slot& s = b->slots[i];
    encoder_.Add(std::string_view(b->ids.data() + s.id_offset, s.id_len), s.status, s.reason, s.retry_after_ms);
  }
  const std::string_view ack = encoder_.Finish();
  try {
    // ROUTER_MANDATORY: an unroutable peer (gone, or its queue full) is an error, not a
    // silent drop, so it can be counted. The producer resends what it did not hear of.
    if (!router_->send(b->routing_id, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      counters_.acks_undeliverable.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    for (zmq::message_t& part : b->prefix) router_->send(part, zmq::send_flags::sndmore);
    router_->send(zmq::message_t(ack.data(), ack.size()), zmq::send_flags::none);
    counters_.acks_sent.fetch_add(1, std::memory_order_relaxed);
    counters_.ack_latency_ns.Record(std::max<int64_t>(0, clock_->NowNanos() - b->received_at_ns));
  } catch (const zmq::error_t& e) {
    counters_.acks_undeliverable.fetch_add(1, std::memory_order_relaxed);
  }
}

void IngressServer::Impl::DrainCompletions() {
  Batch* b = nullptr;
  while (completed_.try_dequeue(b)) {
    --outstanding_batches_;
    if (b->ack) {
      pending_ack_batches_published_.store(--pending_ack_batches_, std::memory_order_relaxed);
      SendAck(b);
    }
    Recycle(b);
  }
}

void IngressServer::Impl::ApplyReload() {
  if (!reload_pending_.exchange(false, std::memory_order_acq_rel)) return;
  std::optional<RateLimitOptions> limits;
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    limits.swap(reload_);
  }
  if (!limits) return;
  limiter_.Update(*limits);
  counters_.rate_limit_reloads.fetch_add(1, std::memory_order_relaxed);
}

void IngressServer::Impl::Run() {
  bool stopping = false;
  bool pull_drained = false;  // stopping: the pull socket had nothing more queued
  SteadyClock::time_point reply_deadline{};
  std::vector<zmq::pollitem_t> items;
  while (true) {
    items.clear();
    items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
    const int zap_at = zap_ ? static_cast<int>(items.size()) : -1;
    if (zap_) items.push_back({zap_->socket().handle(), 0, ZMQ_POLLIN, 0});
    const int router_at = router_ && !stopping ? static_cast<int>(items.size()) : -1;
    if (router_at >= 0) items.push_back({router_->handle(), 0, ZMQ_POLLIN, 0});
    // Stopping still drains what the pull socket holds (fire-and-forget producers were
    // told nothing), until it is empty or the deadline passes.
    const int pull_at =
        pull_ && pull_current_ == nullptr && !(stopping && pull_drained) ? static_cast<int>(items.size()) : -1;
    if (pull_at >= 0) items.push_back({pull_->handle(), 0, ZMQ_POLLIN, 0});

    long timeout_ms = -1;
    if (pull_current_ != nullptr) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(pull_retry_at_ - SteadyClock::now()).count();
      timeout_ms = std::max<long>(0, wait);
    }
    if (stopping) timeout_ms = timeout_ms < 0 ? 100 : std::min<long>(timeout_ms, 100);
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(timeout_ms));

    if (items[0].revents & ZMQ_POLLIN) {
      uint64_t value = 0;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &value, sizeof(value));
      wake_flag_.store(false);
    }
    DrainCompletions();
    ApplyReload();
    if (zap_at >= 0 && (items[zap_at].revents & ZMQ_POLLIN)) zap_->HandleRequest();
    if (router_at >= 0 && (items[router_at].revents & ZMQ_POLLIN)) {
      for (int k = 0; k < kMessagesPerTurn; ++k) {
        Batch* b = NewBatch();
        b->ack = true;
        if (!ReadMessage(*router_, b)) {
          Recycle(b);
          break;
        }
        HandleAck(b);
      }
    }
    if (pull_current_ != nullptr && SteadyClock::now() >= pull_retry_at_) ContinuePull();
    if (pull_at >= 0 && (items[pull_at].revents & ZMQ_POLLIN)) {
      for (int k = 0; k < kMessagesPerTurn && pull_current_ == nullptr; ++k) {
        Batch* b = NewBatch();
        b->ack = false;
        if (!ReadMessage(*pull_, b)) {
          Recycle(b);
          break;
        }
        HandlePull(b);
      }
    }

    if (!stopping && stop_requested_.load(std::memory_order_acquire)) {
      stopping = true;
      reply_deadline = SteadyClock::now() + kStopReplyTimeout;
    }
    if (stopping) {
      if (SteadyClock::now() >= reply_deadline) {
        pull_drained = true;  // late: read no more
      } else if (pull_current_ == nullptr && (pull_at < 0 || !(items[pull_at].revents & ZMQ_POLLIN))) {
        pull_drained = true;
      }
      if (pull_current_ != nullptr && SteadyClock::now() >= reply_deadline) {
        // The engine kept refusing; the remaining frames of this pull batch are dropped.
        Batch* b = pull_current_;
        counters_.pull_dropped_on_stop.fetch_add(b->frame_count - b->next, std::memory_order_relaxed);
        spdlog::warn("ingress: stopping with {} pull events the engine did not take", b->frame_count - b->next);
        b->frame_count = b->next;  // never reply-built; frames beyond are released by Recycle
        pull_current_ = nullptr;
        FinishBuilding(b);
      }
      // Every submitted event gets exactly one result, and the engine still runs: wait
      // for all of them (the engine holds views of the batches' frames).
      if (outstanding_batches_ == 0 && pull_current_ == nullptr && (pull_ == nullptr || pull_drained)) break;
      if (SteadyClock::now() >= reply_deadline + std::chrono::seconds(5)) {
        reply_deadline = SteadyClock::now();
        spdlog::warn("ingress: stopping: still waiting for the engine's results of {} batches", outstanding_batches_);
      }
    }
  }
  router_.reset();
  pull_.reset();
  zap_.reset();
}

IngressServer::IngressServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<IngressServer>> IngressServer::Start(const IngressOptions& options,
                                                            const ValidatorOptions& validation, Engine* engine,
                                                            StateStore* store, const Clock* clock,
                                                            QuarantineWriter* shared_quarantine) {
  auto impl = std::make_unique<Impl>(options, validation, engine, store, clock, shared_quarantine);
  std::string ack, pull;
  ORDERSYNC_RETURN_IF_ERROR(impl->Open(&ack, &pull));
  std::unique_ptr<IngressServer> server(new IngressServer(std::move(impl)));
  server->ack_endpoint_ = std::move(ack);
  server->pull_endpoint_ = std::move(pull);
  // The sockets move to the ingress thread; starting a thread is a full memory barrier,
  // which is what ZeroMQ asks for when a socket changes threads.
  Impl* raw = server->impl_.get();
  server->thread_ = std::thread([raw] { raw->Run(); });
  return server;
}

IngressServer::~IngressServer() { Stop(); }

void IngressServer::Stop() {
  if (!thread_.joinable()) return;
  impl_->RequestStop();
  thread_.join();
}

void IngressServer::UpdateRateLimits(const RateLimitOptions& limits) { impl_->UpdateRateLimits(limits); }

IngressStats IngressServer::Stats() const {
  IngressStats s;
  const IngressCounters& c = impl_->counters();
#define ORDERSYNC_COPY(name) s.name = c.name.load(std::memory_order_relaxed);
  ORDERSYNC_INGRESS_COUNTERS(ORDERSYNC_COPY)
#undef ORDERSYNC_COPY
  s.pending_batches = impl_->pending_ack_batches();
  for (size_t i = 0; i < kIngressRejectReasons; ++i) {
    s.rejected_by_reason[i] = c.rejected_by_reason[i].load(std::memory_order_relaxed);
  }
  impl_->ReadThrottled(&s.throttled_by_source);
  c.ack_latency_ns.AddTo(&s.ack_latency_ns);
  return s;
}

}  // namespace ordersync
