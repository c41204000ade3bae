#include "adapters/cluster/jetstream_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "engine/log_record.h"

namespace ordersync {

namespace {

constexpr const char* kMsgIdHeader = "Nats-Msg-Id";
constexpr const char* kExpectedLastSubjectSeqHeader = "Nats-Expected-Last-Subject-Sequence";
constexpr const char* kEpochHeader = "Ordersync-Epoch";
// Heartbeat of the reader's ordered consumer: a consumer lost with its server is noticed
// (and re-created from the last sequence) after about two missed heartbeats.
constexpr int64_t kReaderHeartbeatNs = 1'000'000'000;

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

Result<MsgPtr> NewMsg(const std::string& subject, std::string_view data) {
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) return NatsError("message for " + subject, s);
  return MsgPtr(m);
}

Status SetHeader(natsMsg* m, const char* key, const std::string& value) {
  natsStatus s = natsMsgHeader_Set(m, key, value.c_str());
  if (s != NATS_OK) return NatsError(std::string("header ") + key, s);
  return Status::OK();
}

bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Status ValidateLogRecord(LogSubjectKind kind, uint32_t partition, std::string_view data) {
  LogRecordReader reader;
  Status st = reader.Open(data);
  if (!st.ok()) return Status::Corruption("not a LogRecord: " + st.message());
  LogItem item;
  uint32_t items = 0, events = 0;
  while (reader.Next(&item)) {
    ++items;
    if (item.partition != partition) {
      return Status::Corruption("item " + std::to_string(items) + " is of partition " + std::to_string(item.partition) +
                                ", the subject's is " + std::to_string(partition));
    }
    if (item.type == LogItemType::kEvent) ++events;
  }
  if (!reader.status().ok()) return Status::Corruption("malformed LogRecord: " + reader.status().message());
  if (items != reader.item_count()) return Status::Corruption("LogRecord holds fewer items than its header says");
  if (kind == LogSubjectKind::kEvent && (items != 1 || events != 1)) {
    return Status::Corruption("an ev record must hold exactly one event item, this one holds " + std::to_string(items) +
                              " items (" + std::to_string(events) + " events)");
  }
  if (kind == LogSubjectKind::kOp && items == 0) return Status::Corruption("an op record without items");
  return Status::OK();
}

Result<std::unique_ptr<JetStreamLog>> JetStreamLog::Open(NatsConnection* conn, const JetStreamLogOptions& options) {
  if (options.replicas < 1 || options.replicas > 5) return Status::InvalidArgument("jetstream log: replicas must be 1..5");
  if (options.partitions == 0 || options.partitions > 65536) {
    return Status::InvalidArgument("jetstream log: partitions must be 1..65536");
  }
  if (options.stream.empty() || options.prefix.empty()) {
    return Status::InvalidArgument("jetstream log: stream name and subject prefix must not be empty");
  }
  std::unique_ptr<JetStreamLog> log(new JetStreamLog(conn, options));
  ORDERSYNC_RETURN_IF_ERROR(log->EnsureStream());
  return log;
}

std::string JetStreamLog::Subject(LogSubjectKind kind, uint32_t p) const {
  return options_.prefix + (kind == LogSubjectKind::kEvent ? ".ev." : ".op.") + std::to_string(p);
}

Status JetStreamLog::EnsureStream() {
  // One wildcard subject, not <prefix>.ev.* and <prefix>.op.*: nats-server 2.9 accepts a
  // consumer filter only if it is a subset of ONE stream subject, and the partition
  // reader filters <prefix>.*.<p> (docs/cluster-log.md).
  const std::string all = options_.prefix + ".*.*";
  const char* subjects[] = {all.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = options_.stream.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Retention = js_LimitsPolicy;
  cfg.Replicas = options_.replicas;
  cfg.Duplicates = options_.duplicate_window_ms * 1'000'000;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, conn_->js(), options_.stream.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, conn_->js(), &cfg, nullptr, &jerr);
    if (s != NATS_OK) return NatsError("create stream " + options_.stream, s, jerr);
    jsStreamInfo_Destroy(si);
    return Status::OK();
  }
  if (s != NATS_OK) return NatsError("stream info " + options_.stream, s, jerr);
  const jsStreamConfig* have = si->Config;
  const bool same = have->Replicas == cfg.Replicas && have->Duplicates == cfg.Duplicates && have->SubjectsLen == 1 &&
                    std::strcmp(have->Subjects[0], subjects[0]) == 0 && have->Storage == js_FileStorage;
  const bool file = have->Storage == js_FileStorage;
  jsStreamInfo_Destroy(si);
  if (same) return Status::OK();
  if (!file) return Status::InvalidArgument("stream " + options_.stream + " exists with memory storage");
  s = js_UpdateStream(&si, conn_->js(), &cfg, nullptr, &jerr);
  if (s != NATS_OK) return NatsError("update stream " + options_.stream, s, jerr);
  jsStreamInfo_Destroy(si);
  return Status::OK();
}

