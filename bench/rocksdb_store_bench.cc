// Microbenchmarks of RocksDbStore, run on the release build against a real database in a
// temporary directory under /tmp (removed afterwards), with default StorageOptions.
//
//   BM_RocksDbStore_WriteBatch/events:N       one group commit of N events with kWal; each
//       event is 4 puts of ~150 B values, as the engine writes them: order state (TTL
//       table), dedup key, outbox command, meta counter. items/s = events/s. Counters
//       p50_us / p99_us: latency of the Write call alone.
//   BM_RocksDbStore_WriteBatchFsync/events:N  the same with kFsync (one fsync per batch).
//   BM_RocksDbStore_GetMissDedup/bloom_bits:B Get of an absent event_id against 500k
//       dedup keys compacted into SSTs: the "is this event new?" question. B = 0 shows
//       what the bloom filter saves.
//
// Every Status is checked; a failure aborts the benchmark with SkipWithError.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "adapters/storage/rocksdb_store.h"
#include "benchmark/benchmark.h"
#include "engine/coding.h"

namespace ordersync {
namespace {

constexpr uint32_t kPartitions = 64;
constexpr size_t kValueBytes = 150;
constexpr int64_t kDayNs = int64_t{24} * 3600 * 1'000'000'000;

// A temporary directory under /tmp, removed with everything in it on destruction.
class BenchDir {
 public:
  BenchDir() {
    char tmpl[] = "/tmp/rocksdb_store_bench.XXXXXX";
    const char* dir = mkdtemp(tmpl);
    path_ = dir != nullptr ? dir : "";
  }
  ~BenchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Opens a store with default options in `dir`, or reports the error on `state`.
std::unique_ptr<RocksDbStore> OpenOrSkip(benchmark::State& state, const BenchDir& dir,
                                         uint32_t bloom_bits_per_key = 10) {
  if (!dir.ok()) {
    state.SkipWithError("mkdtemp failed");
    return nullptr;
  }
  StorageOptions options;
  options.data_dir = dir.path() + "/db";
  options.bloom_bits_per_key = bloom_bits_per_key;
  auto opened = RocksDbStore::Open(options);
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return nullptr;
  }
  return std::move(opened).value();
}

// p | 16 random bytes: an order id or event id as engine/keys.h lays it out.
void RandomIdKey(std::string* key, uint32_t partition, std::mt19937_64* rng) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  PutFixed64(key, (*rng)());
  PutFixed64(key, (*rng)());
}

double Percentile(std::vector<double>* v, double p) {
  if (v->empty()) return 0;
  const size_t i = std::min(v->size() - 1, static_cast<size_t>(p * static_cast<double>(v->size())));
  std::nth_element(v->begin(), v->begin() + static_cast<ptrdiff_t>(i), v->end());
  return (*v)[i];
}

void RunWriteBatch(benchmark::State& state, Durability durability) {
  const int64_t events = state.range(0);
  BenchDir dir;
  std::unique_ptr<RocksDbStore> store = OpenOrSkip(state, dir);
  if (store == nullptr) return;

  std::mt19937_64 rng(42);
  std::vector<uint64_t> outbox_seq(kPartitions, 0);
  std::string key;
  std::string order_value;
  PutFixed64(&order_value, static_cast<uint64_t>(kDayNs) * 365 * 60);  // expire_at ~2030
  order_value.append(kValueBytes - 8, 's');
  const std::string value(kValueBytes, 'v');
  auto batch = store->NewBatch();
  std::vector<double> write_us;
  write_us.reserve(1 << 16);

  for (auto _ : state) {
    batch->Clear();
    for (int64_t e = 0; e < events; ++e) {
      const uint32_t p = static_cast<uint32_t>(rng() % kPartitions);
      RandomIdKey(&key, p, &rng);  // order state (a new order id each time: worst case)
      batch->Put(Table::kOrders, key, order_value);
      RandomIdKey(&key, p, &rng);  // dedup: event_id
      batch->Put(Table::kDedup, key, value);
      key.clear();  // outbox: p | seq
      PutBigEndian16(&key, static_cast<uint16_t>(p));
      PutBigEndian64(&key, outbox_seq[p]++);
      batch->Put(Table::kOutbox, key, value);
      key.resize(2);  // meta: p | "counters"
      key.append("counters");
      batch->Put(Table::kMeta, key, value);
    }
    const auto start = std::chrono::steady_clock::now();
    Status s = store->Write(batch.get(), durability);
    const auto end = std::chrono::steady_clock::now();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    write_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  state.SetItemsProcessed(state.iterations() * events);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(batch->ByteSize()));
  state.counters["p50_us"] = Percentile(&write_us, 0.50);
  state.counters["p99_us"] = Percentile(&write_us, 0.99);
}

void BM_RocksDbStore_WriteBatch(benchmark::State& state) { RunWriteBatch(state, Durability::kWal); }
BENCHMARK(BM_RocksDbStore_WriteBatch)
    ->ArgName("events")
    ->Arg(1)
    ->Arg(64)
    ->Arg(512)
    ->UseRealTime()  // the work happens in RocksDB threads and the kernel, not CPU time
    ->Unit(benchmark::kMicrosecond);

void BM_RocksDbStore_WriteBatchFsync(benchmark::State& state) {
  RunWriteBatch(state, Durability::kFsync);
}
BENCHMARK(BM_RocksDbStore_WriteBatchFsync)
    ->ArgName("events")
    ->Arg(1)
    ->Arg(64)
    ->Arg(512)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// 500k dedup keys compacted into SSTs, built once per bloom setting and kept for all
// runs of the benchmark (Google Benchmark calls the function several times).
class DedupFixture {
 public:
  static constexpr int kKeys = 500'000;

