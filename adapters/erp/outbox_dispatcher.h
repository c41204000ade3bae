// OutboxDispatcher: the ERP fan-out. The engine hands it every command once the command
// is durable in the event log (OutboxListener, in memory); at start it reads the outbox
// the last run left in the store once (cluster mode: per partition, see below). One
// thread sends each ErpCommand to its target through the target's channel
// (target_channel.h; kind zmq: a DEALER per target, one command frame out, one ErpAck
// back, many in flight; the HTTP kinds: the ERP's own API through an ErpConnector,
// http_target_channel.h). A command is done with when the ERP answers Posted or
// AlreadyPosted, or when it is dead-lettered; the dispatcher then tells its host
// (engine/dispatcher_host.h: the Engine on a single node) with a CommandNote
// (DispatcherHost::SubmitNotes), which logs it with its next group commit and drops the
// command from the outbox it checkpoints. Answers, re-sends and dead letters reach each
// order's journal the same way.
//
// Ordering: per partition the commands are staged in outbox_seq order and admitted into
// a bounded window (read_ahead_per_partition). An order's commands are sent one at a
// time, lowest outbox_seq first, the next only after the previous was acknowledged;
// other orders proceed. Within a partition outbox order equals each order's
// order_cmd_seq order (the engine numbers them in the record that issues them), so this
// posts every order in sequence. SameDay commands are sent before Standard ones within a
// target's budget.
//
// Failure classes, each with its counter (DispatcherStats):
//  - TransientError, timeout, no connection: retried with exponential backoff and jitter
//    (RetryPolicy); the command stays in the outbox. Failures feed the target's
//    CircuitBreaker; while it is open nothing is sent to the target. HTTP answers carry
//    a failure class: `rate_limited` (429) is retried no sooner than its Retry-After and
//    is no verdict on the ERP's health (the circuit ignores it); `unavailable` (503) with
//    a Retry-After waits that long too and counts as a failure; `auth` (credentials or
//    permissions refused) opens the circuit at once, is logged as an error and counted
//    (auth_failures, for the alert), and its command waits for the circuit to half-open
//    — never dead-lettered and never counted towards retry.max_attempts/max_age_s.
//  - Rejected: the command and every later command of its order move to the dead-letter
//    queue (dead_letters.h) with the ERP's message, and the order is blocked: commands of
//    it that show up later are dead-lettered too, until `dlq replay`.
//  - Retries exhausted (retry.max_attempts / max_age_s): like Rejected.
// Dead letters are written (durably) before the notes that take their commands out of
// the outbox; a crash in between leaves the command in the outbox, where the order's
// block dead-letters it again at the next start.
// Back-pressure: when a target's backlog (its commands in the window plus those staged)
// reaches outbox_high_water, DispatcherHost::SetTargetBlocked(target, true, hint) makes the
// ingress answer Busy for events routed there, until it falls to outbox_low_water. The
// hint is the wait that makes sense: the open circuit's remaining cool-down, or the time
// to drain the backlog to the low-water mark at the rate the target has really drained
// lately (at most its rate_per_s; a target draining nothing counts as a hundredth of
// it), whichever is longer, within 20 ms – 30 s.
//
// Replay protocol (why it is safe): the dispatcher thread is the only writer of dead
// letters and blocks while it runs. A replay is planned on that thread: it flushes its
// pending writes, stops admitting the partitions concerned, and submits a
// DeadLetterReplayTask per partition to the host (SubmitTask); the task re-appends the letters at
// the end of the outbox (at outbox_seq A) and marks the order Replayed{A, max_seq}. When
// the task is durable the dispatcher resumes. A command of that order before A with
// order_cmd_seq > max_seq was issued while the order was blocked and is dead-lettered
// again (blocking the order behind the replayed ones); the marker is dropped once the
// partition's commands before A have all been taken in. Orders with commands still in
// the window are not replayed (reported as skipped; replay again later).
//
// Restart: everything is recovered from the outbox table (the engine's startup
// checkpoint) and the dead-letter table alone. The first attempt after a restart may
// re-send a command the ERP already posted; it answers AlreadyPosted (the channel is
// told so: maybe_posted_before, and an HTTP connector looks the command up first where
// the ERP has no idempotent create). Attempt counts and circuit state start afresh.
//
//   auto dispatcher = OutboxDispatcher::Create(options, store);   // before Engine::Open
//   auto engine = Engine::Open(engine_options, store, log, clock, dispatcher->get());
//   (*dispatcher)->Start(engine->get());                          // reads the outbox once
//   ...
//   (*dispatcher)->Stop();   // before Engine::Stop: in-flight commands stay in the outbox
//
// Cluster mode (own_all_partitions = false; docs/cluster.md, "ERP dispatch in cluster
// mode"): a node owns only some partitions, each under a fencing epoch, and dispatches
// only those. Start loads and admits nothing. For each partition the node acquires:
//
//   follower.Adopt(p, snapshot, owner_stream);   // the checkpoint's outbox rows → store
//   dispatcher->AdoptPartition(p, epoch);        // loads p's outbox rows and order blocks
//   while (owner) follower.Poll(p, ...);         // hands p's commands (OnCommandsDurable)
//   ...
//   dispatcher->ReleasePartition(p);             // before follower.Release(p)
//
//  - AdoptPartition loads p's rows of the outbox table (marked maybe-sent: an earlier
//    owner may have posted them, so the first attempt tells the channel and the ERP
//    answers AlreadyPosted / the connector looks the command up), recovers p's order
//    blocks from the dead-letter table and starts admitting p. Commands handed over for
//    p afterwards are staged as usual (a re-handed command the load already took is
//    dropped by its outbox_seq), but marked maybe-sent too: while the follower catches
//    up it re-issues commands an earlier owner may have posted, and nothing tells those
//    apart from new ones. The cost: HTTP connectors of ERPs without an idempotent create
//    (SAP, BC, Oracle, NetSuite transforms) look each command up before its first post. Commands handed over for a partition not adopted are
//    dropped and counted (dropped_not_owned): its owner sends them.
//  - ReleasePartition stops admitting p, drops its staged commands and forgets its
//    commands in the window. An attempt already on its way keeps its target's in-flight
//    slot until it ends, and its answer is ignored (late_answers_ignored): no note, no
//    dead letter, no journal line. The next owner sends the command again; its
//    command_id makes that harmless (AlreadyPosted), so the ERP holds one posting.
//  - The epoch is stamped on every attempt: HTTP targets send it as the
//    `Ordersync-Epoch: <epoch>` header of each request (connectors/erp_connector.h,
//    PostOptions); the zmq wire cannot carry it (the ErpCommand frame is sent as the
//    outbox holds it). Each attempt's journal line (`ordersync trace`) starts its reason
//    with "epoch <n>", and debug logs name it. Epoch 0 (single node) stamps nothing.
//  - Replay of dead letters of a partition not adopted here: Unavailable ("partition N
//    is owned by another node") when no partition of the selection is adopted here;
//    otherwise those orders are reported skipped with that reason.
//
// Thread-safety: OnCommandsDurable (any worker thread) is lock-free and never blocks.
// Replay, Purge, AdoptPartition, ReleasePartition and Stats may be called from any
// thread; all but Stats block until the dispatcher thread has done them (one control
// operation at a time, in call order; an adoption waits for a running replay). Start/Stop
// from one controlling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/erp/connectors/erp_connector.h"
#include "adapters/erp/dead_letters.h"
#include "adapters/erp/erp_options.h"
#include "engine/clock.h"
#include "engine/dispatcher_host.h"
#include "engine/engine_options.h"
#include "engine/state_store.h"
#include "engine/stats_histogram.h"
#include "engine/outbox_listener.h"
#include "engine/status.h"

