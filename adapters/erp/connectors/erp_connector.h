// ErpConnector: one ERP target, reached over its own protocol, behind one small
// asynchronous interface that the outbox dispatcher drives from its loop. HTTP kinds
// (netsuite, sap_s4, d365_bc, oracle_fusion, webhook: http_connector.h) and the ZeroMQ
// kind (zmq_connector.h) implement it.
//
// Contract
//  - Post(command, tag, maybe_posted_before) hands over one ErpCommand (the FlatBuffers
//    buffer of schemas/erp.fbs, copied) and returns at once. Exactly one ErpCompletion
//    with the same tag follows for every Post that returned OK, unless Stop() ran first
//    (then one completion per accepted command, TransientError "connector stopped").
//    A completion ends one *attempt*: the connector never retries on its own beyond the
//    protocol steps of that attempt (token refresh and re-send once on 401, CSRF re-fetch
//    and re-send once on 403, a look-up before posting). Retrying a TransientError with
//    backoff, the circuit breaker and dead-lettering stay with the dispatcher.
//  - Post refuses (Status::Busy) when `capacity()` commands are already in the connector,
//    and refuses (InvalidArgument, no completion) a buffer that is not an ErpCommand or a
//    kind this ERP cannot take (the config loader already refuses routing such a kind).
//  - maybe_posted_before: set it when an earlier attempt of this command may have reached
//    the ERP (any retry, and a first attempt after a restart for a command the outbox
//    still holds). Where the ERP has no idempotent create (SAP, BC, Oracle, NetSuite
//    transforms) the attempt then starts with a look-up of the command id in the ERP
//    (read-before-retry): found -> AlreadyPosted with the existing document number. The
//    connector also remembers, while it runs, which commands had an unknown outcome.
//  - epoch (PostOptions): the fencing epoch of the node that owns the command's partition
//    in cluster mode (docs/cluster.md); > 0 puts an `Ordersync-Epoch: <epoch>` header on
//    every request of the attempt (look-ups, postings, $batch parts), for the ERP's logs
//    and audits: which owner sent it. 0 (single node) sends no header. No idempotency
//    decision rests on it (an old owner's re-send is harmless by command_id).
//  - Completions: the dispatcher waits on wake_fd() (an eventfd, readable while
//    completions are pending; put it in its zmq_poll items) or calls Poll(out, timeout)
//    which waits up to timeout_ms for at least one; Poll appends all pending completions
//    to *out and clears the fd.
//  - status/failure (ErpCompletion): Posted (2xx) and AlreadyPosted (duplicate id, an
//    upsert, an Idempotency-Key replay, a look-up that found the document) remove the
//    command from the outbox; Rejected (400/422 business or validation error) carries the
//    ERP's own message and goes to the DLQ; TransientError carries a FailureClass: kAuth
//    (401/403 after a refresh) should open the circuit and alert rather than dead-letter;
//    kRateLimited/kUnavailable carry retry_after_ms (do not retry sooner; the connector
//    also slows the whole target, see HttpTransportOptions::max_retry_after_ms).
//
// Thread-safety: Post, Poll, wake_fd, capacity, in_flight, Stats and Stop may be called
// from any thread; the dispatcher normally calls Post and Poll from its own thread. Each
// connector runs its I/O on one thread of its own; completions cross to the caller
// through a mutex-protected queue and the eventfd (the write happens after the push, so
// a reader woken by the fd sees the completion).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/erp/connectors/erp_kind.h"
#include "adapters/erp/erp_options.h"
#include "engine/status.h"
#include "erp_generated.h"

