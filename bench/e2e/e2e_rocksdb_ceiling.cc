// e2e_rocksdb_ceiling: the RocksDB ceiling of the e2e benchmark — the engine's write
// volume with no engine logic. `--threads` writers (as many as engine workers) each
// commit WriteBatches of `--events-per-batch` events (the mean events per group commit
// of the ordersync run) to a RocksDbStore opened with serve's storage options (same
// column families, memtables, bloom filters, compression) and serve's durability. Per
// event each writer puts and deletes, table by table, what the profile from
// e2e_write_profile says the engine writes (fractional rates are carried over from event
// to event), with the profile's mean key and value sizes. The ERP dispatcher's outbox
// deletes and journal puts ride in the same batches. Keys: a 2-byte partition of the writer's share of
// 64 partitions, then random bytes (orders, dedup, journal...) or a per-writer sequence
// (outbox, exceptions); a delete removes a key of that table put earlier. Random
// incompressible values: a slightly pessimistic stand-in for FlatBuffers records.
//
// Output (stdout, JSON): events, seconds, events_per_s, writes_per_event, commit_ms
// {p50, p99, p99_9}.
//
// Usage: e2e_rocksdb_ceiling --config serve.toml --profile profile.json --data-dir DIR
//          --threads N --events-per-batch B --seconds S
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/e2e/bench_setup.h"

namespace ordersync::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct TableLoad {
  Table table;
  double puts = 0, deletes = 0;  // per event
  size_t key_bytes = 16, value_bytes = 0;
  bool sequential = false;       // queue tables: keys in put order
};

struct WriterResult {
  uint64_t events = 0, writes = 0;
  std::vector<uint32_t> commit_us;
  Status status;
};

void Writer(RocksDbStore* store, Durability durability, const std::vector<TableLoad>& loads, uint32_t index,
            uint32_t threads, uint64_t events_per_batch, Clock::time_point end, WriterResult* out) {
  std::mt19937_64 rng(index * 7919 + 17);
  std::vector<double> credit_put(loads.size(), 0), credit_del(loads.size(), 0);
  std::vector<std::deque<std::string>> live(loads.size());  // keys put, oldest first
  std::vector<uint64_t> seq(loads.size(), 0);
  std::string key, value;
  auto batch = store->NewBatch();
  auto fill = [&](std::string& s, size_t n) {
    s.resize(n);
    for (size_t i = 0; i < n; i += 8) {
      const uint64_t r = rng();
      std::memcpy(s.data() + i, &r, std::min<size_t>(8, n - i));
    }
  };
  while (Clock::now() < end) {
    batch->Clear();
    for (uint64_t e = 0; e < events_per_batch; ++e) {
      // This writer owns partitions p with p % threads == index, like an engine worker.
      const uint16_t partition = static_cast<uint16_t>(index + threads * (rng() % std::max<uint32_t>(1, 64 / threads)));
      for (size_t t = 0; t < loads.size(); ++t) {
        const TableLoad& l = loads[t];
        for (credit_put[t] += l.puts; credit_put[t] >= 1; credit_put[t] -= 1) {
          const size_t n = std::max<size_t>(l.key_bytes, 10);
          key.resize(n);
          key[0] = static_cast<char>(partition >> 8);
          key[1] = static_cast<char>(partition & 0xff);
          if (l.sequential) {
            const uint64_t s = ++seq[t];
            for (int b = 0; b < 8; ++b) key[2 + b] = static_cast<char>(s >> (56 - 8 * b));
            if (n > 10) {
              std::string tail;
              fill(tail, n - 10);
              std::memcpy(key.data() + 10, tail.data(), n - 10);
            }
          } else {
            std::string tail;
            fill(tail, n - 2);
            std::memcpy(key.data() + 2, tail.data(), n - 2);
          }
          fill(value, l.value_bytes);
          batch->Put(l.table, key, value);
          ++out->writes;
          if (l.deletes > 0) live[t].push_back(key);
        }
        for (credit_del[t] += l.deletes; credit_del[t] >= 1; credit_del[t] -= 1) {
          if (live[t].empty()) {
            fill(key, l.key_bytes);
          } else {
            key = std::move(live[t].front());
            live[t].pop_front();
          }
          batch->Delete(l.table, key);
          ++out->writes;
        }
      }
    }
    const auto t0 = Clock::now();
    Status s = store->Write(batch.get(), durability);
    if (!s.ok()) {
      out->status = s;
      return;
    }
    out->commit_us.push_back(
        static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
    out->events += events_per_batch;
  }
}

double Percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))] / 1000.0;
}

