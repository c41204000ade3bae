// Tests of RocksDbStore and its TTL compaction filter against real RocksDB in a fresh
// temporary directory per test.
#include "adapters/storage/rocksdb_store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/storage/ttl_compaction_filter.h"
#include "engine/coding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000'000'000;  // a fixed "now" for TTL tests
constexpr int64_t kHourNs = int64_t{3600} * 1'000'000'000;

// A temporary directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rocksdb_store_test.XXXXXX";
    const char* dir = mkdtemp(tmpl);
    EXPECT_NE(dir, nullptr) << "mkdtemp: " << errno;
    path_ = dir != nullptr ? dir : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// [expire_at:fixed64][payload]: the value layout of TTL tables.
std::string TtlValue(int64_t expire_at, std::string_view payload) {
  std::string v;
  PutFixed64(&v, static_cast<uint64_t>(expire_at));
  v.append(payload);
  return v;
}

// Partition-prefixed key, as engine/keys.h builds them.
std::string Key(uint16_t partition, std::string_view rest) {
  std::string k;
  PutBigEndian16(&k, partition);
  k.append(rest);
  return k;
}

class RocksDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.data_dir = dir_.path() + "/db";
    options_.block_cache_mb = 8;
    options_.write_buffer_mb = 4;
    Reopen();
  }

  // Closes the store (if open) and opens it again on the same directory.
  void Reopen() {
    store_.reset();
    auto opened = RocksDbStore::Open(options_, [this] { return now_.load(); });
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  // Get that returns the value, "<NotFound>" or the error text.
  std::string GetOrStatus(Table table, std::string_view key) {
    std::string value;
    Status s = store_->Get(table, key, &value);
    if (s.IsNotFound()) return "<NotFound>";
    if (!s.ok()) return s.ToString();
    return value;
  }

  std::vector<std::string> Keys(Table table, std::string_view lower, std::string_view upper) {
    std::vector<std::string> keys;
    auto it = store_->NewIterator(table, lower, upper);
    for (; it->Valid(); it->Next()) keys.emplace_back(it->key());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return keys;
  }

  void PutOne(Table table, std::string_view key, std::string_view value,
              Durability durability = Durability::kWal) {
    auto batch = store_->NewBatch();
    batch->Put(table, key, value);
    Status s = store_->Write(batch.get(), durability);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TempDir dir_;
  StorageOptions options_;
  std::atomic<int64_t> now_{kNow};
  std::unique_ptr<RocksDbStore> store_;
};

TEST_F(RocksDbStoreTest, PutGetDeleteAcrossTablesInOneBatch) {
  auto batch = store_->NewBatch();
  batch->Put(Table::kOrders, "o1", "order-state");
  batch->Put(Table::kOutbox, "c1", "command");
  batch->Put(Table::kMeta, "m", "counters");
  EXPECT_EQ(batch->Count(), 3u);
  EXPECT_GT(batch->ByteSize(), 0u);
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o1"), "order-state");
  EXPECT_EQ(GetOrStatus(Table::kOutbox, "c1"), "command");
  EXPECT_EQ(GetOrStatus(Table::kMeta, "m"), "counters");

  batch->Clear();
  EXPECT_EQ(batch->Count(), 0u);
  batch->Delete(Table::kOutbox, "c1");
  batch->Put(Table::kOrders, "o1", "order-state-2");
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  EXPECT_EQ(GetOrStatus(Table::kOutbox, "c1"), "<NotFound>");
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o1"), "order-state-2");
  EXPECT_EQ(GetOrStatus(Table::kMeta, "m"), "counters");
}

TEST_F(RocksDbStoreTest, ReadOnlyOpenSeesDataWhileTheWriterHasItOpenAndCannotWrite) {
  PutOne(Table::kOrders, "k", "v1");
  auto reader = RocksDbStore::OpenReadOnly(options_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::string value;
  ASSERT_TRUE((*reader)->Get(Table::kOrders, "k", &value).ok());
  EXPECT_EQ(value, "v1");
  auto batch = (*reader)->NewBatch();
  batch->Put(Table::kOrders, "k", "v2");
  EXPECT_FALSE((*reader)->Write(batch.get(), Durability::kWal).ok());
  StorageOptions missing = options_;
  missing.data_dir = dir_.path() + "/nothing-here";
  EXPECT_TRUE(RocksDbStore::OpenReadOnly(missing).status().IsNotFound());
}

TEST_F(RocksDbStoreTest, GetOfAbsentKeyIsNotFound) {
  std::string value = "untouched";
  Status s = store_->Get(Table::kDedup, "nope", &value);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

TEST_F(RocksDbStoreTest, BatchIsInvisibleUntilWriteAndThenVisibleAsAWhole) {
  auto batch = store_->NewBatch();
  for (int i = 0; i < 10; ++i) {
    batch->Put(Table::kOrders, "o" + std::to_string(i), "v");
    batch->Put(Table::kDedup, "e" + std::to_string(i), "v");
  }
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o0"), "<NotFound>");
  EXPECT_EQ(GetOrStatus(Table::kDedup, "e9"), "<NotFound>");
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(GetOrStatus(Table::kOrders, "o" + std::to_string(i)), "v");
    EXPECT_EQ(GetOrStatus(Table::kDedup, "e" + std::to_string(i)), "v");
  }
  EXPECT_EQ(batch->Count(), 20u) << "Write must leave the batch intact";
}

TEST_F(RocksDbStoreTest, BatchWithInvalidTableWritesNothing) {
  auto batch = store_->NewBatch();
  batch->Put(Table::kOrders, "o1", "v");
  batch->Put(Table::kCount, "bad", "v");
  Status s = store_->Write(batch.get(), Durability::kWal);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("invalid table"));
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o1"), "<NotFound>");

  batch->Clear();  // clears the error too
  batch->Put(Table::kOrders, "o1", "v");
  EXPECT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
}

TEST_F(RocksDbStoreTest, WriteRejectsBatchOfAnotherStore) {
  StorageOptions other_options = options_;
  other_options.data_dir = dir_.path() + "/other";
  auto other = RocksDbStore::Open(other_options);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto batch = (*other)->NewBatch();
  batch->Put(Table::kOrders, "o1", "v");
  Status s = store_->Write(batch.get(), Durability::kWal);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o1"), "<NotFound>");
}

TEST_F(RocksDbStoreTest, DataSurvivesCloseAndReopen) {
  auto batch = store_->NewBatch();
  batch->Put(Table::kOrders, "o1", "state");
  batch->Put(Table::kExceptions, "x1", "exception");
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  batch.reset();
  Reopen();
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o1"), "state");
  EXPECT_EQ(GetOrStatus(Table::kExceptions, "x1"), "exception");
  // And after a flush to SSTs.
  ASSERT_TRUE(store_->Flush().ok());
  Reopen();
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o1"), "state");
}

TEST_F(RocksDbStoreTest, IteratorHonoursLowerAndUpperBounds) {
  auto batch = store_->NewBatch();
  for (const char* k : {"a", "b", "c", "d", "e"}) batch->Put(Table::kOutbox, k, k);
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());

  EXPECT_THAT(Keys(Table::kOutbox, "b", "d"), ::testing::ElementsAre("b", "c"));
  EXPECT_THAT(Keys(Table::kOutbox, "b", ""), ::testing::ElementsAre("b", "c", "d", "e"));
  EXPECT_THAT(Keys(Table::kOutbox, "", ""), ::testing::ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(Keys(Table::kOutbox, "bb", "dd"), ::testing::ElementsAre("c", "d"));
  EXPECT_THAT(Keys(Table::kOutbox, "x", ""), ::testing::IsEmpty());
  EXPECT_THAT(Keys(Table::kOutbox, "c", "c"), ::testing::IsEmpty());
}

TEST_F(RocksDbStoreTest, IteratorCoversPartitionRangeWithBinaryKeys) {
  // Partition 1's range is [0x0001, 0x0002); keys contain 0x00 and 0xff bytes.
  auto batch = store_->NewBatch();
  for (uint16_t p : {0, 1, 2}) {
    for (uint64_t seq : {0ull, 1ull, 255ull, 256ull}) {
      std::string k = Key(p, "");
      PutBigEndian64(&k, seq);
      batch->Put(Table::kOutbox, k, "cmd");
    }
  }
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  std::vector<std::string> keys = Keys(Table::kOutbox, Key(1, ""), Key(2, ""));
  ASSERT_EQ(keys.size(), 4u);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(DecodeBigEndian16(keys[i].data()), 1);
  EXPECT_EQ(DecodeBigEndian64(keys[3].data() + 2), 256u);
}

TEST_F(RocksDbStoreTest, IteratorKeepsItsOwnCopyOfTheBounds) {
  auto batch = store_->NewBatch();
  for (const char* k : {"k1", "k2", "k3", "k4"}) batch->Put(Table::kParked, k, "v");
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());

  std::unique_ptr<StoreIterator> it;
  {
    std::string lower = "k2";
    std::string upper = "k4";
    it = store_->NewIterator(Table::kParked, lower, upper);
    lower.assign("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");  // clobber, then free, the callers' copies
    upper.assign("a");
  }
  std::vector<std::string> keys;
  for (; it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_THAT(keys, ::testing::ElementsAre("k2", "k3"));
  EXPECT_TRUE(it->status().ok());
}

TEST_F(RocksDbStoreTest, IteratorOnInvalidTableReportsError) {
  auto it = store_->NewIterator(Table::kCount, "", "");
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(it->status().code(), Status::Code::kInvalidArgument);
}

TEST_F(RocksDbStoreTest, TablesAreIsolated) {
  auto batch = store_->NewBatch();
  batch->Put(Table::kOrders, "same", "in-orders");
  batch->Put(Table::kDedup, "same", "in-dedup");
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  EXPECT_EQ(GetOrStatus(Table::kOrders, "same"), "in-orders");
  EXPECT_EQ(GetOrStatus(Table::kDedup, "same"), "in-dedup");
  EXPECT_EQ(GetOrStatus(Table::kParked, "same"), "<NotFound>");

  PutOne(Table::kMeta, "only-meta", "x");
  batch->Clear();
  batch->Delete(Table::kOrders, "same");
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  EXPECT_EQ(GetOrStatus(Table::kOrders, "same"), "<NotFound>");
  EXPECT_EQ(GetOrStatus(Table::kDedup, "same"), "in-dedup");
  EXPECT_THAT(Keys(Table::kOrders, "", ""), ::testing::IsEmpty());
  EXPECT_THAT(Keys(Table::kMeta, "", ""), ::testing::ElementsAre("only-meta"));
}

TEST_F(RocksDbStoreTest, CreatesOneColumnFamilyPerTable) {
  store_.reset();
  std::vector<std::string> names;
  ASSERT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options_.data_dir, &names).ok());
  std::vector<std::string> expected = {rocksdb::kDefaultColumnFamilyName};
  for (size_t i = 0; i < kTableCount; ++i) {
    expected.emplace_back(TableName(static_cast<Table>(i)));
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAreArray(expected));
}

