// The event log's candidates, measured against each other (docs/architecture.md, "Why a
// log of our own"): one group commit = one record of `events` envelopes of ~300 B, as a
// worker appends it.
//
//   BM_LogAppend_SegmentFile/events:N/sync:S     adapters/storage/segment_log.h: writev of
//       one framed record (CRC-32C) to an append-only file; S=1 fdatasync per record
//   BM_LogAppend_RocksWalLogData/events:N/sync:S RocksDB's WAL carrying the record as
//       WriteBatch::PutLogData (no memtable insert); S=1 WriteOptions::sync
//   BM_LogAppend_RocksLogColumnFamily/events:N/sync:S one Put of the record into a "log"
//       column family (WAL + memtable insert, later flush and compaction)
//
// items/s = events/s; bytes/s = log bytes/s; counter cpu_ns_per_event = process CPU time
// per event (all threads, RocksDB's background ones included).
#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <memory>
#include <string>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "adapters/storage/segment_log.h"
#include "benchmark/benchmark.h"

namespace ordersync {
namespace {

constexpr size_t kEnvelopeBytes = 300;

class BenchDir {
 public:
  BenchDir() {
    char tmpl[] = "/tmp/log_append_bench.XXXXXX";
    const char* dir = mkdtemp(tmpl);
    path_ = dir != nullptr ? dir : "";
  }
  ~BenchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string MakeRecord(size_t events) {
  std::string r;
  r.reserve(events * (kEnvelopeBytes + 16));
  for (size_t i = 0; i < events; ++i) {
    r.append(16, static_cast<char>(i));  // item header
    for (size_t b = 0; b < kEnvelopeBytes; ++b) r.push_back(static_cast<char>((i * 31 + b) & 0x7f));
  }
  return r;
}

int64_t ProcessCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void Report(benchmark::State& state, size_t events, size_t record_bytes, int64_t cpu_ns) {
  const int64_t n = static_cast<int64_t>(state.iterations());
  state.SetItemsProcessed(n * static_cast<int64_t>(events));
  state.SetBytesProcessed(n * static_cast<int64_t>(record_bytes));
  state.counters["cpu_ns_per_event"] = static_cast<double>(cpu_ns) / static_cast<double>(n * events);
}

void BM_LogAppend_SegmentFile(benchmark::State& state) {
  const size_t events = static_cast<size_t>(state.range(0));
  const Durability d = state.range(1) != 0 ? Durability::kFsync : Durability::kWal;
  BenchDir dir;
  SegmentLogOptions o;
  o.dir = dir.path();
  auto log = SegmentLog::Open(o);
  auto stream = (*log)->CreateStream(LogStreamId{1, 0});
  if (!stream.ok()) {
    state.SkipWithError(stream.status().ToString().c_str());
    return;
  }
  const std::string record = MakeRecord(events);
  const int64_t cpu = ProcessCpuNs();
  for (auto _ : state) {
    LogPosition end;
    Status s = (*stream)->Append(record, d, &end);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    // Like the worker after each checkpoint: keep the disk bounded.
    if (end.offset > (256u << 20)) (*stream)->TruncateBefore(end.offset).PermitUncheckedError();
  }
  Report(state, events, record.size() + 8, ProcessCpuNs() - cpu);
}

std::unique_ptr<rocksdb::DB> OpenRocks(const std::string& path, bool log_cf, rocksdb::ColumnFamilyHandle** cf,
                                       std::vector<rocksdb::ColumnFamilyHandle*>* handles) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.write_buffer_size = 64 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}};
  if (log_cf) cfs.push_back({"log", rocksdb::ColumnFamilyOptions(options)});
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(options, path, cfs, handles, &db).ok()) return nullptr;
  *cf = handles->back();
  return std::unique_ptr<rocksdb::DB>(db);
}

void RunRocks(benchmark::State& state, bool log_cf) {
  const size_t events = static_cast<size_t>(state.range(0));
  BenchDir dir;
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db = OpenRocks(dir.path(), log_cf, &cf, &handles);
  if (db == nullptr) {
    state.SkipWithError("rocksdb open failed");
    return;
  }
  rocksdb::WriteOptions wo;
  wo.sync = state.range(1) != 0;
  const std::string record = MakeRecord(events);
  uint64_t seq = 0;
  char key[8];
  const int64_t cpu = ProcessCpuNs();
  for (auto _ : state) {
    rocksdb::WriteBatch batch;
    if (log_cf) {
      ++seq;
      for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(seq >> (8 * (7 - i)));
      batch.Put(cf, rocksdb::Slice(key, 8), record);
    } else {
      batch.PutLogData(record);
    }
    rocksdb::Status s = db->Write(wo, &batch);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  Report(state, events, record.size(), ProcessCpuNs() - cpu);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
}

void BM_LogAppend_RocksWalLogData(benchmark::State& state) { RunRocks(state, /*log_cf=*/false); }
void BM_LogAppend_RocksLogColumnFamily(benchmark::State& state) { RunRocks(state, /*log_cf=*/true); }

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"events", "sync"});
  for (int sync : {0, 1}) {
    for (int events : {16, 256}) b->Args({events, sync});
  }
  b->UseRealTime()->MinTime(1.0);
}

BENCHMARK(BM_LogAppend_SegmentFile)->Apply(Args);
BENCHMARK(BM_LogAppend_RocksWalLogData)->Apply(Args);
BENCHMARK(BM_LogAppend_RocksLogColumnFamily)->Apply(Args);

}  // namespace
}  // namespace ordersync

BENCHMARK_MAIN();
