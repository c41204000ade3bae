// JetStreamLog: cluster mode's partition log on one NATS JetStream stream
// (/work/notes/cluster_design.md, "The log"; docs/cluster-log.md).
//
// Layout. Stream `options.stream` (file storage, `replicas` copies, duplicate window)
// captures `<prefix>.*.*` and holds the subjects
//   <prefix>.ev.<p>   events of partition p, published by any node's front door: one
//                     LogRecord (engine/log_record.h) with ONE event item of partition p,
//                     header Nats-Msg-Id = event_id (a re-publish within the duplicate
//                     window is acknowledged as a duplicate and not stored again);
//   <prefix>.op.<p>   the owner's inputs for p (notes, timers, hold releases, outbox
//                     appends): a LogRecord whose items are all of partition p, headers
//                     Ordersync-Epoch = the owner's fencing epoch and
//                     Nats-Expected-Last-Subject-Sequence = the op sequence the owner last
//                     knew, so the server refuses the op of an owner that missed another's.
// A partition's records are totally ordered by their stream sequence (the stream is
// shared by all partitions, so a partition's sequences have gaps). The owner applies
// `<prefix>.*.<p>` in sequence order (PartitionReader). The stream subject is the one
// wildcard `<prefix>.*.*` rather than `<prefix>.ev.*` + `<prefix>.op.*` because
// nats-server 2.9 refuses a consumer filter (`<prefix>.*.<p>`) that is not a subset of a
// single stream subject; a message on another `<prefix>.<kind>.<p>` is therefore stored
// too, and the partition's reader reports it as malformed.
//
// Acknowledgement: a publish succeeds once JetStream's PubAck arrived, i.e. the message is
// stored on a quorum of the stream's replicas (written to each server's page cache, not
// fsync'ed: docs/cluster-log.md says what that survives).
//
// Thread-safety: all methods may be called from any thread (nats.c is thread-safe). A
// PartitionReader belongs to one thread at a time; an AsyncEventPublisher's Publish may
// be called from several threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/cluster/nats_connection.h"
#include "adapters/cluster/publish_contexts.h"
#include "engine/status.h"

namespace ordersync {

struct JetStreamLogOptions {
  // Stream name. Default: "ORDERSYNC".
  std::string stream = "ORDERSYNC";
  // Subject prefix: subjects are <prefix>.ev.<p> and <prefix>.op.<p>. Default: "ordersync".
  std::string prefix = "ordersync";
  // Logical partitions 0..partitions-1 (fixed for the cluster's life). Default: 16.
  uint32_t partitions = 16;
  // Copies of every message, 1..5; 3 survives the loss of one server. A changed value is
  // applied to an existing stream. Default: 3.
  int replicas = 3;
  // How long JetStream remembers a Nats-Msg-Id to drop a re-publish of the same event.
  // Longer windows catch later retries at the cost of server memory. Default: 2 min.
  int64_t duplicate_window_ms = 120000;
};

enum class LogSubjectKind : uint8_t { kEvent = 1, kOp = 2 };

struct PublishAck {
  uint64_t sequence = 0;   // stream sequence of the stored message
  bool duplicate = false;  // the Nats-Msg-Id was seen within the window: not stored again
};

// One message of a partition as the reader returns it. Views stay valid until the next
// call of Next on the same reader.
struct LogEntry {
  uint64_t sequence = 0;
  LogSubjectKind kind = LogSubjectKind::kEvent;
  uint32_t partition = 0;
  std::string_view data;
  std::string_view msg_id;  // Nats-Msg-Id ("" if none)
  uint64_t epoch = 0;       // Ordersync-Epoch of an op (0 if none)
  // OK, or Corruption saying why `data` is not a valid record of this subject (not a
  // LogRecord, an item of another partition, not exactly one event on an ev subject, an
  // op without epoch, a subject kind other than ev/op). The caller decides: count and skip it, or stop.
  Status malformed;
};

// Whether `data` is a well-formed record for subject kind `kind` of partition p.
Status ValidateLogRecord(LogSubjectKind kind, uint32_t partition, std::string_view data);

class PartitionReader;
class AsyncEventPublisher;

class JetStreamLog {
 public:
  // `conn` must outlive the log. Creates the stream if it does not exist, or updates its
  // subjects / replicas / duplicate window if they differ.
  static Result<std::unique_ptr<JetStreamLog>> Open(NatsConnection* conn, const JetStreamLogOptions& options);

  // Publishes an event record of partition p with Nats-Msg-Id = event_id and waits for
  // the PubAck. Unavailable when JetStream answers "duplicate" with sequence 0: it knows
  // the id only from a publish it has not stored — in flight, or dropped by a leader
  // change while the id stays in the window (nats-server#5827, #6415); publish again.
  // REQUIRES: p < partitions, event_id non-empty.
  Result<PublishAck> PublishEvent(uint32_t p, std::string_view event_id, std::string_view record);

