#include "adapters/storage/rocksdb_store.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "rocksdb/cache.h"
#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/slice.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/table_properties_collectors.h"
#include "rocksdb/write_batch.h"

namespace ordersync {

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

bool IsValidTable(Table table) { return static_cast<size_t>(table) < kTableCount; }

// Converts a non-OK RocksDB status into ours, prefixed with what failed
// ("rocksdb write: IO error: No space left on device").
Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsIOError()) return Status::IOError(msg);
  if (s.IsInvalidArgument() || s.IsNotSupported()) return Status::InvalidArgument(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Status::Busy(msg);
  if (s.IsShutdownInProgress() || s.IsIncomplete()) return Status::Unavailable(msg);
  return Status::Internal(msg);
}

// RocksDB counts per-operation statistics in thread-local perf and I/O contexts by
// default (PerfLevel::kEnableCount); from a shared library every update is a
// __tls_get_addr call, several per key written. Nothing here reads those contexts, so
// each thread that calls the store turns them off once.
void DisablePerfContextOnThisThread() {
  static thread_local bool disabled = false;
  if (disabled) return;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  disabled = true;
}

// What a table is used for, which decides its column-family options.
struct TableProfile {
  bool point_lookups = false;  // Get by key: bloom filter + hash index in data blocks
  bool ttl = false;            // TableHasTtl: TTL compaction filter
  bool queue = false;          // written once, deleted when done: tombstone-driven compaction
};

TableProfile ProfileOf(Table table) {
  TableProfile profile;
  switch (table) {
    case Table::kOrders:
    case Table::kDedup:
    case Table::kMeta:
      profile.point_lookups = true;
      break;
    case Table::kParked:       // scanned per order, deleted when released
    case Table::kOutbox:       // deleted once posted
    case Table::kExceptions:   // deleted once resolved
    case Table::kDeadLetters:  // deleted once replayed
      profile.queue = true;
      break;
    case Table::kQuarantine:  // append-only, rarely read
    case Table::kJournal:     // append-only per order, expires with the order (TTL)
    case Table::kCount:
      break;
  }
  // The filter goes exactly where the engine's contract says values carry expire_at.
  profile.ttl = TableHasTtl(table);
  return profile;
}

bool CompressionSupported(rocksdb::CompressionType type) {
  static const std::vector<rocksdb::CompressionType> supported =
      rocksdb::GetSupportedCompressions();
  return std::find(supported.begin(), supported.end(), type) != supported.end();
}

rocksdb::DBOptions MakeDbOptions(const StorageOptions& options) {
  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.max_background_jobs = static_cast<int>(options.background_jobs);
  // Several workers commit group batches concurrently: overlap WAL append and memtable
  // insert of consecutive write groups. (Within noise for a single writer.)
  db.enable_pipelined_write = true;
  // A WAL file can only be deleted once every column family with data in it has flushed.
  // Rarely written tables (exceptions, quarantine) would pin WAL files indefinitely;
  // capping the total forces their flush and bounds disk use and recovery time: opening
  // the store replays up to this much WAL (checkpoints are written with the WAL on), so
  // it is two memtables' worth, not one per table (measured: ~350 MB of WAL took 3.5 s
  // to replay after a kill -9 under flat-out load, bench/recovery_run).
  db.max_total_wal_size = uint64_t{options.write_buffer_mb} * kMiB * 2;
  // Recovery replays the WAL into memtables and leaves them there instead of writing
  // level-0 tables before the store opens; they flush later like any memtable.
  db.avoid_flush_during_recovery = true;
  // A kill -9 can tear the last WAL record: recover every complete batch before it.
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Smooth SST write-back instead of one large flush of dirty pages at file close.
  db.bytes_per_sync = kMiB;
  db.keep_log_file_num = 10;
  db.max_log_file_size = 64 * kMiB;
  return db;
}