Result<PublishAck> JetStreamLog::PublishEvent(uint32_t p, std::string_view event_id, std::string_view record) {
  if (p >= options_.partitions) return Status::InvalidArgument("partition out of range");
  if (event_id.empty()) return Status::InvalidArgument("event publish without event_id");
  const std::string subject = Subject(LogSubjectKind::kEvent, p);
  auto m = NewMsg(subject, record);
  if (!m.ok()) return m.status();
  ORDERSYNC_RETURN_IF_ERROR(SetHeader(m->get(), kMsgIdHeader, std::string(event_id)));
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(&pa, conn_->js(), m->get(), nullptr, &jerr);
  if (s != NATS_OK) return NatsError("publish " + subject, s, jerr);
  PublishAck ack{pa->Sequence, pa->Duplicate};
  jsPubAck_Destroy(pa);
  if (ack.duplicate && ack.sequence == 0) {
    // The id is known only from a publish not stored (yet): no confirmation (jetstream_log.h).
    return Status::Unavailable("publish " + subject + ": duplicate without a stored sequence; publish again");
  }
  return ack;
}

Result<PublishAck> JetStreamLog::PublishOp(uint32_t p, uint64_t epoch, uint64_t expected_last_op_seq,
                                           std::string_view record) {
  if (p >= options_.partitions) return Status::InvalidArgument("partition out of range");
  const std::string subject = Subject(LogSubjectKind::kOp, p);
  auto m = NewMsg(subject, record);
  if (!m.ok()) return m.status();
  ORDERSYNC_RETURN_IF_ERROR(SetHeader(m->get(), kEpochHeader, std::to_string(epoch)));
  ORDERSYNC_RETURN_IF_ERROR(SetHeader(m->get(), kExpectedLastSubjectSeqHeader, std::to_string(expected_last_op_seq)));
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(&pa, conn_->js(), m->get(), nullptr, &jerr);
  if (jerr == JSStreamWrongLastSequenceErr) {
    return Fenced("op of partition " + std::to_string(p) + " epoch " + std::to_string(epoch) +
                  " refused: the last op is no longer sequence " + std::to_string(expected_last_op_seq));
  }
  if (s != NATS_OK) return NatsError("publish " + subject, s, jerr);
  PublishAck ack{pa->Sequence, pa->Duplicate};
  jsPubAck_Destroy(pa);
  return ack;
}

Result<uint64_t> JetStreamLog::LastSequenceOf(const std::string& subject) {
  natsMsg* m = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&m, conn_->js(), options_.stream.c_str(), subject.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) return uint64_t{0};
  if (s != NATS_OK) return NatsError("last message of " + subject, s, jerr);
  uint64_t seq = natsMsg_GetSequence(m);
  natsMsg_Destroy(m);
  return seq;
}

Result<uint64_t> JetStreamLog::LastOpSequence(uint32_t p) { return LastSequenceOf(Subject(LogSubjectKind::kOp, p)); }

Result<uint64_t> JetStreamLog::LastSequence(uint32_t p) {
  auto ev = LastSequenceOf(Subject(LogSubjectKind::kEvent, p));
  if (!ev.ok()) return ev.status();
  auto op = LastSequenceOf(Subject(LogSubjectKind::kOp, p));
  if (!op.ok()) return op.status();
  return std::max(*ev, *op);
}

Status JetStreamLog::PurgeUpTo(uint32_t p, uint64_t seq) {
  if (p >= options_.partitions) return Status::InvalidArgument("partition out of range");
  auto last_op = LastOpSequence(p);
  if (!last_op.ok()) return last_op.status();
  struct Range {
    std::string subject;
    uint64_t below;  // purge sequences < below
  };
  Range ranges[] = {{Subject(LogSubjectKind::kEvent, p), seq + 1},
                    {Subject(LogSubjectKind::kOp, p), *last_op == 0 ? 0 : std::min(seq + 1, *last_op)}};
  for (const Range& r : ranges) {
    if (r.below <= 1) continue;
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Purge.Subject = r.subject.c_str();
    o.Stream.Purge.Sequence = r.below;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_PurgeStream(conn_->js(), options_.stream.c_str(), &o, &jerr);
    if (s != NATS_OK) return NatsError("purge " + r.subject, s, jerr);
  }
  return Status::OK();
}