TEST_F(RocksDbStoreTest, OpensDirectoryWithUnknownColumnFamily) {
  // A column family this build does not know (written by a newer build) must not stop
  // Open, and must be left as it is.
  store_.reset();
  options_.data_dir = dir_.path() + "/future";
  {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options options;
    options.create_if_missing = true;
    ASSERT_TRUE(rocksdb::DB::Open(options, options_.data_dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    ASSERT_TRUE(
        db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "from_the_future", &cf).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), cf, "k", "v").ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(cf).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  Reopen();
  PutOne(Table::kOrders, "o", "v");
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o"), "v");
  store_.reset();
  std::vector<std::string> names;
  ASSERT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options_.data_dir, &names).ok());
  EXPECT_THAT(names, ::testing::Contains("from_the_future"));
  EXPECT_THAT(names, ::testing::Contains("orders"));
}

TEST_F(RocksDbStoreTest, TtlFilterDropsExpiredEntriesOfTtlTablesOnly) {
  const std::string expired = TtlValue(kNow - 1, "old");
  const std::string at_now = TtlValue(kNow, "boundary");  // expire_at == now: not yet
  const std::string alive = TtlValue(kNow + kHourNs, "fresh");
  const std::string never = TtlValue(-1, "never");  // 0xffff...: far future, not negative
  const std::string short_value = "abc";            // unreadable: kept

  auto batch = store_->NewBatch();
  for (size_t i = 0; i < kTableCount; ++i) {
    const Table table = static_cast<Table>(i);
    batch->Put(table, "expired", expired);
    batch->Put(table, "at_now", at_now);
    batch->Put(table, "alive", alive);
    batch->Put(table, "never", never);
    batch->Put(table, "short", short_value);
  }
  ASSERT_TRUE(store_->Write(batch.get(), Durability::kWal).ok());
  // Before compaction even expired entries are returned: readers check expire_at.
  EXPECT_EQ(GetOrStatus(Table::kOrders, "expired"), expired);

  ASSERT_TRUE(store_->CompactAll().ok());
  for (size_t i = 0; i < kTableCount; ++i) {
    const Table table = static_cast<Table>(i);
    SCOPED_TRACE(TableName(table));
    EXPECT_EQ(GetOrStatus(table, "expired"), TableHasTtl(table) ? "<NotFound>" : expired);
    EXPECT_EQ(GetOrStatus(table, "at_now"), at_now);
    EXPECT_EQ(GetOrStatus(table, "alive"), alive);
    EXPECT_EQ(GetOrStatus(table, "never"), never);
    EXPECT_EQ(GetOrStatus(table, "short"), short_value);
  }
  EXPECT_TRUE(TableHasTtl(Table::kOrders) && TableHasTtl(Table::kDedup));

  // Two hours later the entry alive at kNow + 1h has expired too.
  now_ = kNow + 2 * kHourNs;
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_EQ(GetOrStatus(Table::kOrders, "alive"), "<NotFound>");
  EXPECT_EQ(GetOrStatus(Table::kDedup, "at_now"), "<NotFound>");
  EXPECT_EQ(GetOrStatus(Table::kDedup, "never"), never);
  EXPECT_EQ(GetOrStatus(Table::kOutbox, "alive"), alive);
}