  // Publishes an owner op of partition p stamped with `epoch`; the server stores it only
  // if the last message on <prefix>.op.<p> has sequence `expected_last_op_seq` (0: there
  // is none). Fenced (IsFenced) when it is refused for that reason.
  Result<PublishAck> PublishOp(uint32_t p, uint64_t epoch, uint64_t expected_last_op_seq, std::string_view record);

  // Reads <prefix>.*.<p> from the first record with sequence > after_seq.
  Result<std::unique_ptr<PartitionReader>> ReadPartition(uint32_t p, uint64_t after_seq);

  // Deletes partition p's records with sequence <= seq, except the last op message (kept
  // so that the op fencing chain stays intact). Other partitions are untouched.
  Status PurgeUpTo(uint32_t p, uint64_t seq);

  // Sequence of partition p's last message (event or op), 0 if it has none: with the
  // sequence an owner applied, the partition's lag is visible.
  Result<uint64_t> LastSequence(uint32_t p);
  // Sequence of partition p's last op (0 if none): what an owner passes as
  // expected_last_op_seq after adopting the partition.
  Result<uint64_t> LastOpSequence(uint32_t p);
  // Partitions holding at least one message, ascending.
  Status PartitionsWithData(std::vector<uint32_t>* out);

  std::string Subject(LogSubjectKind kind, uint32_t p) const;
  const JetStreamLogOptions& options() const { return options_; }
  NatsConnection* connection() const { return conn_; }

 private:
  JetStreamLog(NatsConnection* conn, JetStreamLogOptions options) : conn_(conn), options_(std::move(options)) {}
  Status EnsureStream();
  Result<uint64_t> LastSequenceOf(const std::string& subject);
  NatsConnection* conn_;
  JetStreamLogOptions options_;
};

// Reads one partition in sequence order through an ordered JetStream consumer (which
// re-creates itself from the last delivered sequence when a server is lost).
class PartitionReader {
 public:
  enum class Outcome { kRecord, kNothingNow, kError };
  ~PartitionReader();
  // Waits up to wait_ms for the next record. kNothingNow: none arrived in time (more may
  // come later: call again to keep tailing). kError: see status().
  Outcome Next(LogEntry* entry, int64_t wait_ms);
  const Status& status() const { return status_; }
  // Sequence of the last record returned (or the starting point).
  uint64_t last_sequence() const { return last_seq_; }
  // Messages delivered again at or below last_sequence() and skipped (Next returns each
  // record once, in increasing sequence order).
  uint64_t redeliveries_skipped() const { return redeliveries_skipped_; }

 private:
  friend class JetStreamLog;
  PartitionReader(const JetStreamLog* log, uint32_t p, uint64_t after_seq) : log_(log), partition_(p), last_seq_(after_seq) {}
  const JetStreamLog* log_;
  uint32_t partition_;
  uint64_t last_seq_;
  uint64_t redeliveries_skipped_ = 0;
  natsSubscription* sub_ = nullptr;
  natsMsg* current_ = nullptr;
  Status status_;
};

// The front door's publisher: event records published asynchronously with at most
// NatsOptions::max_async_pending awaiting their PubAck; each completion is reported to
// the callback on a nats.c thread with the context given to its Publish. Completions
// usually come in publish order, but not always (a publish that timed out is reported
// after later ones that were acknowledged): use the context, not the order.
// The caller's context of one asynchronous publish, handed back with its completion.
struct PublishContext {
  void* object = nullptr;
  uint64_t cookie = 0;
};

class AsyncEventPublisher {
 public:
  using Context = PublishContext;
  struct Completion {
    uint32_t partition = 0;
    std::string_view event_id;  // valid during the callback
    Status status;              // OK: stored (or a duplicate); else why not
    PublishAck ack;
    Context context;            // as given to Publish
  };
  using Callback = void (*)(void* closure, const Completion& completion);

  // `log` must outlive the publisher.
  static Result<std::unique_ptr<AsyncEventPublisher>> Create(JetStreamLog* log, Callback callback, void* closure);
  // Waits for the outstanding completions first (each publish times out after
  // request_timeout_ms), so no callback runs after it returns.
  ~AsyncEventPublisher();

  // Queues the publish (the record is copied into the nats.c message). Busy when
  // max_async_pending publishes stayed in flight for async_stall_wait_ms; other errors
  // when it could not be sent. When OK, the callback is called exactly once for it (it
  // may be before Publish returns).
  Status Publish(uint32_t p, std::string_view event_id, std::string_view record, Context context = {});
  // Waits until every queued publish has completed (Unavailable after timeout_ms).
  Status WaitAll(int64_t timeout_ms);
  uint64_t in_flight() const { return published_.load() - completed_.load(); }

 private:
  AsyncEventPublisher(JetStreamLog* log, Callback cb, void* closure);
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);
  JetStreamLog* log_;
  Callback callback_;
  void* closure_;
  std::vector<std::string> subjects_;  // <prefix>.ev.<p>, made once
  PublishContexts<Context> contexts_;  // of the publishes in flight, by message
  jsCtx* js_ = nullptr;
  std::atomic<uint64_t> published_{0}, completed_{0};
};

}  // namespace ordersync