Status JetStreamLog::PartitionsWithData(std::vector<uint32_t>* out) {
  out->clear();
  const std::string filter = options_.prefix + ".*.*";
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = filter.c_str();
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, conn_->js(), options_.stream.c_str(), &o, &jerr);
  if (s != NATS_OK) return NatsError("stream info " + options_.stream, s, jerr);
  std::set<uint32_t> parts;
  if (si->State.Subjects != nullptr) {
    for (int i = 0; i < si->State.Subjects->Count; ++i) {
      const jsStreamStateSubject& sub = si->State.Subjects->List[i];
      std::string_view name(sub.Subject);
      uint64_t p = 0;
      if (sub.Msgs > 0 && ParseU64(name.substr(name.rfind('.') + 1), &p) && p < options_.partitions) {
        parts.insert(static_cast<uint32_t>(p));
      }
    }
  }
  jsStreamInfo_Destroy(si);
  out->assign(parts.begin(), parts.end());
  return Status::OK();
}

Result<std::unique_ptr<PartitionReader>> JetStreamLog::ReadPartition(uint32_t p, uint64_t after_seq) {
  if (p >= options_.partitions) return Status::InvalidArgument("partition out of range");
  std::unique_ptr<PartitionReader> r(new PartitionReader(this, p, after_seq));
  const std::string filter = options_.prefix + ".*." + std::to_string(p);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = after_seq + 1;
  so.Config.Heartbeat = kReaderHeartbeatNs;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&r->sub_, conn_->js(), filter.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) return NatsError("read " + filter, s, jerr);
  return r;
}

PartitionReader::~PartitionReader() {
  if (current_ != nullptr) natsMsg_Destroy(current_);
  log_->connection()->RetireSubscription(sub_);
}

PartitionReader::Outcome PartitionReader::Next(LogEntry* e, int64_t wait_ms) {
  if (!status_.ok()) return Outcome::kError;
  if (current_ != nullptr) {
    natsMsg_Destroy(current_);
    current_ = nullptr;
  }
  uint64_t seq = 0;
  for (;;) {
    natsStatus s = natsSubscription_NextMsg(&current_, sub_, wait_ms);
    if (s == NATS_SLOW_CONSUMER) {
      // Messages were dropped in the client because too many were pending; the ordered
      // consumer sees the gap and re-delivers from the last sequence returned.
      s = natsSubscription_NextMsg(&current_, sub_, wait_ms);
    }
    if (s == NATS_TIMEOUT) return Outcome::kNothingNow;
    if (s != NATS_OK) {
      status_ = NatsError("read partition " + std::to_string(partition_), s);
      return Outcome::kError;
    }
    jsMsgMetaData* meta = nullptr;
    s = natsMsg_GetMetaData(&meta, current_);
    if (s != NATS_OK) {
      status_ = NatsError("message metadata", s);
      return Outcome::kError;
    }
    seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    // Each record once, in stream order: a message at or below the last one returned is a
    // re-delivery (the ordered consumer re-created after a stream leader change may start
    // where the client had already been) and is skipped.
    if (seq > last_seq_) break;
    ++redeliveries_skipped_;
    spdlog::warn("cluster: partition {} reader: message at stream sequence {} skipped (at or below {}, already returned)",
                 partition_, seq, last_seq_);
    natsMsg_Destroy(current_);
    current_ = nullptr;
  }
  *e = LogEntry{};
  e->sequence = seq;
  e->partition = partition_;
  e->data = std::string_view(natsMsg_GetData(current_), static_cast<size_t>(natsMsg_GetDataLength(current_)));
  const std::string_view subject(natsMsg_GetSubject(current_));
  const std::string& prefix = log_->options().prefix;
  const std::string_view kind = subject.size() > prefix.size() + 4 ? subject.substr(prefix.size(), 4) : "";
  e->kind = kind == ".op." ? LogSubjectKind::kOp : LogSubjectKind::kEvent;
  if (kind != ".op." && kind != ".ev.") {
    e->malformed = Status::Corruption("subject " + std::string(subject) + " is neither an ev nor an op subject");
  }
  const char* v = nullptr;
  if (natsMsgHeader_Get(current_, kMsgIdHeader, &v) == NATS_OK && v != nullptr) e->msg_id = v;
  if (natsMsgHeader_Get(current_, kEpochHeader, &v) == NATS_OK && v != nullptr) {
    if (!ParseU64(v, &e->epoch)) e->malformed = Status::Corruption(std::string("op epoch header is not a number: ") + v);
  }
  if (e->malformed.ok()) e->malformed = ValidateLogRecord(e->kind, partition_, e->data);
  if (e->malformed.ok() && e->kind == LogSubjectKind::kOp && e->epoch == 0) {
    e->malformed = Status::Corruption("op without Ordersync-Epoch header");
  }
  last_seq_ = seq;
  return Outcome::kRecord;
}

