// ErpOptions: the ERP fan-out (outbox dispatcher) and its named targets. The TOML [erp]
// table and one [erp.targets.<name>] table per target (with .retry and .circuit_breaker
// sub-tables) map onto these structs field by field; configs/ordersync.toml documents the
// same defaults. None is reloadable: a change takes effect on restart.
//
// Thread-safety: plain values; copy freely, share read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "adapters/erp/connectors/http_target_options.h"

namespace ordersync {

// How a command whose attempt failed transiently (TransientError, timeout, no connection)
// is retried. The command stays in the outbox meanwhile; nothing is dropped.
struct RetryOptions {
  // Delay before the 2nd attempt, in ms; each further attempt multiplies it by
  // multiplier_pct / 100 up to max_backoff_ms. Default: 100.
  uint32_t initial_backoff_ms = 100;
  // Longest delay between two attempts, in ms. Default: 30000.
  uint32_t max_backoff_ms = 30000;
  // Growth per attempt in percent (200 = doubling). Default: 200.
  uint32_t multiplier_pct = 200;
  // Random jitter: each delay is reduced by up to this percentage, so that commands that
  // failed together do not retry together. Default: 20.
  uint32_t jitter_pct = 20;
  // Attempts after which a command is dead-lettered (reason retries_exhausted); 0 = no
  // limit. Counted since the dispatcher last started. Default: 0.
  uint32_t max_attempts = 0;
  // Age (since its first attempt in this run) after which a still failing command is
  // dead-lettered (reason retries_exhausted); 0 = no limit. Default: 86400 (one day).
  uint32_t max_age_s = 86400;
};

// When a target is considered down, so that the dispatcher stops sending to it (commands
// wait in the outbox) and probes it again later.
struct CircuitBreakerOptions {
  // Opens after this many transient failures in a row (errors, timeouts, no connection).
  // Default: 20.
  uint32_t consecutive_failures = 20;
  // Also opens when at least this percentage of the last `window` attempts failed
  // transiently; 0 disables the rate test. Default: 50.
  uint32_t error_rate_pct = 50;
  // Attempts the error rate is computed over (the rate test needs a full window).
  // Default: 100.
  uint32_t window = 100;
  // How long an open circuit waits before letting probes through (half-open), in ms.
  // Default: 5000.
  uint32_t cooldown_ms = 5000;
  // Commands let through while half-open; all must succeed to close the circuit, one
  // failure opens it again. Default: 1.
  uint32_t half_open_probes = 1;
};

// One ERP target: an adapter behind a ZeroMQ ROUTER socket (kind "zmq"), or an ERP's own
// HTTP API (the other kinds, adapters/erp/connectors/erp_kind.h).
struct ErpTargetOptions {
  // The target's name as used by [routing] (the TOML table name); letters, digits, '-'
  // and '_'. Default: "erp".
  std::string name = "erp";
  // How the target is reached: "zmq" (ErpCommand/ErpAck over ZeroMQ, `endpoint`),
  // "netsuite", "sap_s4", "d365_bc", "oracle_fusion" or "webhook" (HTTPS, `http`; see
  // adapters/erp/connectors/erp_connector.h). Default: "zmq".
  std::string kind = "zmq";
  // ZeroMQ endpoint of the target's ROUTER socket; the dispatcher connects a DEALER to
  // it. Default: "tcp://127.0.0.1:7200".
  std::string endpoint = "tcp://127.0.0.1:7200";
  // Token bucket: sustained commands per second (attempts, retries included). Default: 1000.
  uint32_t rate_per_s = 1000;
  // Token bucket: commands that may go out at once after an idle spell. Default: 100.
  uint32_t burst = 100;
  // Most commands sent and not yet answered (the in-flight window). Default: 256.
  uint32_t max_in_flight = 256;
  // How long one attempt waits for the ERP's answer before it counts as a timeout
  // (a transient failure), in ms. Default: 5000.
  uint32_t timeout_ms = 5000;
  // When the target's outbox backlog reaches this many commands, the ingress answers Busy
  // for events routed to it (Engine::SetTargetBlocked) ... Default: 100000.
  uint32_t outbox_high_water = 100000;
  // ... until the backlog falls to this many (hysteresis). REQUIRES: <= outbox_high_water.
  // Default: 80000.
  uint32_t outbox_low_water = 80000;
  RetryOptions retry;
  CircuitBreakerOptions circuit_breaker;
  // HTTP kinds only: transport, auth, document fields and the company map.
  HttpTargetOptions http;
};

struct ErpOptions {
  // Commands per partition the dispatcher admits for delivery at once (in flight, or
  // waiting for an earlier command of their order); the rest wait staged in outbox
  // order, bounded by the targets' outbox_high_water back-pressure. Larger lets more
  // orders proceed in parallel behind a slow one. Default: 512.
  uint32_t read_ahead_per_partition = 512;
  // The targets, one [erp.targets.<name>] table each. A config that has [erp.targets]
  // replaces the whole set. Default: one target "erp" at tcp://127.0.0.1:7200.
  std::vector<ErpTargetOptions> targets = {ErpTargetOptions{}};

  // The target called `name`, or null.
  const ErpTargetOptions* FindTarget(const std::string& name) const {
    for (const ErpTargetOptions& t : targets) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }
};

}  // namespace ordersync