  static DedupFixture* Get(benchmark::State& state, uint32_t bloom_bits) {
    static std::map<uint32_t, std::unique_ptr<DedupFixture>> fixtures;
    auto& fixture = fixtures[bloom_bits];
    if (fixture == nullptr) {
      fixture.reset(new DedupFixture);
      fixture->store_ = OpenOrSkip(state, fixture->dir_, bloom_bits);
      if (fixture->store_ == nullptr || !fixture->Load(state)) {
        fixture.reset();
        return nullptr;
      }
    }
    return fixture.get();
  }

  RocksDbStore* store() { return store_.get(); }

 private:
  bool Load(benchmark::State& state) {
    std::mt19937_64 rng(7);  // the lookups use another seed: 128-bit ids never collide
    std::string key;
    std::string value;
    PutFixed64(&value, static_cast<uint64_t>(kDayNs) * 365 * 60);  // expire_at
    PutFixed64(&value, 0x1234);                                    // fingerprint
    auto batch = store_->NewBatch();
    for (int i = 0; i < kKeys; ++i) {
      RandomIdKey(&key, static_cast<uint32_t>(rng() % kPartitions), &rng);
      batch->Put(Table::kDedup, key, value);
      if (batch->Count() == 1000 || i + 1 == kKeys) {
        if (!Check(state, store_->Write(batch.get(), Durability::kNone))) return false;
        batch->Clear();
      }
    }
    return Check(state, store_->Flush()) && Check(state, store_->CompactAll());
  }

  static bool Check(benchmark::State& state, const Status& s) {
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    return s.ok();
  }

  BenchDir dir_;
  std::unique_ptr<RocksDbStore> store_;
};

void BM_RocksDbStore_GetMissDedup(benchmark::State& state) {
  DedupFixture* fixture = DedupFixture::Get(state, static_cast<uint32_t>(state.range(0)));
  if (fixture == nullptr) return;
  static uint64_t seed = 99;  // a fresh key stream per run
  std::mt19937_64 rng(seed++);
  std::string key;
  std::string value;
  for (auto _ : state) {
    RandomIdKey(&key, static_cast<uint32_t>(rng() % kPartitions), &rng);
    Status s = fixture->store()->Get(Table::kDedup, key, &value);
    if (!s.IsNotFound()) {
      state.SkipWithError(s.ok() ? "unexpected hit" : s.ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RocksDbStore_GetMissDedup)->ArgName("bloom_bits")->Arg(10)->Arg(0);

}  // namespace
}  // namespace ordersync

BENCHMARK_MAIN();
