// RocksDbStore: the RocksDB implementation of the engine's StateStore. One column family
// per Table, named TableName(table); the default column family exists but is unused.
// Column families missing from the data directory are created at Open; column families
// it does not know (written by a newer build) are opened with default options and left
// alone, so a downgrade can still start.
//
// Tuning (see MakeColumnFamilyOptions in the .cc for the reasons):
//  - all tables: shared LRU block cache (block_cache_mb) that also holds index and filter
//    blocks, write_buffer_mb memtable each, LZ4 (ZSTD at the bottom level when built in),
//    dynamic level sizes.
//  - orders, dedup, meta: whole-key bloom filters (bloom_bits_per_key) in the SSTs and
//    the memtable. optimize_filters_for_hits stays off: dedup lookups mostly miss.
//  - orders, dedup: TtlCompactionFilter (ttl_compaction_filter.h) drops expired entries.
//  - outbox, exceptions, parked, dead_letters: queues (written once, deleted when done),
//    so files dense in tombstones are marked for compaction.
//
// Durability (Write): kWal = WAL without fsync (survives kill -9); kFsync = WAL + fsync
// before return; kNone = no WAL. Caveat of kNone: column families flush independently, so
// after a crash a kNone batch may be partially present; kNone is for benchmarks only.
//
// Errors are converted at this edge: "rocksdb <operation>: <rocksdb status>".
//
// Thread-safety: all methods may be called concurrently from any thread (RocksDB's own
// guarantees). A batch from NewBatch() and an iterator from NewIterator() belong to one
// thread at a time and must not outlive the store.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/storage/storage_options.h"
#include "adapters/storage/ttl_compaction_filter.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace ordersync {

class RocksDbStore : public StateStore {
 public:
  // Opens (creating if missing) the database in options.data_dir with the system wall
  // clock for TTL expiry.
  static Result<std::unique_ptr<RocksDbStore>> Open(const StorageOptions& options);
  // As above, with `clock` (ns since the Unix epoch) deciding TTL expiry. For tests.
  // REQUIRES: clock is non-empty and callable from any thread.
  static Result<std::unique_ptr<RocksDbStore>> Open(const StorageOptions& options,
                                                    WallClockNs clock);

  // Opens an existing database for reading only, e.g. for CLI inspection while an engine
  // runs on it (RocksDB allows that): sees the data as of the open; Write fails.
  // NotFound if the directory holds no database.
  static Result<std::unique_ptr<RocksDbStore>> OpenReadOnly(const StorageOptions& options);
  // Closes the database. Memtables of writes made with kNone are flushed first.
  ~RocksDbStore() override;

  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  Status Get(Table table, std::string_view key, std::string* value) override;
  std::unique_ptr<StoreBatch> NewBatch() override;
  // Returns InvalidArgument for a batch made by another store or naming an invalid table
  // (nothing is written then).
  Status Write(StoreBatch* batch, Durability durability) override;
  std::unique_ptr<StoreIterator> NewIterator(Table table, std::string_view lower,
                                             std::string_view upper) override;

  // Compacts every table's whole key range down to the bottom level (runs the TTL filter,
  // drops tombstones). Blocks until done; automatic compactions keep running meanwhile.
  Status CompactAll();

  // Flushes every table's memtable to an SST and waits for it.
  Status Flush();

  const std::string& data_dir() const { return data_dir_; }

 private:
  static Result<std::unique_ptr<RocksDbStore>> OpenImpl(const StorageOptions& options, WallClockNs clock,
                                                        bool read_only);
  RocksDbStore(std::string data_dir, std::unique_ptr<rocksdb::DB> db,
               std::vector<rocksdb::ColumnFamilyHandle*> handles,
               std::array<rocksdb::ColumnFamilyHandle*, kTableCount> tables);

  rocksdb::ColumnFamilyHandle* Handle(Table table) const {
    return tables_[static_cast<size_t>(table)];
  }

  const std::string data_dir_;
  const std::unique_ptr<rocksdb::DB> db_;
  // Every handle Open returned (default, tables, unknown CFs); destroyed before db_ closes.
  const std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  // Handle per Table, indexed by the enum value; points into handles_.
  const std::array<rocksdb::ColumnFamilyHandle*, kTableCount> tables_;
};

}  // namespace ordersync
