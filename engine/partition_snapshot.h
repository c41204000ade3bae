// PartitionSnapshot: everything the StateStore holds for one logical partition, as one
// self-checking byte string — what moves when a partition changes owner in cluster mode
// (the new owner imports the snapshot, then replays the log after the position the
// snapshot's checkpoint covers). Every table whose keys start with the partition id
// (engine/keys.h) is included: orders, dedup, parked, outbox, exceptions, meta (counters
// and the checkpoint position), dead letters and the journal. The quarantine is the
// ingress's, not a partition's, and stays behind.
//
// Format (little-endian):
//
//   snapshot := magic "OSPS" version:1 partition:2 entry_count:8 entry* checksum:8
//   entry    := table:1 key_len:4 value_len:4 key value
//
// Entries appear table by table in key order; every key starts with the partition's
// 2-byte id. checksum = FNV-1a 64 (engine/hash.h) of everything before it. A snapshot is
// bounded by kMaxPartitionSnapshotBytes; a bigger partition is refused rather than
// exported partly.
//
//   std::string blob;
//   ORDERSYNC_RETURN_IF_ERROR(ExportPartitionSnapshot(store, 7, &blob, &info));
//   ...
//   ORDERSYNC_RETURN_IF_ERROR(ImportPartitionSnapshot(other_store, 7, blob, Durability::kWal));
//
// Consistency: the export reads each table with its own iterator, so it must not race a
// write to the partition's keys — call it on the thread that owns the partition while no
// checkpoint of it is in flight, or on a stopped engine's store. The import replaces the
// partition's keys in one atomic StoreBatch (all of the old removed, all of the new put),
// after the whole snapshot has been verified; a malformed snapshot changes nothing.
//
// Thread-safety: pure functions apart from the store access described above.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine_options.h"
#include "engine/event_log.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

inline constexpr uint8_t kPartitionSnapshotVersion = 1;
inline constexpr size_t kMaxPartitionSnapshotBytes = size_t{1} << 30;  // 1 GiB

// What a snapshot holds, for logs and metrics.
struct PartitionSnapshotInfo {
  uint32_t partition = 0;
  uint64_t entries = 0;
  uint64_t bytes = 0;
  bool has_checkpoint = false;  // the meta table held the partition's checkpoint position
  LogPosition checkpoint;       // the log position that checkpoint covers
};

// The snapshot of a partition that holds nothing (importing it clears the partition).
std::string EmptyPartitionSnapshot(uint32_t partition);

// Reads every key of `partition` into *snapshot (replacing its contents). InvalidArgument
// (and an empty *snapshot) when the partition would exceed kMaxPartitionSnapshotBytes.
Status ExportPartitionSnapshot(StateStore* store, uint32_t partition, std::string* snapshot,
                               PartitionSnapshotInfo* info = nullptr);

// Checks `snapshot` (magic, version, partition, bounds, checksum, every key in the
// partition) without touching a store. Corruption with the reason when it is not sound.
Status VerifyPartitionSnapshot(std::string_view snapshot, uint32_t partition, PartitionSnapshotInfo* info = nullptr);

// Replaces everything `store` holds for `partition` with `snapshot`, atomically.
// `rebase` (may be null): when the snapshot came from a store whose event log this store
// does not share, the log position its checkpoint should cover here (e.g. {0, 0, 0}: none
// of this store's log) replaces the snapshot's own; with a shared (replicated) log, pass
// null and the snapshot's position stands.
// REQUIRES: nothing else writes the partition's keys meanwhile (the partition is not
// being applied by a running worker).
Status ImportPartitionSnapshot(StateStore* store, uint32_t partition, std::string_view snapshot,
                               Durability durability, const LogPosition* rebase = nullptr,
                               PartitionSnapshotInfo* info = nullptr);

}  // namespace ordersync
