#include "adapters/cluster/log_positions.h"

#include <algorithm>
#include <memory>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/nats_connection.h"

namespace ordersync {
namespace {

// Sequence of the last message on `subject` in `stream`, 0 if there is none.
Result<uint64_t> LastSequenceOf(NatsConnection* conn, const std::string& stream, const std::string& subject) {
  natsMsg* m = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&m, conn->js(), stream.c_str(), subject.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) return uint64_t{0};
  if (s != NATS_OK) return NatsError("last message of " + subject, s, jerr);
  const uint64_t seq = natsMsg_GetSequence(m);
  natsMsg_Destroy(m);
  return seq;
}

}  // namespace

Result<std::vector<PartitionLogPosition>> ReadLogPositions(const LogPositionsOptions& options, uint32_t partitions) {
  NatsOptions no;
  no.urls = options.nats_urls;
  no.name = "ordersync-cluster-status";
  no.connect_timeout_ms = options.timeout_ms;
  no.request_timeout_ms = options.timeout_ms;
  no.max_reconnect = 0;
  auto conn = NatsConnection::Connect(no);
  if (!conn.ok()) return conn.status();
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, (*conn)->js(), options.stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    return Status::NotFound("log stream " + options.stream + " does not exist (no cluster node has started on it)");
  }
  if (s != NATS_OK) return NatsError("log stream " + options.stream, s, jerr);
  jsStreamInfo_Destroy(si);

  JetStreamCheckpointStoreOptions co;
  co.bucket = options.checkpoint_bucket;
  co.prefix = options.subject_prefix;
  std::vector<PartitionLogPosition> out(partitions);
  for (uint32_t p = 0; p < partitions; ++p) {
    PartitionLogPosition& pos = out[p];
    pos.partition = p;
    const std::string suffix = "." + std::to_string(p);
    auto ev = LastSequenceOf(conn->get(), options.stream, options.subject_prefix + ".ev" + suffix);
    auto op = ev.ok() ? LastSequenceOf(conn->get(), options.stream, options.subject_prefix + ".op" + suffix)
                      : Result<uint64_t>(ev.status());
    if (!op.ok()) {
      pos.error = op.status();
      continue;
    }
    pos.last_sequence = std::max(*ev, *op);
    auto ckpt = JetStreamCheckpointStore::Peek(conn->get(), co, p);
    if (ckpt.ok()) {
      pos.has_checkpoint = true;
      pos.checkpoint_epoch = ckpt->epoch;
      pos.covered_sequence = ckpt->covered_seq;
    } else if (!ckpt.status().IsNotFound()) {
      pos.error = ckpt.status();
    }
  }
  return out;
}

}  // namespace ordersync