int Main(int argc, char** argv) {
  CLI::App app{"RocksDB ceiling: the engine's writes per event without the engine (JSON on stdout)"};
  std::string config_path, profile_path, data_dir;
  uint32_t threads = 1;
  double events_per_batch = 256, seconds = 10;
  app.add_option("--config", config_path, "serve's TOML (storage options, engine.durability)")->required();
  app.add_option("--profile", profile_path, "JSON from e2e_write_profile")->required();
  app.add_option("--data-dir", data_dir, "Fresh RocksDB directory (removed first and after)")->required();
  app.add_option("--threads", threads, "Writer threads (= engine workers)")->capture_default_str();
  app.add_option("--events-per-batch", events_per_batch, "Events per WriteBatch (mean events per group commit)")
      ->capture_default_str();
  app.add_option("--seconds", seconds, "Duration")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::optional<AppConfig> config = LoadServeConfig("e2e_rocksdb_ceiling", config_path);
  if (!config) return 2;
  nlohmann::json profile;
  try {
    profile = nlohmann::json::parse(std::ifstream(profile_path));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e_rocksdb_ceiling: cannot read profile %s: %s\n", profile_path.c_str(), e.what());
    return 2;
  }
  std::vector<TableLoad> loads;
  for (size_t i = 0; i < kTableCount; ++i) {
    const Table table = static_cast<Table>(i);
    const auto it = profile["tables"].find(std::string(TableName(table)));
    if (it == profile["tables"].end()) continue;
    TableLoad l;
    l.table = table;
    l.puts = (*it)["puts_per_event"].get<double>();
    l.deletes = (*it)["deletes_per_event"].get<double>();
    if (table == Table::kOutbox) l.deletes += profile["dispatcher_deletes_per_event"].get<double>();
    if (table == Table::kJournal) l.puts += profile.value("dispatcher_journal_puts_per_event", 0.0);
    l.key_bytes = static_cast<size_t>(std::lround((*it)["key_bytes"].get<double>()));
    l.value_bytes = static_cast<size_t>(std::lround((*it)["value_bytes"].get<double>()));
    l.sequential = table == Table::kOutbox || table == Table::kExceptions;
    loads.push_back(l);
  }
  std::unique_ptr<RocksDbStore> store = OpenFreshStore("e2e_rocksdb_ceiling", config->storage, data_dir);
  if (!store) return 1;
  const uint64_t per_batch = std::max<uint64_t>(1, static_cast<uint64_t>(std::lround(events_per_batch)));
  std::vector<WriterResult> results(std::max<uint32_t>(1, threads));
  std::vector<std::thread> writers;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (uint32_t t = 0; t < results.size(); ++t) {
    writers.emplace_back(Writer, store.get(), config->engine.durability, std::cref(loads), t,
                         static_cast<uint32_t>(results.size()), per_batch, end, &results[t]);
  }
  for (auto& w : writers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  uint64_t events = 0, writes = 0;
  std::vector<uint32_t> commits;
  for (const WriterResult& r : results) {
    if (!r.status.ok()) {
      std::fprintf(stderr, "e2e_rocksdb_ceiling: write failed: %s\n", r.status.ToString().c_str());
      return 1;
    }
    events += r.events;
    writes += r.writes;
    commits.insert(commits.end(), r.commit_us.begin(), r.commit_us.end());
  }
  nlohmann::json out = {{"threads", results.size()},
                        {"events_per_batch", per_batch},
                        {"events", events},
                        {"seconds", elapsed},
                        {"events_per_s", events / elapsed},
                        {"writes_per_event", events ? static_cast<double>(writes) / events : 0.0},
                        {"commit_ms", {{"p50", Percentile(commits, 0.5)}, {"p99", Percentile(commits, 0.99)},
                                       {"p99_9", Percentile(commits, 0.999)}}}};
  std::printf("%s\n", out.dump().c_str());
  store.reset();
  std::filesystem::remove_all(data_dir);
  return 0;
}

}  // namespace
}  // namespace ordersync::bench

int main(int argc, char** argv) { return ordersync::bench::Main(argc, argv); }