namespace ordersync {

struct DispatcherOptions {
  ErpOptions erp;
  // Partitions of the engine whose outbox is read. REQUIRES: equal to EngineOptions.
  uint32_t partitions = 64;
  // Durability of the dispatcher's own writes (dead letters and order blocks).
  Durability durability = Durability::kWal;
  // Seed of the backoff jitter.
  uint64_t seed = 0x5eed;
  // true (default, a single node): this process owns every partition; Start loads the
  // whole outbox table and admits everything. false (cluster mode): nothing is loaded or
  // admitted until AdoptPartition, and commands of partitions not adopted are dropped
  // (see "Cluster mode" above). Not reloadable.
  bool own_all_partitions = true;
  // Tell the engine about sends, answers and dead letters for each order's journal
  // (engine/journal.h, `ordersync trace`). Mirrors EngineOptions::journal.
  bool journal = true;
  // Called on the dispatcher thread for each Posted / AlreadyPosted answer, with the
  // acknowledged ErpCommand buffer (8-byte aligned: it may be read in place) and the
  // wall-clock time of the answer (ns): feeds the
  // SLO histograms (adapters/metrics/slo_recorder.h). Must not block. Default: none.
  std::function<void(std::string_view erp_command, AckStatus status, int64_t acked_at_ns)> on_acknowledged;
};

// Bucket bounds (inclusive, ns) of a target's post latency: an attempt sent → its ErpAck.
inline constexpr int64_t kErpPostLatencyBoundsNs[] = {
    1'000'000,     2'500'000,     5'000'000,     10'000'000,     25'000'000,     50'000'000,
    100'000'000,   250'000'000,   500'000'000,   1'000'000'000,  2'500'000'000,  5'000'000'000,
    10'000'000'000, 30'000'000'000, 60'000'000'000};

// Counters of one target since start (monotonic) and its current state.
struct TargetStats {
  std::string name;
  std::string endpoint;
  std::string circuit;  // closed | open | half_open
  uint64_t sent = 0;            // attempts that went out (retries included)
  uint64_t retries = 0;         // attempts after the first
  uint64_t posted = 0;          // Posted answers
  uint64_t already_posted = 0;  // AlreadyPosted answers
  uint64_t transient_errors = 0;
  uint64_t timeouts = 0;
  uint64_t no_connection = 0;   // sends refused because the target is not connected
  uint64_t rejected = 0;        // Rejected answers
  uint64_t dead_lettered = 0;   // commands moved to the DLQ (any reason)
  uint64_t circuit_opened = 0;
  uint64_t circuit_closed = 0;
  // HTTP targets (always 0 for zmq): TransientError answers of failure class auth (the
  // ERP refused our credentials or permissions after a token refresh / CSRF re-fetch;
  // each opens the circuit, none dead-letters), of class rate_limited (429), and retries
  // held back to honour the ERP's Retry-After.
  uint64_t auth_failures = 0;
  uint64_t rate_limited = 0;
  uint64_t retry_after_delays = 0;
  uint64_t in_flight = 0;
  uint64_t backlog = 0;         // commands admitted or staged for this target
  bool ingress_blocked = false; // Engine::SetTargetBlocked(name, true) in force
  uint32_t retry_after_ms = 0;  // the wait suggested to producers while blocked
  // HTTP targets: the connector's own counters (HTTP status classes, Retry-After waits,
  // token / CSRF fetches, $batch sizes, read-before-retry look-ups; erp_connector.h).
  bool has_transport_stats = false;
  ErpConnectorStats transport;
  // Per ErpAck of any status that matches a command in delivery: the time from sending
  // its latest attempt to the answer (ns). Read at Stats() time, fresher than the rest.
  HistogramSnapshot post_latency_ns;
};

struct DispatcherStats {
  std::vector<TargetStats> targets;
  uint64_t window = 0;          // commands admitted (in delivery or waiting for their order)
  uint64_t unread = 0;          // commands taken over but not admitted yet (all partitions)
  uint64_t acknowledged = 0;    // commands done with after Posted/AlreadyPosted
  uint64_t blocked_orders = 0;  // orders with a block in force
  uint64_t stale_acks = 0;      // answers for commands no longer waiting for one
  // Ownership (cluster mode; with own_all_partitions every partition counts as adopted).
  uint64_t partitions_adopted = 0;    // partitions dispatched by this node now
  uint64_t dropped_not_owned = 0;     // commands handed over for partitions not adopted here
  uint64_t late_answers_ignored = 0;  // answers to attempts of a partition released meanwhile
};

struct ReplayReport {
  std::vector<ReplayedOrder> orders;
  // Orders not replayed, with why ("commands still in delivery", an error).
  std::vector<std::pair<std::string, std::string>> skipped;
};

class OutboxDispatcher final : public OutboxListener {
 public:
  static Result<std::unique_ptr<OutboxDispatcher>> Create(const DispatcherOptions& options, StateStore* store,
                                                          const Clock* wall_clock = SystemClock::Default());
  ~OutboxDispatcher() override;
  OutboxDispatcher(const OutboxDispatcher&) = delete;
  OutboxDispatcher& operator=(const OutboxDispatcher&) = delete;

  // Connects to the targets and starts the thread; with own_all_partitions it first
  // recovers the order blocks and the outbox of every partition. `host` (the Engine on a
  // single node; outlives the dispatcher's Stop) receives the notes, SetTargetBlocked and
  // replay tasks.
  Status Start(DispatcherHost* host);
  // Stops the thread and closes the sockets. Commands in flight stay in the outbox.
  void Stop();

  // OutboxListener: takes the commands over (moves them out of `commands`).
  void OnCommandsDurable(std::vector<DurableCommand>& commands) override;

  // Cluster mode: starts dispatching `partition` under fencing `epoch` (see above) and
  // waits until its outbox is loaded. Adopting an adopted partition again only raises
  // its epoch (a lower one is InvalidArgument). InvalidArgument with own_all_partitions
  // or for a partition out of range; IOError when the store cannot be read (nothing is
  // adopted then); Unavailable when the dispatcher is not running.
  Status AdoptPartition(uint32_t partition, uint64_t epoch);
  // Cluster mode: stops dispatching `partition` (see above) and waits until it is done.
  // Releasing a partition not adopted is OK.
  Status ReleasePartition(uint32_t partition);

  // Replays the dead letters `filter` selects (per order, see dead_letters.h) and waits
  // until the re-appended commands are durable in the outbox.
  Result<ReplayReport> Replay(const DeadLetterFilter& filter);
  // Deletes the dead letters `filter` selects; orders left without any are unblocked.
  Result<PurgeReport> Purge(const DeadLetterFilter& filter);

  DispatcherStats Stats() const;

 private:
  class Impl;
  explicit OutboxDispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordersync
