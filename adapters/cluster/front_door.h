// ClusterFrontDoor: a cluster node's EventIntake (engine/event_intake.h). The node's
// ingresses (ZeroMQ, HTTP, EDI) hand it their validated events, as they hand them to the
// Engine on a single node; instead of applying an event it publishes it to the
// replicated log (adapters/cluster/jetstream_log.h), from where the partition's owner
// applies it (docs/cluster.md, "Front door").
//
// Per event, on the caller's thread, without locks of its own:
//   partition p = PartitionOf(order_id, partitions)           (engine/hash.h, as the engine)
//   record      = a one-item LogRecord (engine/log_record.h) holding the event item exactly
//                 as a worker logs it: now = the intake time, the event's received_at_ns
//                 and replay flag, the envelope (copied once, into the record), and for an
//                 OrderAccepted the master-data verdict when checks are on, decided here
//                 with the same function the worker's gate uses (EvaluateMasterData against
//                 the source's current snapshot): the owner applies the event by the
//                 recorded verdict (engine/log_apply.h), never by the data it has loaded
//   publish     = subject <prefix>.ev.<p>, Nats-Msg-Id = event_id (AsyncEventPublisher)
// and later, on a nats.c thread, the event's ResultSink gets
//   kLogged     once JetStream acknowledged the publish (stored on a quorum of the
//               stream's replicas); reason "already_in_log" when JetStream's duplicate
//               window recognised the event_id (an earlier publish of it is stored);
//   kStoreError ("not durable: resend") when JetStream refused the publish or its ack did
//               not come within NatsOptions::request_timeout_ms; reason = the NATS error;
//               also when JetStream answered "duplicate" with sequence 0: it saw the
//               event_id in a publish it has not stored — still in flight, or dropped by a
//               leader change while the id stays in the window (nats-server#5827, #6415)
//               — reason kUnconfirmedDuplicateReason. Only a duplicate ack naming the
//               stored sequence is a confirmation.
// A producer that resends after a store error (or a lost answer) resends the same
// event_id: within the stream's duplicate window JetStream stores it once; outside it the
// log holds it twice and the owner's exact dedup (event_id) answers the second copy
// Duplicate without effect. Either way nothing is applied twice.
//
// Submit answers Busy (with *retry_after_ms = busy_retry_after_ms) when max_in_flight
// publishes await their ack (the ingress answers Busy: the producer slows down), and
// Unavailable after Stop or when the publish could not be sent at all.
//
// What the front door does NOT know: the processing outcome (applied, parked, excepted,
// duplicate) — the owner decides it later; trace and metrics show it.
//
// Thread-safety: Submit, durability and Stats from any thread, concurrently (nats.c is
// thread-safe; the record builder is per thread). Stop and the destructor from one
// controlling thread, after the ingresses using it stopped. The log (and its connection),
// the master-data source and the clock must outlive the front door.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "adapters/cluster/jetstream_log.h"
#include "engine/clock.h"
#include "engine/engine_options.h"
#include "engine/event_intake.h"
#include "engine/master_data.h"
#include "engine/status.h"

namespace ordersync {

// The reason of a kStoreError for a "duplicate" ack without a sequence (see above).
inline constexpr const char* kUnconfirmedDuplicateReason =
    "not confirmed: JetStream answered duplicate without a stored sequence (an earlier publish of this "
    "event_id is in flight or was dropped); resend";

struct ClusterFrontDoorOptions {
  // The master-data checks whose verdict is recorded with each OrderAccepted: the
  // engine's [engine.master_data] (all nodes must use the same). Default: all off.
  MasterDataCheckOptions master_data;
  // How this node writes what it keeps locally (the ingresses' quarantine of rejected
  // input). Default: kWal.
  Durability durability = Durability::kWal;
  // Publishes awaiting their JetStream ack beyond which Submit answers Busy. 0: the
  // connection's NatsOptions::max_async_pending (nats.c would block the caller there).
  // Default: 0.
  uint32_t max_in_flight = 0;
  // The retry_after_ms suggested with that Busy. Default: 50 ms.
  uint32_t busy_retry_after_ms = 50;
};

// Counters since start; each is monotonic.
struct ClusterFrontDoorStats {
  uint64_t published = 0;       // publishes sent (Submit answered OK)
  uint64_t logged = 0;          // acknowledged by JetStream (reported kLogged)
  uint64_t already_logged = 0;  // of those, duplicates of an event_id in the window
  uint64_t failed = 0;          // refused or timed out (reported kStoreError)
  // "duplicate" acks without a sequence (reported kStoreError, kUnconfirmedDuplicateReason)
  uint64_t unconfirmed_duplicates = 0;
  uint64_t busy = 0;            // Submit answered Busy (too many in flight)
  uint64_t unavailable = 0;     // Submit answered another error (stopped, not sent)
  uint64_t in_flight = 0;       // publishes awaiting their ack now
};

class ClusterFrontDoor final : public EventIntake {
 public:
  // `master_data` may be null (checks that are on see an empty snapshot, as the engine's
  // gate does).
  static Result<std::unique_ptr<ClusterFrontDoor>> Create(JetStreamLog* log, const ClusterFrontDoorOptions& options,
                                                          const MasterDataSource* master_data = nullptr,
                                                          const Clock* clock = SystemClock::Default());
  // Stop(), waiting as long as a publish can stay unanswered.
  ~ClusterFrontDoor() override;
  ClusterFrontDoor(const ClusterFrontDoor&) = delete;
  ClusterFrontDoor& operator=(const ClusterFrontDoor&) = delete;

  // See above. REQUIRES: event.bytes passed ValidateEnvelope.
  [[nodiscard]] Status Submit(InboundEvent&& event, uint32_t* retry_after_ms) override;
  Durability durability() const override { return options_.durability; }

  // Refuses further events (Unavailable) and waits until every publish was answered
  // (Unavailable when some were not within timeout_ms). Idempotent.
  Status Stop(int64_t timeout_ms);

  ClusterFrontDoorStats Stats() const;
  uint32_t partitions() const { return partitions_; }

 private:
  ClusterFrontDoor(JetStreamLog* log, const ClusterFrontDoorOptions& options, const MasterDataSource* master_data,
                   const Clock* clock);
  static void OnCompletion(void* closure, const AsyncEventPublisher::Completion& completion);
  // The master data in force (the empty snapshot without a source). Caller's thread.
  const MasterDataSnapshot& CurrentSnapshot() const;

  const ClusterFrontDoorOptions options_;
  JetStreamLog* const log_;
  const MasterDataSource* const master_data_;
  const Clock* const clock_;
  const uint32_t partitions_;
  const uint64_t max_in_flight_;
  const uint64_t id_;  // unique in the process: keys the per-thread snapshot cache
  std::shared_ptr<const MasterDataSnapshot> empty_snapshot_;  // when master_data_ is null
  std::unique_ptr<AsyncEventPublisher> publisher_;
  std::atomic<bool> accepting_{true};
  std::atomic<uint64_t> published_{0}, logged_{0}, already_logged_{0}, failed_{0}, busy_{0}, unavailable_{0};
  std::atomic<uint64_t> unconfirmed_{0};
};

}  // namespace ordersync
