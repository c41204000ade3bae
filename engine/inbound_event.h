// The hand-off types between an ingress and the engine.
//
// EventBuffer: move-only owner of one frame's bytes, which must be 8-byte aligned
// (FlatBuffers reads scalars in place; an adapter copies a misaligned frame). An adapter can hand over its own
// buffer (e.g. a ZeroMQ message) without a copy by passing an owner and a release
// function; Copy() makes a heap copy for tests and replays.
//
// ResultSink: how an EventIntake (engine/event_intake.h) reports the outcome of each
// submitted event. OnEventResult is called once per event, on a thread of the intake's:
// the engine's worker, only after the batch holding the event's effects is durable (per
// EngineOptions::durability); the cluster front door's nats.c thread, once JetStream
// acknowledged (or refused) the publish. It must not block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "engine/partition_task.h"

namespace ordersync {

class EventBuffer {
 public:
  using ReleaseFn = void (*)(void* owner);

  EventBuffer() = default;
  EventBuffer(const uint8_t* data, size_t size, void* owner, ReleaseFn release)
      : data_(data), size_(size), owner_(owner), release_(release) {}
  EventBuffer(EventBuffer&& o) noexcept { *this = std::move(o); }
  EventBuffer& operator=(EventBuffer&& o) noexcept {
    if (this != &o) {
      Reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      owner_ = std::exchange(o.owner_, nullptr);
      release_ = std::exchange(o.release_, nullptr);
    }
    return *this;
  }
  EventBuffer(const EventBuffer&) = delete;
  EventBuffer& operator=(const EventBuffer&) = delete;
  ~EventBuffer() { Reset(); }

  static EventBuffer Copy(std::string_view bytes) {
    auto* copy = new uint8_t[bytes.size() == 0 ? 1 : bytes.size()];
    std::memcpy(copy, bytes.data(), bytes.size());
    return EventBuffer(copy, bytes.size(), copy, [](void* p) { delete[] static_cast<uint8_t*>(p); });
  }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

 private:
  void Reset() {
    if (release_ != nullptr) release_(owner_);
    data_ = nullptr;
    size_ = 0;
    owner_ = nullptr;
    release_ = nullptr;
  }
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* owner_ = nullptr;
  ReleaseFn release_ = nullptr;
};

// What happened to one event. Ingress maps these onto the wire's EventStatus.
enum class EventOutcome : uint8_t {
  kApplied,            // state changed; commands (if any) are in the outbox
  kParked,             // waiting for a prerequisite; durable; applied later
  kExcepted,           // recorded in the exception queue (reason says which class)
  kDuplicateExact,     // event_id already seen within the dedup window
  kDuplicateBusiness,  // same business fact already applied under another event_id
  kStoreError,         // the batch could not be written; nothing is durable; resend
  // Cluster mode (adapters/cluster/front_door.h): durable in the replicated log (stored
  // on a quorum of JetStream servers); the processing outcome (applied, parked,
  // excepted, duplicate) is decided later by the partition's owner and seen in trace and
  // metrics. Reason "" or "already_in_log" (JetStream's duplicate window caught a resend).
  kLogged,
};
// (The engine-side report is EventReport; the wire's per-frame answer is the
// EventResult table of schemas/ingress.fbs.)

// Wire-ish name: "applied", "parked", ..., "logged".
std::string_view EventOutcomeName(EventOutcome outcome);

struct EventReport {
  EventOutcome outcome;
  // Machine-readable detail: "missing_prerequisite:order_accepted",
  // "business_rule:order_cancelled", ... Empty for kApplied. Valid during the callback.
  std::string_view reason;
};

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void OnEventResult(uint64_t cookie, const EventReport& result) = 0;
};

// One validated event on its way to a partition's worker.
struct InboundEvent {
  EventBuffer bytes;           // REQUIRES: passed ValidateEnvelope
  int64_t received_at_ns = 0;  // when the ingress read it
  ResultSink* sink = nullptr;  // may be null (fire-and-forget)
  uint64_t cookie = 0;         // handed back to the sink
  uint32_t partition = 0;      // set by Engine::Submit
  // A re-drive of an event already seen (exception replay): skips the exact-dedup check
  // on event_id; business dedup still applies, so a fact is never applied twice.
  bool replay = false;
  // Internal: a PartitionTask travelling the same queue (Engine::SubmitTask).
  std::unique_ptr<PartitionTask> task;
};

}  // namespace ordersync
