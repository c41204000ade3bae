// EventIntake: where an ingress (ZeroMQ, HTTP, EDI) hands its validated events. Two
// implementations:
//   - Engine (engine/engine.h): single node; the event is applied by its partition's
//     worker and reported once its log record is durable on this node
//     (kApplied / kParked / kExcepted / kDuplicate* / kStoreError);
//   - ClusterFrontDoor (adapters/cluster/front_door.h): cluster mode; the event is
//     published to its partition's subject of the replicated log and reported kLogged
//     once JetStream acknowledged it (stored on a quorum), or kStoreError.
//
// Contract of Submit, for both:
//   - REQUIRES: event.bytes passed ValidateEnvelope.
//   - OK: the intake took the event; event.sink (if any) gets exactly one
//     OnEventResult(event.cookie, ...) later, on a thread of the intake's (a worker, a
//     nats.c thread) — possibly before Submit returns. The ingress must keep the event's
//     bytes alive until that result (an EventBuffer without owner points into the
//     ingress's frame).
//   - Busy: back-pressure (a full queue, a backlogged ERP target, too many publishes in
//     flight); nothing was taken and no result will come; the ingress answers Busy. When
//     the intake knows how long to wait it sets *retry_after_ms (may be null), else it
//     leaves it alone.
//   - Other errors (Unavailable: stopping, the log unreachable): nothing was taken, no
//     result will come.
//
// Thread-safety: Submit and durability may be called from any thread, concurrently.
#pragma once

#include <cstdint>

#include "engine/engine_options.h"
#include "engine/inbound_event.h"
#include "engine/status.h"

namespace ordersync {

class EventIntake {
 public:
  virtual ~EventIntake() = default;

  [[nodiscard]] virtual Status Submit(InboundEvent&& event, uint32_t* retry_after_ms) = 0;

  // How hard this node writes what it keeps locally (the ingresses write their
  // quarantined copies of rejected input with it).
  virtual Durability durability() const = 0;
};

}  // namespace ordersync