rocksdb::ColumnFamilyOptions MakeColumnFamilyOptions(const StorageOptions& options,
                                                     const std::shared_ptr<rocksdb::Cache>& cache,
                                                     const TableProfile& profile,
                                                     const WallClockNs& clock) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = uint64_t{options.write_buffer_mb} * kMiB;
  // Size levels from the bottom up: stable space amplification as data grows.
  cf.level_compaction_dynamic_level_bytes = true;
  // Small values (100-500 B) compress per 4 KiB block; LZ4 is cheap enough for the write
  // path, ZSTD gives the cold bottom level a better ratio.
  if (CompressionSupported(rocksdb::kLZ4Compression)) {
    cf.compression = rocksdb::kLZ4Compression;
  } else if (CompressionSupported(rocksdb::kSnappyCompression)) {
    cf.compression = rocksdb::kSnappyCompression;
  } else {
    cf.compression = rocksdb::kNoCompression;
  }
  if (CompressionSupported(rocksdb::kZSTD)) cf.bottommost_compression = rocksdb::kZSTD;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks live in the (bounded) block cache in its high-priority pool
  // instead of unbounded table-reader memory; L0 ones stay pinned since every read
  // probes L0.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.optimize_filters_for_memory = true;
  if (profile.point_lookups) {
    if (options.bloom_bits_per_key > 0) {
      // Whole-key filtering: dedup keys are random event ids, there is no useful prefix.
      // optimize_filters_for_hits stays false (the default): dedup lookups mostly miss,
      // and the bottom level's filter is exactly what answers a miss from memory.
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
      table.whole_key_filtering = true;
      cf.memtable_whole_key_filtering = true;
      cf.memtable_prefix_bloom_size_ratio = 0.02;
    }
    table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  if (profile.ttl) {
    cf.compaction_filter_factory = std::make_shared<TtlCompactionFilterFactory>(clock);
  }
  if (profile.queue) {
    // Entries are deleted soon after they are written, often while still in the memtable:
    // flushes then produce files of mostly tombstones that scans must step over. Mark a
    // file for compaction when any 128 consecutive entries hold 64 deletions, or half of
    // the file is deletions, so tombstones reach the bottom level and disappear.
    cf.table_properties_collector_factories.push_back(
        rocksdb::NewCompactOnDeletionCollectorFactory(128, 64, 0.5));
  }
  return cf;
}

// A batch of this store: a rocksdb::WriteBatch plus the handles to address tables. An
// invalid table or a rejected operation makes the batch fail as a whole at Write.
class RocksDbBatch final : public StoreBatch {
 public:
  RocksDbBatch(const RocksDbStore* owner,
               const std::array<rocksdb::ColumnFamilyHandle*, kTableCount>* tables)
      : owner_(owner), tables_(tables) {}

  void Put(Table table, std::string_view key, std::string_view value) override {
    if (!CheckTable(table)) return;
    Record(batch_.Put((*tables_)[static_cast<size_t>(table)], ToSlice(key), ToSlice(value)),
           "rocksdb batch put");
  }
  void Delete(Table table, std::string_view key) override {
    if (!CheckTable(table)) return;
    Record(batch_.Delete((*tables_)[static_cast<size_t>(table)], ToSlice(key)),
           "rocksdb batch delete");
  }
  size_t Count() const override { return static_cast<size_t>(batch_.Count()); }
  size_t ByteSize() const override { return batch_.GetDataSize(); }
  void Clear() override {
    batch_.Clear();
    status_ = Status::OK();
  }

  const RocksDbStore* owner() const { return owner_; }
  const Status& status() const { return status_; }
  rocksdb::WriteBatch* rep() { return &batch_; }

 private:
  bool CheckTable(Table table) {
    if (IsValidTable(table)) return true;
    if (status_.ok()) {
      status_ = Status::InvalidArgument("rocksdb batch: invalid table " +
                                        std::to_string(static_cast<unsigned>(table)));
    }
    return false;
  }
  void Record(const rocksdb::Status& s, std::string_view what) {
    if (!s.ok() && status_.ok()) status_ = FromRocks(s, what);
  }

  const RocksDbStore* const owner_;
  const std::array<rocksdb::ColumnFamilyHandle*, kTableCount>* const tables_;
  rocksdb::WriteBatch batch_;
  Status status_;  // first error of a Put/Delete since construction or Clear
};

