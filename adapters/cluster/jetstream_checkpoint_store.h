// JetStreamCheckpointStore: each partition's latest checkpoint in JetStream, fenced by the
// owner's epoch (/work/notes/cluster_design.md, "Checkpoints"; docs/cluster-log.md).
//
// Layout. A checkpoint blob (may be many MB; a NATS message is at most ~1 MB) is cut into
// chunks published to <prefix>.ckpt.<p>.chunk in stream `chunk_stream`; then the KV bucket
// `bucket` gets key p<p> = JSON
//   {"epoch":E,"covered_seq":S,"size":N,"crc32c":C,"chunks":[seq,...]}
// written LAST with a compare-and-set on the key's revision, so a reader sees either the
// old or the new checkpoint, never a partial one.
//
// Fencing. Put reads the current entry first and refuses (Fenced) an epoch lower than the
// stored one; a concurrent write detected by the compare-and-set is re-read and re-checked
// (and the chunks re-published, so a chunk purge by the winner cannot leave us pointing
// at deleted chunks). Equal epochs may overwrite (the same owner, a later checkpoint).
// A new owner puts a checkpoint right after adoption, so that the old owner's puts are
// refused from then on (docs/cluster-log.md).
//
// Clean-up. After a successful Put, the replaced checkpoint's chunks are deleted and
// <prefix>.ckpt.<p>.chunk is purged below min(first chunk of ours, of the replaced one): chunks
// of failed or fenced writers do not accumulate.
//
// Get returns the latest complete checkpoint, its chunks checked against size and CRC-32C
// (Corruption if one is missing or damaged), NotFound if none was stored.
//
// Thread-safety: methods may be called from any thread; one writer per partition is the
// contract (the owner), and fencing makes a second, stale one harmless.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/cluster/nats_connection.h"
#include "engine/status.h"

namespace ordersync {

struct JetStreamCheckpointStoreOptions {
  // KV bucket of the pointers. Default: "ordersync_checkpoints".
  std::string bucket = "ordersync_checkpoints";
  // Stream of the chunks and their subject prefix (<prefix>.ckpt.<p>.chunk: four tokens,
  // so the log stream's <prefix>.*.* does not capture them). Defaults:
  // "ORDERSYNC_CKPT", "ordersync".
  std::string chunk_stream = "ORDERSYNC_CKPT";
  std::string prefix = "ordersync";
  // Copies of bucket and chunks (1..5). Default: 3.
  int replicas = 3;
  // Bytes per chunk message; must stay below the servers' max_payload (1 MiB default).
  // Default: 512 KiB.
  uint32_t chunk_bytes = 512u << 10;
};

// What the pointer of a partition's latest checkpoint says, without its chunks.
struct CheckpointPointerInfo {
  uint64_t epoch = 0;
  uint64_t covered_seq = 0;  // the log sequence the checkpoint covers
  uint64_t size = 0;         // blob bytes
  size_t chunks = 0;
  uint64_t revision = 0;     // KV revision of the pointer
};

struct StoredCheckpoint {
  uint64_t epoch = 0;
  uint64_t covered_seq = 0;  // the log sequence the checkpoint covers
  std::string blob;
  uint64_t revision = 0;  // KV revision of the pointer
};

class JetStreamCheckpointStore {
 public:
  // `conn` must outlive the store. Creates the bucket and the chunk stream if missing.
  static Result<std::unique_ptr<JetStreamCheckpointStore>> Open(NatsConnection* conn,
                                                                 const JetStreamCheckpointStoreOptions& options);
  ~JetStreamCheckpointStore();

  // Stores partition p's checkpoint. Fenced (IsFenced) if a checkpoint of a higher epoch
  // is stored. Returns the pointer's new KV revision.
  Result<uint64_t> Put(uint32_t p, uint64_t epoch, uint64_t covered_seq, std::string_view blob);
  // The latest complete checkpoint of p.
  Result<StoredCheckpoint> Get(uint32_t p);
  // The pointer of p's latest checkpoint only (one request, no chunks read or checked):
  // for `cluster status` and metrics. NotFound if none was stored.
  Result<CheckpointPointerInfo> Peek(uint32_t p);
  // The same without opening the store: creates nothing (no bucket or chunk stream is
  // made when missing — NotFound then), for read-only tools. `options.bucket` is used.
  static Result<CheckpointPointerInfo> Peek(NatsConnection* conn, const JetStreamCheckpointStoreOptions& options,
                                            uint32_t p);

 private:
  struct Pointer;
  JetStreamCheckpointStore(NatsConnection* conn, JetStreamCheckpointStoreOptions options)
      : conn_(conn), options_(std::move(options)) {}
  Status EnsureChunkStream();
  // The current pointer (found=false when there is none).
  Status ReadPointer(uint32_t p, Pointer* ptr, bool* found) { return ReadPointerOf(conn_, options_, p, ptr, found); }
  static Status ReadPointerOf(NatsConnection* conn, const JetStreamCheckpointStoreOptions& options, uint32_t p,
                              Pointer* ptr, bool* found);
  Status PublishChunks(uint32_t p, uint64_t epoch, std::string_view blob, Pointer* ptr);
  void CleanUp(uint32_t p, const Pointer& mine, const Pointer* replaced);
  static std::string Key(uint32_t p) { return "p" + std::to_string(p); }
  NatsConnection* conn_;
  JetStreamCheckpointStoreOptions options_;
  kvStore* kv_ = nullptr;
};

}  // namespace ordersync
