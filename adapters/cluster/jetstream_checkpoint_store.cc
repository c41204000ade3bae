#include "adapters/cluster/jetstream_checkpoint_store.h"

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/storage/crc32c.h"

namespace ordersync {

namespace {
// Attempts of Put when concurrent writers keep changing the pointer.
constexpr int kMaxPutAttempts = 5;
constexpr const char* kEpochHeader = "Ordersync-Epoch";
}  // namespace

struct JetStreamCheckpointStore::Pointer {
  uint64_t epoch = 0;
  uint64_t covered_seq = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
  std::vector<uint64_t> chunks;
  uint64_t revision = 0;

  std::string ToJson() const {
    nlohmann::json j = {{"epoch", epoch}, {"covered_seq", covered_seq}, {"size", size}, {"crc32c", crc}, {"chunks", chunks}};
    return j.dump();
  }
  Status FromJson(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Status::Corruption("checkpoint pointer is not a JSON object");
    try {
      epoch = j.at("epoch").get<uint64_t>();
      covered_seq = j.at("covered_seq").get<uint64_t>();
      size = j.at("size").get<uint64_t>();
      crc = j.at("crc32c").get<uint32_t>();
      chunks = j.at("chunks").get<std::vector<uint64_t>>();
    } catch (const nlohmann::json::exception& e) {
      return Status::Corruption(std::string("checkpoint pointer: ") + e.what());
    }
    return Status::OK();
  }
};

Result<std::unique_ptr<JetStreamCheckpointStore>> JetStreamCheckpointStore::Open(
    NatsConnection* conn, const JetStreamCheckpointStoreOptions& options) {
  if (options.replicas < 1 || options.replicas > 5) return Status::InvalidArgument("checkpoint store: replicas must be 1..5");
  if (options.chunk_bytes == 0) return Status::InvalidArgument("checkpoint store: chunk_bytes must be > 0");
  std::unique_ptr<JetStreamCheckpointStore> st(new JetStreamCheckpointStore(conn, options));
  natsStatus s = js_KeyValue(&st->kv_, conn->js(), options.bucket.c_str());
  if (s == NATS_NOT_FOUND) {
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = options.bucket.c_str();
    kc.History = 1;
    kc.StorageType = js_FileStorage;
    kc.Replicas = options.replicas;
    s = js_CreateKeyValue(&st->kv_, conn->js(), &kc);
  }
  if (s != NATS_OK) return NatsError("checkpoint bucket " + options.bucket, s);
  ORDERSYNC_RETURN_IF_ERROR(st->EnsureChunkStream());
  return st;
}

JetStreamCheckpointStore::~JetStreamCheckpointStore() {
  if (kv_ != nullptr) kvStore_Destroy(kv_);
}

Status JetStreamCheckpointStore::EnsureChunkStream() {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, conn_->js(), options_.chunk_stream.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return Status::OK();
  }
  if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) return NatsError("stream info " + options_.chunk_stream, s, jerr);
  const std::string subject = options_.prefix + ".ckpt.*.chunk";
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = options_.chunk_stream.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = options_.replicas;
  cfg.MaxMsgSize = static_cast<int32_t>(options_.chunk_bytes + 4096);  // + headers
  jerr = static_cast<jsErrCode>(0);
  s = js_AddStream(&si, conn_->js(), &cfg, nullptr, &jerr);
  if (s != NATS_OK) return NatsError("create stream " + options_.chunk_stream, s, jerr);
  jsStreamInfo_Destroy(si);
  return Status::OK();
}

Status JetStreamCheckpointStore::ReadPointerOf(NatsConnection* conn, const JetStreamCheckpointStoreOptions& options,
                                               uint32_t p, Pointer* ptr, bool* found) {
  // Read through the stream leader (STREAM.MSG.GET), not kvStore_Get: the client creates
  // KV buckets with AllowDirect, and a direct get may be answered by a replica that has
  // not applied the latest write yet. A new owner must never adopt an older checkpoint
  // than the newest one: the log before the newest one may already be purged.
  const std::string stream = "KV_" + options.bucket;
  const std::string subject = "$KV." + options.bucket + "." + Key(p);
  natsMsg* m = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&m, conn->js(), stream.c_str(), subject.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
    *found = false;
    return Status::OK();
  }
  if (s != NATS_OK) return NatsError("checkpoint pointer " + Key(p), s, jerr);
  const char* operation = nullptr;
  if (natsMsgHeader_Get(m, "KV-Operation", &operation) == NATS_OK && operation != nullptr &&
      (std::string_view(operation) == "DEL" || std::string_view(operation) == "PURGE")) {
    natsMsg_Destroy(m);
    *found = false;
    return Status::OK();
  }
  Status st = ptr->FromJson(std::string_view(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m))));
  ptr->revision = natsMsg_GetSequence(m);
  natsMsg_Destroy(m);
  *found = st.ok();
  return st;
}