// Iterator over [lower, upper) of one column family. Owns copies of the bounds: RocksDB
// keeps pointers to the bound Slices for the life of its iterator, so the strings and
// Slices are declared (constructed) before, and destroyed after, iter_.
class RocksDbIterator final : public StoreIterator {
 public:
  RocksDbIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view lower,
                  std::string_view upper)
      : lower_(lower), upper_(upper), lower_slice_(lower_), upper_slice_(upper_) {
    rocksdb::ReadOptions read;
    read.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) read.iterate_upper_bound = &upper_slice_;
    iter_.reset(db->NewIterator(read, cf));
    iter_->Seek(lower_slice_);
  }

  bool Valid() const override { return iter_->Valid(); }
  void Next() override { iter_->Next(); }
  std::string_view key() const override { return ToView(iter_->key()); }
  std::string_view value() const override { return ToView(iter_->value()); }
  Status status() const override {
    rocksdb::Status s = iter_->status();
    return s.ok() ? Status::OK() : FromRocks(s, "rocksdb iterator");
  }

 private:
  const std::string lower_;
  const std::string upper_;
  const rocksdb::Slice lower_slice_;
  const rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> iter_;
};

// Returned for an invalid table: empty, with the error in status().
class ErrorIterator final : public StoreIterator {
 public:
  explicit ErrorIterator(Status status) : status_(std::move(status)) {}
  bool Valid() const override { return false; }
  void Next() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  const Status status_;
};

}  // namespace

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const StorageOptions& options) {
  return Open(options, &SystemWallClockNs);
}

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const StorageOptions& options,
                                                         WallClockNs clock) {
  return OpenImpl(options, std::move(clock), /*read_only=*/false);
}

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::OpenReadOnly(const StorageOptions& options) {
  return OpenImpl(options, &SystemWallClockNs, /*read_only=*/true);
}

Result<std::unique_ptr<RocksDbStore>> RocksDbStore::OpenImpl(const StorageOptions& options,
                                                             WallClockNs clock, bool read_only) {
  const std::string& dir = options.data_dir;
  if (dir.empty()) return Status::InvalidArgument("rocksdb open: storage.data_dir is empty");
  if (options.block_cache_mb == 0) {
    return Status::InvalidArgument("rocksdb open: storage.block_cache_mb must be > 0");
  }
  if (options.write_buffer_mb == 0) {
    return Status::InvalidArgument("rocksdb open: storage.write_buffer_mb must be > 0");
  }
  if (options.background_jobs == 0) {
    return Status::InvalidArgument("rocksdb open: storage.background_jobs must be > 0");
  }
  if (!clock) return Status::InvalidArgument("rocksdb open: no clock for TTL expiry");

  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return Status::IOError("rocksdb open: data_dir '" + dir + "' exists and is not a directory");
  }
  if (read_only && !fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return Status::NotFound("rocksdb open: no ordersync data in '" + dir + "'");
  }
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::IOError("rocksdb open: cannot create data_dir '" + dir + "': " + ec.message());
  }

  const rocksdb::DBOptions db_options = MakeDbOptions(options);
  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = uint64_t{options.block_cache_mb} * kMiB;
  cache_options.high_pri_pool_ratio = 0.5;  // index and filter blocks
  const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(cache_options);

  // Column families: default (unused), one per table, then any the directory already has
  // that this build does not know (RocksDB refuses to open without them).
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName,
                           MakeColumnFamilyOptions(options, cache, TableProfile{}, clock));
  for (size_t i = 0; i < kTableCount; ++i) {
    const Table table = static_cast<Table>(i);
    descriptors.emplace_back(std::string(TableName(table)),
                             MakeColumnFamilyOptions(options, cache, ProfileOf(table), clock));
  }
  if (fs::exists(fs::path(dir) / "CURRENT", ec)) {
    std::vector<std::string> existing;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir, &existing);
    if (!s.ok()) return FromRocks(s, "rocksdb open: list column families of '" + dir + "'");
    for (const std::string& name : existing) {
      const bool known = std::any_of(descriptors.begin(), descriptors.end(),
                                     [&](const auto& d) { return d.name == name; });
      if (!known) {
        descriptors.emplace_back(name,
                                 MakeColumnFamilyOptions(options, cache, TableProfile{}, clock));
      }
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = read_only
                          ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw_db)
                          : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw_db);
  if (!s.ok()) return FromRocks(s, std::string(read_only ? "rocksdb open (read-only) '" : "rocksdb open '") + dir + "'");
  std::unique_ptr<rocksdb::DB> db(raw_db);

  std::array<rocksdb::ColumnFamilyHandle*, kTableCount> tables{};
  for (size_t i = 0; i < kTableCount; ++i) tables[i] = handles[1 + i];
  return std::unique_ptr<RocksDbStore>(
      new RocksDbStore(dir, std::move(db), std::move(handles), tables));
}

