// IngressServer::Impl: the ingress thread's state (private to adapters/ingress). The
// public contract is in ingress_server.h; the implementation is split by job:
//
//   ingress_server.cc   sockets, the loop, answering batches, reloads, the public API
//   ingress_frames.cc   reading a message into a batch, validating and submitting its
//                       frames, rejections and quarantine, the engine's results
//
// Everything runs on the ingress thread except OnEventResult (engine workers): it writes
// only its own event's slot and the atomic counters, and the worker that reports a batch's
// last event pushes the batch to the completion queue; the stats read the atomics.
#pragma once

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
namespace ingress_internal {

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

inline std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

// Whether a rejected frame's fields may be read: the validator ran the FlatBuffers
// verifier (and it passed) for every code but these.
inline bool Readable(RejectCode code) {
  return code != RejectCode::kOversizedMessage && code != RejectCode::kTruncatedOrCorrupt &&
         code != RejectCode::kWrongFileIdentifier;
}

// The `source` labels of the throttled counter: the sources named in the startup
// rate-limit config (each once), then "other". The set is fixed at start so the label
// cardinality is bounded by the config, not by what producers put in `source` (a free
// string), and a scrape reads the names without a lock. Sources added by a later reload
// count as "other" until the next restart.
inline std::vector<std::string> ThrottleLabels(const RateLimitOptions& limits) {
  std::vector<std::string> labels;
  for (const SourceRateLimit& s : limits.sources) {
    if (s.source == kOtherSourceLabel || std::find(labels.begin(), labels.end(), s.source) != labels.end()) continue;
    labels.push_back(s.source);
  }
  labels.emplace_back(kOtherSourceLabel);
  return labels;
}

}  // namespace ingress_internal

class IngressServer::Impl final : public ResultSink {
 public:
  using SteadyClock = ingress_internal::SteadyClock;
  Impl(const IngressOptions& options, const ValidatorOptions& validation, EventIntake* intake, StateStore* store,
       const Clock* clock, QuarantineWriter* shared_quarantine)
      : quarantine_(shared_quarantine),
        options_(options),
        validation_(validation),
        intake_(intake),
        store_(store),
        clock_(clock),
        limiter_(options.rate_limit),
        throttle_labels_(ingress_internal::ThrottleLabels(options.rate_limit)),
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
  EventIntake* const intake_;
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

}  // namespace ordersync