AsyncEventPublisher::AsyncEventPublisher(JetStreamLog* log, Callback cb, void* closure)
    : log_(log),
      callback_(cb),
      closure_(closure),
      contexts_(2 * static_cast<size_t>(std::max<int64_t>(1, log->connection()->options().max_async_pending))) {
  subjects_.reserve(log->options().partitions);
  for (uint32_t p = 0; p < log->options().partitions; ++p) subjects_.push_back(log->Subject(LogSubjectKind::kEvent, p));
}

Result<std::unique_ptr<AsyncEventPublisher>> AsyncEventPublisher::Create(JetStreamLog* log, Callback callback,
                                                                         void* closure) {
  std::unique_ptr<AsyncEventPublisher> p(new AsyncEventPublisher(log, callback, closure));
  auto js = log->connection()->NewJetStreamContext(&AsyncEventPublisher::OnAck, p.get());
  if (!js.ok()) return js.status();
  p->js_ = *js;
  return p;
}

AsyncEventPublisher::~AsyncEventPublisher() {
  if (js_ != nullptr) {
    // Every publish times out after request_timeout_ms, so all callbacks have run by then
    // (with margin for nats.c's timer) and none can reach a destroyed publisher.
    WaitAll(2 * log_->connection()->options().request_timeout_ms + 1000).PermitUncheckedError();
    log_->connection()->RetireJetStreamContext(js_);
  }
}

void AsyncEventPublisher::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<AsyncEventPublisher*>(closure);
  Completion c;
  const std::string_view subject(natsMsg_GetSubject(msg));
  uint64_t p = 0;
  if (ParseU64(subject.substr(subject.rfind('.') + 1), &p)) c.partition = static_cast<uint32_t>(p);
  const char* id = nullptr;
  if (natsMsgHeader_Get(msg, kMsgIdHeader, &id) == NATS_OK && id != nullptr) c.event_id = id;
  if (pa != nullptr) {
    c.ack = PublishAck{pa->Sequence, pa->Duplicate};
  } else if (pae != nullptr) {
    std::string what = "publish " + std::string(subject);
    if (pae->ErrText != nullptr) what += std::string(" (") + pae->ErrText + ")";
    c.status = NatsError(what, pae->Err, pae->ErrCode);
  } else {
    c.status = Status::Internal("publish ack without result");
  }
  self->contexts_.Take(msg, &c.context);
  self->callback_(self->closure_, c);
  natsMsg_Destroy(msg);
  self->completed_.fetch_add(1, std::memory_order_release);
}

Status AsyncEventPublisher::Publish(uint32_t p, std::string_view event_id, std::string_view record, Context context) {
  if (p >= log_->options().partitions) return Status::InvalidArgument("partition out of range");
  if (event_id.empty()) return Status::InvalidArgument("event publish without event_id");
  const std::string& subject = subjects_[p];
  auto m = NewMsg(subject, record);
  if (!m.ok()) return m.status();
  thread_local std::string id;  // nats.c wants a terminated string; no allocation per event
  id.assign(event_id);
  ORDERSYNC_RETURN_IF_ERROR(SetHeader(m->get(), kMsgIdHeader, id));
  jsPubOptions po;
  jsPubOptions_Init(&po);
  // Without MaxWait a publish whose ack never comes (its server died) would stay in
  // flight forever; with it the callback reports a timeout.
  po.MaxWait = log_->connection()->options().request_timeout_ms;
  natsMsg* raw = m->release();
  const void* const key = raw;
  // Registered before the ack can arrive (on another thread), removed if it is not sent.
  if (!contexts_.Put(key, context)) {
    natsMsg_Destroy(raw);
    return Status::Busy("publish " + subject + ": too many publishes awaiting their ack");
  }
  published_.fetch_add(1, std::memory_order_relaxed);
  natsStatus s = js_PublishMsgAsync(js_, &raw, &po);
  if (s != NATS_OK) {
    published_.fetch_sub(1, std::memory_order_relaxed);
    Context unused;
    contexts_.Take(key, &unused);  // no ack handler call comes for a publish that failed
    if (raw != nullptr) natsMsg_Destroy(raw);  // not taken over by nats.c
    if (s == NATS_TIMEOUT) return Status::Busy("publish " + subject + ": too many publishes awaiting their ack");
    return NatsError("publish " + subject, s);
  }
  return Status::OK();
}

Status AsyncEventPublisher::WaitAll(int64_t timeout_ms) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = timeout_ms;
  natsStatus s = js_PublishAsyncComplete(js_, &po);
  if (s != NATS_OK) return NatsError("waiting for publish acks", s);
  return Status::OK();
}

}  // namespace ordersync