TEST_F(RocksDbStoreTest, TtlFilterDoesNotResurrectOlderVersions) {
  // An old unexpired version sits in an SST; a newer, expired version overwrites it.
  PutOne(Table::kOrders, "o", TtlValue(kNow + kHourNs, "v1"));
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->CompactAll().ok());
  PutOne(Table::kOrders, "o", TtlValue(kNow - 1, "v2"));
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_EQ(GetOrStatus(Table::kOrders, "o"), "<NotFound>");
}

TEST(RocksDbTtlCompactionFilterTest, DecidesOnExpireAtPrefix) {
  TtlCompactionFilter filter(kNow);
  std::string new_value;
  bool changed = false;
  auto drops = [&](const std::string& v) {
    return filter.Filter(0, "k", rocksdb::Slice(v), &new_value, &changed);
  };
  EXPECT_TRUE(drops(TtlValue(kNow - 1, "")));
  EXPECT_TRUE(drops(TtlValue(0, "payload")));
  EXPECT_FALSE(drops(TtlValue(kNow, "")));
  EXPECT_FALSE(drops(TtlValue(kNow + 1, "payload")));
  EXPECT_FALSE(drops(TtlValue(-1, "")));  // UINT64_MAX
  EXPECT_FALSE(drops(""));
  EXPECT_FALSE(drops("1234567"));
  EXPECT_FALSE(changed);

  TtlCompactionFilter before_epoch(-5);
  std::string v = TtlValue(0, "");
  EXPECT_FALSE(before_epoch.Filter(0, "k", rocksdb::Slice(v), &new_value, &changed));
}