Status JetStreamCheckpointStore::PublishChunks(uint32_t p, uint64_t epoch, std::string_view blob, Pointer* ptr) {
  const std::string subject = options_.prefix + ".ckpt." + std::to_string(p) + ".chunk";
  const std::string epoch_text = std::to_string(epoch);
  ptr->chunks.clear();
  size_t off = 0;
  do {
    const size_t n = std::min<size_t>(options_.chunk_bytes, blob.size() - off);
    natsMsg* m = nullptr;
    natsStatus s = natsMsg_Create(&m, subject.c_str(), nullptr, blob.data() + off, static_cast<int>(n));
    if (s == NATS_OK) s = natsMsgHeader_Set(m, kEpochHeader, epoch_text.c_str());
    jsPubAck* pa = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    if (s == NATS_OK) s = js_PublishMsg(&pa, conn_->js(), m, nullptr, &jerr);
    natsMsg_Destroy(m);
    if (s != NATS_OK) return NatsError("publish checkpoint chunk to " + subject, s, jerr);
    ptr->chunks.push_back(pa->Sequence);
    jsPubAck_Destroy(pa);
    off += n;
  } while (off < blob.size());
  return Status::OK();
}

void JetStreamCheckpointStore::CleanUp(uint32_t p, const Pointer& mine, const Pointer* replaced) {
  // Best effort: leftover chunks cost disk, never correctness.
  uint64_t below = mine.chunks.front();
  if (replaced != nullptr) {
    for (uint64_t seq : replaced->chunks) {
      jsErrCode jerr = static_cast<jsErrCode>(0);
      js_DeleteMsg(conn_->js(), options_.chunk_stream.c_str(), seq, nullptr, &jerr);
    }
    if (!replaced->chunks.empty()) below = std::min(below, replaced->chunks.front());
  }
  if (below <= 1) return;
  const std::string subject = options_.prefix + ".ckpt." + std::to_string(p) + ".chunk";
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Purge.Subject = subject.c_str();
  o.Stream.Purge.Sequence = below;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  js_PurgeStream(conn_->js(), options_.chunk_stream.c_str(), &o, &jerr);
}

Result<uint64_t> JetStreamCheckpointStore::Put(uint32_t p, uint64_t epoch, uint64_t covered_seq,
                                               std::string_view blob) {
  Status last_error;
  for (int attempt = 0; attempt < kMaxPutAttempts; ++attempt) {
    Pointer current;
    bool found = false;
    ORDERSYNC_RETURN_IF_ERROR(ReadPointer(p, &current, &found));
    if (found && current.epoch > epoch) {
      return Fenced("checkpoint of partition " + std::to_string(p) + " with epoch " + std::to_string(epoch) +
                    " refused: epoch " + std::to_string(current.epoch) + " is stored");
    }
    Pointer mine;
    mine.epoch = epoch;
    mine.covered_seq = covered_seq;
    mine.size = blob.size();
    mine.crc = Crc32c(0, blob.data(), blob.size());
    ORDERSYNC_RETURN_IF_ERROR(PublishChunks(p, epoch, blob, &mine));
    const std::string value = mine.ToJson();
    uint64_t rev = 0;
    natsStatus s = found ? kvStore_Update(&rev, kv_, Key(p).c_str(), value.data(), static_cast<int>(value.size()),
                                          current.revision)
                         : kvStore_Create(&rev, kv_, Key(p).c_str(), value.data(), static_cast<int>(value.size()));
    if (s == NATS_OK) {
      CleanUp(p, mine, found ? &current : nullptr);
      return rev;
    }
    // Someone else wrote the pointer since we read it (or the write failed): re-read and
    // decide again, with fresh chunks.
    last_error = NatsError("checkpoint pointer " + Key(p) + " compare-and-set", s);
  }
  return last_error;
}

Result<StoredCheckpoint> JetStreamCheckpointStore::Get(uint32_t p) {
  Pointer ptr;
  bool found = false;
  ORDERSYNC_RETURN_IF_ERROR(ReadPointer(p, &ptr, &found));
  if (!found) return Status::NotFound("no checkpoint of partition " + std::to_string(p));
  StoredCheckpoint out;
  out.epoch = ptr.epoch;
  out.covered_seq = ptr.covered_seq;
  out.revision = ptr.revision;
  out.blob.reserve(ptr.size);
  for (uint64_t seq : ptr.chunks) {
    natsMsg* m = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetMsg(&m, conn_->js(), options_.chunk_stream.c_str(), seq, nullptr, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) {
      return Status::Corruption("checkpoint of partition " + std::to_string(p) + ": chunk " + std::to_string(seq) +
                                " is missing");
    }
    if (s != NATS_OK) return NatsError("checkpoint chunk " + std::to_string(seq), s, jerr);
    out.blob.append(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
  }
  if (out.blob.size() != ptr.size || Crc32c(0, out.blob.data(), out.blob.size()) != ptr.crc) {
    return Status::Corruption("checkpoint of partition " + std::to_string(p) + ": chunks do not match size/CRC-32C");
  }
  return out;
}

Result<CheckpointPointerInfo> JetStreamCheckpointStore::Peek(uint32_t p) { return Peek(conn_, options_, p); }

Result<CheckpointPointerInfo> JetStreamCheckpointStore::Peek(NatsConnection* conn,
                                                             const JetStreamCheckpointStoreOptions& options, uint32_t p) {
  Pointer ptr;
  bool found = false;
  ORDERSYNC_RETURN_IF_ERROR(ReadPointerOf(conn, options, p, &ptr, &found));
  if (!found) return Status::NotFound("no checkpoint of partition " + std::to_string(p));
  CheckpointPointerInfo info;
  info.epoch = ptr.epoch;
  info.covered_seq = ptr.covered_seq;
  info.size = ptr.size;
  info.chunks = ptr.chunks.size();
  info.revision = ptr.revision;
  return info;
}

}  // namespace ordersync