RocksDbStore::RocksDbStore(std::string data_dir, std::unique_ptr<rocksdb::DB> db,
                           std::vector<rocksdb::ColumnFamilyHandle*> handles,
                           std::array<rocksdb::ColumnFamilyHandle*, kTableCount> tables)
    : data_dir_(std::move(data_dir)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      tables_(tables) {}

RocksDbStore::~RocksDbStore() {
  // A destructor has no one to report to; Close() flushes kNone data first.
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

Status RocksDbStore::Get(Table table, std::string_view key, std::string* value) {
  if (!IsValidTable(table)) return Status::InvalidArgument("rocksdb get: invalid table");
  DisablePerfContextOnThisThread();
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(table), ToSlice(key), value);
  if (s.ok()) return Status::OK();
  // The common miss (dedup) returns a message short enough for the small-string buffer:
  // no allocation on the hot path.
  if (s.IsNotFound()) return Status::NotFound("key not found");
  return FromRocks(s, "rocksdb get");
}

std::unique_ptr<StoreBatch> RocksDbStore::NewBatch() {
  return std::make_unique<RocksDbBatch>(this, &tables_);
}

Status RocksDbStore::Write(StoreBatch* batch, Durability durability) {
  auto* rocks_batch = dynamic_cast<RocksDbBatch*>(batch);
  if (rocks_batch == nullptr || rocks_batch->owner() != this) {
    return Status::InvalidArgument("rocksdb write: batch was not created by this store");
  }
  if (!rocks_batch->status().ok()) {
    return Status::InvalidArgument("rocksdb write: rejected batch: " +
                                   rocks_batch->status().message());
  }
  rocksdb::WriteOptions write;
  switch (durability) {
    case Durability::kWal: break;  // WAL appended by write(2), no fsync
    case Durability::kFsync: write.sync = true; break;
    case Durability::kNone: write.disableWAL = true; break;
    default: return Status::InvalidArgument("rocksdb write: unknown durability");
  }
  DisablePerfContextOnThisThread();
  rocksdb::Status s = db_->Write(write, rocks_batch->rep());
  if (!s.ok()) return FromRocks(s, "rocksdb write");
  return Status::OK();
}

std::unique_ptr<StoreIterator> RocksDbStore::NewIterator(Table table, std::string_view lower,
                                                         std::string_view upper) {
  if (!IsValidTable(table)) {
    return std::make_unique<ErrorIterator>(
        Status::InvalidArgument("rocksdb iterator: invalid table"));
  }
  return std::make_unique<RocksDbIterator>(db_.get(), Handle(table), lower, upper);
}

Status RocksDbStore::CompactAll() {
  rocksdb::CompactRangeOptions compact;
  // Rewrite the bottom level too (that is where expired entries and old tombstones sit),
  // but not files this same compaction just produced.
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  compact.exclusive_manual_compaction = false;
  for (size_t i = 0; i < kTableCount; ++i) {
    rocksdb::Status s = db_->CompactRange(compact, tables_[i], nullptr, nullptr);
    if (!s.ok()) {
      return FromRocks(s, "rocksdb compact " + std::string(TableName(static_cast<Table>(i))));
    }
  }
  return Status::OK();
}

Status RocksDbStore::Flush() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(tables_.begin(), tables_.end());
  rocksdb::Status s = db_->Flush(flush, cfs);
  if (!s.ok()) return FromRocks(s, "rocksdb flush");
  return Status::OK();
}

}  // namespace ordersync