TEST_F(RocksDbStoreTest, AllDurabilitiesWriteAndSurviveCleanReopen) {
  PutOne(Table::kOrders, "wal", "1", Durability::kWal);
  PutOne(Table::kOrders, "fsync", "2", Durability::kFsync);
  PutOne(Table::kOrders, "none", "3", Durability::kNone);
  EXPECT_EQ(GetOrStatus(Table::kOrders, "wal"), "1");
  EXPECT_EQ(GetOrStatus(Table::kOrders, "fsync"), "2");
  EXPECT_EQ(GetOrStatus(Table::kOrders, "none"), "3");
  Reopen();  // a clean close flushes the memtable holding the kNone write
  EXPECT_EQ(GetOrStatus(Table::kOrders, "wal"), "1");
  EXPECT_EQ(GetOrStatus(Table::kOrders, "fsync"), "2");
  EXPECT_EQ(GetOrStatus(Table::kOrders, "none"), "3");
}

TEST_F(RocksDbStoreTest, OpenOnAFileGivesClearError) {
  const std::string file = dir_.path() + "/not_a_dir";
  std::ofstream(file) << "x";
  StorageOptions options = options_;
  options.data_dir = file;
  auto opened = RocksDbStore::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kIOError);
  EXPECT_THAT(opened.status().message(), HasSubstr(file));
  EXPECT_THAT(opened.status().message(), HasSubstr("not a directory"));

  options.data_dir = file + "/db";  // a path below a file cannot be created
  opened = RocksDbStore::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kIOError);
  EXPECT_THAT(opened.status().message(), HasSubstr("rocksdb open"));
}