namespace ordersync {

// Why an attempt did not post. kNone for Posted / AlreadyPosted.
enum class ErpFailureClass : uint8_t {
  kNone = 0,
  kRateLimited,   // 429 (retry_after_ms set)
  kUnavailable,   // 503 / outage (retry_after_ms set when the ERP said)
  kServerError,   // other 5xx
  kTimeout,       // no answer in time (outcome unknown)
  kConnection,    // could not connect, or the connection broke
  kAuth,          // 401/403 after a token refresh / CSRF re-fetch: credentials or permissions
  kBusiness,      // Rejected: 400/422 with the ERP's message
  kDependency,    // a document the command refers to is missing in the ERP (e.g. its sales order)
  kProtocol,      // an answer the connector could not understand (logged, retried)
  kShutdown,      // the connector stopped before the attempt ended
};

std::string_view ErpFailureClassName(ErpFailureClass c);

struct ErpCompletion {
  uint64_t tag = 0;
  std::string command_id;
  AckStatus status = AckStatus::TransientError;
  ErpFailureClass failure = ErpFailureClass::kNone;
  uint32_t retry_after_ms = 0;  // > 0: the ERP asked to wait this long
  std::string erp_document_id;  // Posted / AlreadyPosted: the ERP's document number
  std::string message;          // the ERP's own message (Rejected), or why it failed
  int http_status = 0;          // status of the attempt's last HTTP answer; 0 = none (zmq too)
  bool looked_up = false;       // a read-before-retry look-up ran in this attempt
  uint32_t http_requests = 0;   // requests this attempt made (token/CSRF fetches excluded)
  int64_t latency_us = 0;       // Post to completion
};

// Counters since start (monotonic) and current gauges, per target.
struct ErpConnectorStats {
  std::string target;
  std::string kind;
  uint64_t accepted = 0;         // Posts that returned OK
  uint64_t posted = 0;
  uint64_t already_posted = 0;
  uint64_t rejected = 0;
  uint64_t transient = 0;        // TransientError completions (all classes)
  uint64_t auth_failures = 0;    // kAuth completions
  uint64_t http_requests = 0;    // every HTTP request sent (token/CSRF fetches included)
  uint64_t http_1xx = 0, http_2xx = 0, http_3xx = 0, http_4xx = 0, http_5xx = 0;
  uint64_t http_429 = 0, http_503 = 0, http_401 = 0, http_403 = 0;
  uint64_t transport_errors = 0;     // no HTTP answer (connect, TLS, broken connection)
  uint64_t timeouts = 0;             // of which timeouts
  uint64_t retry_after_waits = 0;    // times the target paused for a Retry-After
  uint64_t retry_after_wait_ms = 0;  // total pause asked for
  uint64_t token_fetches = 0;        // OAuth tokens obtained (first one and refreshes)
  uint64_t token_refreshes_on_401 = 0;
  uint64_t token_failures = 0;
  uint64_t csrf_fetches = 0;         // SAP CSRF tokens fetched
  uint64_t csrf_refetches_on_403 = 0;
  uint64_t batches = 0;              // $batch requests sent
  uint64_t batched_commands = 0;     // commands in them
  uint64_t batch_size_max = 0;
  // Batch sizes: 1, 2-4, 5-9, 10-19, 20-49, 50+.
  uint64_t batch_size_buckets[6] = {0, 0, 0, 0, 0, 0};
  uint64_t lookups = 0;              // read-before-retry / duplicate look-ups
  uint64_t lookups_found = 0;        // -> AlreadyPosted
  uint64_t lookups_not_found = 0;    // -> posted normally
  uint64_t lookups_failed = 0;       // look-up itself failed (attempt transient)
  uint64_t connections_opened = 0;   // TCP/TLS connections (keep-alive reuse: << requests)
  uint64_t in_flight = 0;            // commands in the connector
  uint64_t requests_in_flight = 0;
  double concurrency_limit = 0;      // current adaptive request limit
};

// How one attempt is to be made (see the contract above).
struct PostOptions {
  bool maybe_posted_before = false;
  uint64_t epoch = 0;  // 0: no Ordersync-Epoch header
};

// The header a cluster owner's fencing epoch travels in (PostOptions::epoch).
inline constexpr std::string_view kEpochHeader = "Ordersync-Epoch";

class ErpConnector {
 public:
  virtual ~ErpConnector() = default;

  [[nodiscard]] virtual Status Post(std::string_view erp_command, uint64_t tag, const PostOptions& options) = 0;
  // Single node: no epoch.
  [[nodiscard]] Status Post(std::string_view erp_command, uint64_t tag, bool maybe_posted_before) {
    return Post(erp_command, tag, PostOptions{maybe_posted_before, 0});
  }
  // Appends pending completions to *out, waiting up to timeout_ms (0: do not wait) for
  // the first. Returns how many were appended.
  virtual size_t Poll(std::vector<ErpCompletion>* out, int timeout_ms) = 0;
  // Readable while completions are pending (eventfd). Owned by the connector.
  virtual int wake_fd() const = 0;
  // Most commands Post accepts at once (in the connector and not completed).
  virtual size_t capacity() const = 0;
  virtual size_t in_flight() const = 0;
  virtual ErpConnectorStats Stats() const = 0;
  // Ends every attempt (kShutdown completions) and joins the I/O thread. Idempotent.
  virtual void Stop() = 0;
};

// The connector for `target` (its kind decides which). Reads secret files and keys, so
// configuration mistakes (missing key file, world-readable secret) fail here, at start.
[[nodiscard]] Result<std::unique_ptr<ErpConnector>> CreateErpConnector(const ErpTargetOptions& target);

}  // namespace ordersync
