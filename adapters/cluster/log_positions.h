// LogPositions: where each partition stands in the replicated log — the log's last
// sequence for the partition and the sequence its stored checkpoint covers — read
// without creating or changing anything (no stream, bucket or consumer is made; the
// JetStreamLog/JetStreamCheckpointStore Open calls would create or update them). For
// `ordersync cluster status` (docs/cluster.md "Operations").
//
// Sequences are JetStream stream sequences, shared by all partitions of the stream:
// last_sequence - covered_sequence counts the stream's messages after the checkpoint up
// to the partition's last one, so the partition's own records not yet in a checkpoint
// are at most that many (exactly 0 when the checkpoint covers everything).
//
//   auto positions = ReadLogPositions(options, 16);
//   if (!positions.ok()) ...;  // NATS unreachable, stream missing: the reason
//
// Thread-safety: a pure function of the servers' state; call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace ordersync {

struct LogPositionsOptions {
  // NATS servers, tried in order. Default: the [cluster] default.
  std::vector<std::string> nats_urls = {"nats://127.0.0.1:4222"};
  // The log stream and its subject prefix ([cluster] stream, subject_prefix); the
  // checkpoint bucket (JetStreamCheckpointStoreOptions::bucket's default).
  std::string stream = "ORDERSYNC";
  std::string subject_prefix = "ordersync";
  std::string checkpoint_bucket = "ordersync_checkpoints";
  // Bounds the connect (per server) and each request. Default: 2000 ms.
  int64_t timeout_ms = 2000;
};

struct PartitionLogPosition {
  uint32_t partition = 0;
  uint64_t last_sequence = 0;     // the partition's last message (event or op); 0: none
  bool has_checkpoint = false;
  uint64_t checkpoint_epoch = 0;
  uint64_t covered_sequence = 0;  // 0 when there is no checkpoint
  // last_sequence - covered_sequence (0 if the checkpoint is ahead, e.g. after a purge).
  uint64_t lag() const { return last_sequence > covered_sequence ? last_sequence - covered_sequence : 0; }
  Status error;                   // this partition could not be read (the rest is unknown)
};

// Positions of partitions 0..partitions-1. Fails as a whole when no server can be
// reached or the stream does not exist (Unavailable / NotFound, with the reason).
Result<std::vector<PartitionLogPosition>> ReadLogPositions(const LogPositionsOptions& options, uint32_t partitions);

}  // namespace ordersync