TEST_F(RocksDbStoreTest, OpenOfDirectoryInUseFails) {
  auto second = RocksDbStore::Open(options_);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("rocksdb open"));
  EXPECT_THAT(second.status().message(), HasSubstr("LOCK"));
}

TEST_F(RocksDbStoreTest, OpenRejectsZeroSizes) {
  StorageOptions options = options_;
  options.data_dir = dir_.path() + "/zero";
  options.write_buffer_mb = 0;
  auto opened = RocksDbStore::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(opened.status().message(), HasSubstr("write_buffer_mb"));
}

TEST_F(RocksDbStoreTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 4;
  constexpr int kBatches = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto batch = store_->NewBatch();
      std::string value;
      for (int i = 0; i < kBatches; ++i) {
        batch->Clear();
        const std::string k = Key(static_cast<uint16_t>(t), std::to_string(i));
        batch->Put(Table::kOrders, k, "s");
        batch->Put(Table::kOutbox, k, "c");
        if (!store_->Write(batch.get(), Durability::kWal).ok()) ++failures;
        if (!store_->Get(Table::kOutbox, k, &value).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(Keys(Table::kOrders, Key(static_cast<uint16_t>(t), ""),
                   Key(static_cast<uint16_t>(t + 1), ""))
                  .size(),
              static_cast<size_t>(kBatches));
  }
}

// Crash test: a child process writes batches with kWal and reports each acknowledged batch
// number on a pipe; the parent SIGKILLs it mid-stream and reopens. Every acknowledged
// batch must be present, and no batch may be partially present.
//
// The child is this binary re-executed in writer mode (see main below), not a bare fork:
// RocksDB's background thread pool and its locks do not survive fork() in a process that
// has opened a database before.
constexpr int kKeysPerBatch = 8;
constexpr char kCrashChildFlag[] = "--rocksdb_crash_child";

std::string CrashKey(uint64_t batch, int i) {
  std::string k = Key(static_cast<uint16_t>(batch % 64), "");
  PutBigEndian64(&k, batch);
  k.push_back(static_cast<char>(i));
  return k;
}

Table CrashTable(int i) {
  static constexpr Table kTables[] = {Table::kOrders, Table::kDedup, Table::kOutbox,
                                      Table::kMeta};
  return kTables[i % 4];
}

// Writer mode: opens `data_dir`, writes batches first_batch, first_batch+1, ... with kWal
// and writes each batch number to `ack_fd` once Write returned OK. Runs until killed.
int RunCrashChild(const std::string& data_dir, uint64_t first_batch, int ack_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // do not outlive a crashed test
  StorageOptions options;
  options.data_dir = data_dir;
  options.block_cache_mb = 8;
  options.write_buffer_mb = 4;
  auto opened = RocksDbStore::Open(options);
  if (!opened.ok()) return 2;
  std::unique_ptr<RocksDbStore> store = std::move(opened).value();
  auto batch = store->NewBatch();
  const std::string value(150, 'v');
  for (uint64_t n = first_batch; n < first_batch + 1'000'000; ++n) {
    batch->Clear();
    for (int i = 0; i < kKeysPerBatch; ++i) batch->Put(CrashTable(i), CrashKey(n, i), value);
    if (!store->Write(batch.get(), Durability::kWal).ok()) return 3;
    if (write(ack_fd, &n, sizeof(n)) != static_cast<ssize_t>(sizeof(n))) return 4;
  }
  return 5;  // the parent should have killed us long before
}

// Reads one acknowledged batch number; false at EOF.
bool ReadAck(int fd, uint64_t* n) {
  size_t got = 0;
  while (got < sizeof(*n)) {
    ssize_t r = read(fd, reinterpret_cast<char*>(n) + got, sizeof(*n) - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

TEST_F(RocksDbStoreTest, KilledWriterLosesNoAcknowledgedBatchAndLeavesNoPartialBatch) {
  store_.reset();  // the child owns the directory while it runs
  uint64_t first_batch = 0;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const std::string first = std::to_string(first_batch);
    const std::string fd = std::to_string(fds[1]);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      execl("/proc/self/exe", "rocksdb_store_test", kCrashChildFlag, options_.data_dir.c_str(),
            first.c_str(), fd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);

    // Kill after a varying number of acknowledgements, i.e. mid-stream.
    const uint64_t kill_after = 200 + static_cast<uint64_t>(round) * 350;
    std::vector<uint64_t> acked;
    uint64_t n = 0;
    while (acked.size() < kill_after && ReadAck(fds[0], &n)) acked.push_back(n);
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    // The child must have died of our SIGKILL, not exited on an error of its own.
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exit code " << WEXITSTATUS(wstatus);
    // Acks already in the pipe were acknowledged before the kill, too.
    while (ReadAck(fds[0], &n)) acked.push_back(n);
    close(fds[0]);
    ASSERT_GE(acked.size(), kill_after);

    Reopen();
    ASSERT_NE(store_, nullptr);
    for (size_t i = 0; i < acked.size(); ++i) ASSERT_EQ(acked[i], first_batch + i);
    const uint64_t last_acked = acked.back();
    uint64_t present_batches = 0;
    // Acked batches, plus a few beyond the last ack that may have been written (all or none).
    for (uint64_t b = first_batch; b <= last_acked + 16; ++b) {
      int present = 0;
      for (int i = 0; i < kKeysPerBatch; ++i) {
        std::string value;
        Status s = store_->Get(CrashTable(i), CrashKey(b, i), &value);
        ASSERT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
        if (s.ok()) ++present;
      }
      ASSERT_TRUE(present == 0 || present == kKeysPerBatch)
          << "batch " << b << " partially present: " << present << " of " << kKeysPerBatch;
      if (b <= last_acked) {
        ASSERT_EQ(present, kKeysPerBatch) << "acknowledged batch " << b << " lost";
      }
      if (present != 0) ++present_batches;
    }
    first_batch += present_batches;  // the next round continues after what survived
    store_.reset();
  }
}

}  // namespace
}  // namespace ordersync

// GoogleTest's main, plus the writer mode of the crash test:
//   rocksdb_store_test --rocksdb_crash_child <data_dir> <first_batch> <ack_fd>
int main(int argc, char** argv) {
  if (argc == 5 && std::string_view(argv[1]) == ordersync::kCrashChildFlag) {
    return ordersync::RunCrashChild(argv[2], std::stoull(argv[3]), std::stoi(argv[4]));
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
