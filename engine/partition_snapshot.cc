#include "engine/partition_snapshot.h"

#include <cassert>
#include <cstring>
#include <memory>

#include "engine/coding.h"
#include "engine/hash.h"
#include "engine/keys.h"

namespace ordersync {
namespace {

constexpr char kMagic[4] = {'O', 'S', 'P', 'S'};
constexpr size_t kHeaderBytes = sizeof(kMagic) + 1 + 2 + 8;
constexpr size_t kEntryHeaderBytes = 1 + 4 + 4;
constexpr size_t kChecksumBytes = 8;

bool InSnapshot(Table table) { return table != Table::kQuarantine; }

// The meta table's "checkpoint" value: generation:4 | stream:4 | offset:8 (keys.h,
// event_processor_checkpoint.cc).
void NoteCheckpoint(Table table, std::string_view key, std::string_view value, uint32_t partition,
                    PartitionSnapshotInfo* info) {
  if (table != Table::kMeta) return;
  std::string checkpoint_key;
  MetaCheckpointKey(&checkpoint_key, partition);
  if (key != checkpoint_key || value.size() < 16) return;
  info->has_checkpoint = true;
  const uint64_t ids = DecodeFixed64(value.data());  // generation | stream << 32
  info->checkpoint = LogPosition{static_cast<uint32_t>(ids), static_cast<uint32_t>(ids >> 32),
                                 DecodeFixed64(value.data() + 8)};
}

std::string Where(uint64_t entry, size_t offset) {
  return "entry " + std::to_string(entry) + " at byte " + std::to_string(offset);
}

void PutHeader(std::string* snapshot, uint32_t partition) {
  assert(partition <= 0xffff);
  snapshot->clear();
  snapshot->append(kMagic, sizeof(kMagic));
  snapshot->push_back(static_cast<char>(kPartitionSnapshotVersion));
  snapshot->push_back(static_cast<char>(partition & 0xff));
  snapshot->push_back(static_cast<char>(partition >> 8));
  PutFixed64(snapshot, 0);  // entry_count, filled in at the end
}

}  // namespace

std::string EmptyPartitionSnapshot(uint32_t partition) {
  std::string snapshot;
  PutHeader(&snapshot, partition);
  PutFixed64(&snapshot, HashBytes(snapshot));
  return snapshot;
}

Status ExportPartitionSnapshot(StateStore* store, uint32_t partition, std::string* snapshot,
                               PartitionSnapshotInfo* info) {
  PartitionSnapshotInfo local;
  PartitionSnapshotInfo* out = info != nullptr ? info : &local;
  *out = PartitionSnapshotInfo{};
  out->partition = partition;
  PutHeader(snapshot, partition);
  const size_t count_at = kHeaderBytes - 8;

  std::string lower;
  std::string upper;
  PartitionRange(partition, &lower, &upper);
  uint64_t entries = 0;
  for (size_t t = 0; t < kTableCount; ++t) {
    const auto table = static_cast<Table>(t);
    if (!InSnapshot(table)) continue;
    std::unique_ptr<StoreIterator> it = store->NewIterator(table, lower, upper);
    for (; it->Valid(); it->Next()) {
      const std::string_view key = it->key();
      const std::string_view value = it->value();
      if (snapshot->size() + kEntryHeaderBytes + key.size() + value.size() + kChecksumBytes >
          kMaxPartitionSnapshotBytes) {
        snapshot->clear();
        return Status::InvalidArgument("partition " + std::to_string(partition) + " holds more than " +
                                       std::to_string(kMaxPartitionSnapshotBytes) + " bytes: too big to snapshot");
      }
      snapshot->push_back(static_cast<char>(t));
      PutFixed32(snapshot, static_cast<uint32_t>(key.size()));
      PutFixed32(snapshot, static_cast<uint32_t>(value.size()));
      snapshot->append(key);
      snapshot->append(value);
      NoteCheckpoint(table, key, value, partition, out);
      ++entries;
    }
    if (Status s = it->status(); !s.ok()) {
      snapshot->clear();
      return Status::IOError("snapshot of partition " + std::to_string(partition) + ", table " +
                             std::string(TableName(table)) + ": " + s.ToString());
    }
  }
  for (int i = 0; i < 8; ++i) (*snapshot)[count_at + i] = static_cast<char>(entries >> (8 * i));
  PutFixed64(snapshot, HashBytes(*snapshot));
  out->entries = entries;
  out->bytes = snapshot->size();
  return Status::OK();
}

Status VerifyPartitionSnapshot(std::string_view snapshot, uint32_t partition, PartitionSnapshotInfo* info) {
  PartitionSnapshotInfo local;
  PartitionSnapshotInfo* out = info != nullptr ? info : &local;
  *out = PartitionSnapshotInfo{};
  out->partition = partition;
  const std::string name = "snapshot of partition " + std::to_string(partition) + ": ";
  if (snapshot.size() < kHeaderBytes + kChecksumBytes) return Status::Corruption(name + "truncated header");
  if (snapshot.size() > kMaxPartitionSnapshotBytes) return Status::Corruption(name + "larger than the limit");
  if (std::memcmp(snapshot.data(), kMagic, sizeof(kMagic)) != 0) return Status::Corruption(name + "bad magic");
  const auto version = static_cast<uint8_t>(snapshot[4]);
  if (version != kPartitionSnapshotVersion) {
    return Status::Corruption(name + "unknown version " + std::to_string(version));
  }
  const uint32_t stored_partition =
      static_cast<uint8_t>(snapshot[5]) | (static_cast<uint32_t>(static_cast<uint8_t>(snapshot[6])) << 8);
  if (stored_partition != partition) {
    return Status::Corruption(name + "it holds partition " + std::to_string(stored_partition));
  }
  const size_t body_end = snapshot.size() - kChecksumBytes;
  if (HashBytes(snapshot.substr(0, body_end)) != DecodeFixed64(snapshot.data() + body_end)) {
    return Status::Corruption(name + "checksum mismatch");
  }
  const uint64_t declared = DecodeFixed64(snapshot.data() + 7);
  size_t offset = kHeaderBytes;
  uint64_t entries = 0;
  while (offset < body_end) {
    if (body_end - offset < kEntryHeaderBytes) return Status::Corruption(name + "truncated " + Where(entries, offset));
    const auto table = static_cast<uint8_t>(snapshot[offset]);
    const uint32_t key_len = DecodeFixed32(snapshot.data() + offset + 1);
    const uint32_t value_len = DecodeFixed32(snapshot.data() + offset + 5);
    if (table >= kTableCount || !InSnapshot(static_cast<Table>(table))) {
      return Status::Corruption(name + "unknown table " + std::to_string(table) + " in " + Where(entries, offset));
    }
    const size_t payload = size_t{key_len} + value_len;
    if (body_end - offset - kEntryHeaderBytes < payload) {
      return Status::Corruption(name + "truncated " + Where(entries, offset));
    }
    const std::string_view key = snapshot.substr(offset + kEntryHeaderBytes, key_len);
    const std::string_view value = snapshot.substr(offset + kEntryHeaderBytes + key_len, value_len);
    if (key.size() < 2 || PartitionOfKey(key) != partition) {
      return Status::Corruption(name + "a key outside the partition in " + Where(entries, offset));
    }
    NoteCheckpoint(static_cast<Table>(table), key, value, partition, out);
    offset += kEntryHeaderBytes + payload;
    ++entries;
  }
  if (entries != declared) {
    return Status::Corruption(name + "declares " + std::to_string(declared) + " entries, holds " +
                              std::to_string(entries));
  }
  out->entries = entries;
  out->bytes = snapshot.size();
  return Status::OK();
}

Status ImportPartitionSnapshot(StateStore* store, uint32_t partition, std::string_view snapshot,
                               Durability durability, const LogPosition* rebase, PartitionSnapshotInfo* info) {
  ORDERSYNC_RETURN_IF_ERROR(VerifyPartitionSnapshot(snapshot, partition, info));
  std::unique_ptr<StoreBatch> batch = store->NewBatch();
  std::string lower;
  std::string upper;
  PartitionRange(partition, &lower, &upper);
  for (size_t t = 0; t < kTableCount; ++t) {
    const auto table = static_cast<Table>(t);
    if (!InSnapshot(table)) continue;
    std::unique_ptr<StoreIterator> it = store->NewIterator(table, lower, upper);
    for (; it->Valid(); it->Next()) batch->Delete(table, it->key());
    if (Status s = it->status(); !s.ok()) {
      return Status::IOError("import of partition " + std::to_string(partition) + ", clearing table " +
                             std::string(TableName(table)) + ": " + s.ToString());
    }
  }
  // Verified above: every entry is whole and in range.
  const size_t body_end = snapshot.size() - kChecksumBytes;
  for (size_t offset = kHeaderBytes; offset < body_end;) {
    const auto table = static_cast<Table>(static_cast<uint8_t>(snapshot[offset]));
    const uint32_t key_len = DecodeFixed32(snapshot.data() + offset + 1);
    const uint32_t value_len = DecodeFixed32(snapshot.data() + offset + 5);
    batch->Put(table, snapshot.substr(offset + kEntryHeaderBytes, key_len),
               snapshot.substr(offset + kEntryHeaderBytes + key_len, value_len));
    offset += kEntryHeaderBytes + size_t{key_len} + value_len;
  }
  if (rebase != nullptr) {
    std::string key;
    std::string value;
    MetaCheckpointKey(&key, partition);
    PutFixed64(&value, static_cast<uint64_t>(rebase->generation) | (static_cast<uint64_t>(rebase->stream) << 32));
    PutFixed64(&value, rebase->offset);
    batch->Put(Table::kMeta, key, value);
  }
  return store->Write(batch.get(), durability);
}

}  // namespace ordersync
