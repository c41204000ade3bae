// e2e_write_profile: measures what the engine writes to RocksDB per event for the load the
// e2e benchmark sends — the parameters of the RocksDB ceiling phase. It runs the real
// Engine (options from the same TOML as `serve`) on a RocksDbStore wrapped in a
// CountingStore (counting_store.h) and feeds it, in-process, the exact event stream
// `ordersync loadgen` sends (ProducerStream, adapters/producer/producer_stream.h: same
// seeds, producers, duplicate and disorder shares; no malformed frames, as run_e2e runs
// loadgen with --malformed 0). The ERP dispatcher is not run; its writes are known exactly: one
// outbox Delete per command it posts and, with the journal on, one journal Put (the
// ERP's answer) per command (adapters/erp/outbox_dispatcher.cc), added as
// "dispatcher_deletes" and "dispatcher_journal_puts" (sized like the engine's journal
// entries).
//
// Output (stdout, one JSON object): events, commands, group_commits, per table
// {puts, deletes, key_bytes, value_bytes} per event, and the totals writes_per_event
// (engine puts + deletes + dispatcher deletes) and key/value bytes per write.
//
// Batching matters: an order touched by several events of one group commit is written
// once, so --events-per-commit makes the group commits about as large as serve's were.
//
// Usage: e2e_write_profile --config serve.toml --data-dir DIR [--events N] [--producers P]
//          [--seed S] [--events-per-commit E]
#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/producer/producer_stream.h"
#include "bench/e2e/bench_setup.h"
#include "bench/e2e/counting_store.h"
#include "engine/engine.h"

namespace ordersync::bench {
namespace {

class Sink final : public ResultSink {
 public:
  void OnEventResult(uint64_t, const EventReport&) override { done.fetch_add(1, std::memory_order_release); }
  std::atomic<uint64_t> done{0};
};

int Main(int argc, char** argv) {
  CLI::App app{"Engine writes per event for the e2e benchmark's load (JSON on stdout)"};
  std::string config_path, data_dir;
  uint64_t events = 50000;
  uint32_t producers = 4;
  uint32_t events_per_commit = 0;
  ProducerStreamOptions so;
  so.malformed_share = 0;
  so.keep_ids = false;
  app.add_option("--config", config_path, "serve's TOML (engine and storage options)")->required();
  app.add_option("--data-dir", data_dir, "Fresh RocksDB directory (removed first)")->required();
  app.add_option("--events", events, "Events to feed")->capture_default_str();
  app.add_option("--producers", producers, "Producer streams, interleaved batch by batch")->capture_default_str();
  app.add_option("--seed", so.seed, "loadgen's --seed")->capture_default_str();
  app.add_option("--events-per-commit", events_per_commit,
                 "Group commits of about this many events (serve's mean; orders written once per commit "
                 "coalesce): engine.max_batch_events = N with a 200 ms window. 0 = serve's TOML as is")
      ->capture_default_str();
  app.add_option("--exact-dups", so.exact_duplicate_share)->capture_default_str();
  app.add_option("--business-dups", so.business_duplicate_share)->capture_default_str();
  app.add_option("--out-of-order", so.out_of_order_share)->capture_default_str();
  app.add_option("--same-day", so.same_day_share)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::optional<AppConfig> config = LoadServeConfig("e2e_write_profile", config_path);
  if (!config) return 2;
  std::unique_ptr<RocksDbStore> rocks = OpenFreshStore("e2e_write_profile", config->storage, data_dir);
  if (!rocks) return 1;
  CountingStore store(rocks.get());
  EngineOptions eo = config->engine;
  if (events_per_commit > 0) {
    eo.max_batch_events = events_per_commit;
    eo.group_commit_window_us = 200'000;
  }
  auto engine = Engine::Open(eo, &store);
  if (!engine.ok()) {
    std::fprintf(stderr, "e2e_write_profile: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  std::vector<ProducerStream> streams;
  for (uint32_t i = 0; i < producers; ++i) streams.emplace_back(so, i);
  Sink sink;
  constexpr uint64_t kBatch = 64;  // loadgen's batch size: interleave producers per batch
  uint64_t sent = 0;
  for (uint32_t p = 0; sent < events; p = (p + 1) % producers) {
    for (uint64_t k = 0; k < kBatch && sent < events; ++k, ++sent) {
      InboundEvent ev;
      ev.bytes = EventBuffer::Copy(streams[p].Next().frame);
      ev.sink = &sink;
      while ((*engine)->Submit(std::move(ev)).IsBusy()) std::this_thread::yield();
    }
  }
  while (sink.done.load(std::memory_order_acquire) < sent) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  (*engine)->Stop();
  const EngineStats stats = (*engine)->Stats();
  const WriteCounts counts = store.Totals();

  nlohmann::json tables = nlohmann::json::object();
  uint64_t ops = 0, key_bytes = 0, value_bytes = 0, puts = 0;
  const double n = static_cast<double>(sent);
  for (size_t i = 0; i < kTableCount; ++i) {
    const TableWrites& t = counts[i];
    if (t.puts + t.deletes == 0) continue;
    tables[std::string(TableName(static_cast<Table>(i)))] = {
        {"puts_per_event", t.puts / n},
        {"deletes_per_event", t.deletes / n},
        {"key_bytes", static_cast<double>(t.key_bytes) / static_cast<double>(t.puts + t.deletes)},
        {"value_bytes", t.puts ? static_cast<double>(t.value_bytes) / static_cast<double>(t.puts) : 0.0}};
    ops += t.puts + t.deletes;
    puts += t.puts;
    key_bytes += t.key_bytes;
    value_bytes += t.value_bytes;
  }
  // The dispatcher deletes each posted command's outbox entry (same key as its put).
  const TableWrites& outbox = counts[static_cast<size_t>(Table::kOutbox)];
  const uint64_t dispatcher_deletes = outbox.puts;
  const double outbox_key = outbox.puts ? static_cast<double>(outbox.key_bytes) / outbox.puts : 0;
  const uint64_t dispatcher_journal_puts = config->engine.journal ? outbox.puts : 0;
  const TableWrites& journal = counts[static_cast<size_t>(Table::kJournal)];
  const double journal_key = journal.puts ? static_cast<double>(journal.key_bytes) / journal.puts : 0;
  const double journal_value = journal.puts ? static_cast<double>(journal.value_bytes) / journal.puts : 0;
  const uint64_t all_ops = ops + dispatcher_deletes + dispatcher_journal_puts;
  const double dispatcher_bytes =
      dispatcher_deletes * outbox_key + dispatcher_journal_puts * (journal_key + journal_value);
  nlohmann::json out = {
      {"events", sent},
      {"commands", stats.commands_emitted},
      {"group_commits", stats.batches_committed},
      {"events_per_group_commit", stats.batches_committed ? n / stats.batches_committed : 0.0},
      {"tables", tables},
      {"dispatcher_deletes_per_event", dispatcher_deletes / n},
      {"dispatcher_journal_puts_per_event", dispatcher_journal_puts / n},
      {"dispatcher_key_bytes", outbox_key},
      {"writes_per_event", all_ops / n},
      {"engine_writes_per_event", ops / n},
      {"key_bytes_per_write",
       (key_bytes + dispatcher_deletes * outbox_key + dispatcher_journal_puts * journal_key) /
           static_cast<double>(all_ops)},
      {"value_bytes_per_put", puts ? static_cast<double>(value_bytes) / puts : 0.0},
      {"bytes_per_write", (key_bytes + value_bytes + dispatcher_bytes) / static_cast<double>(all_ops)}};
  std::printf("%s\n", out.dump().c_str());
  engine->reset();
  rocks.reset();
  std::filesystem::remove_all(data_dir);
  return 0;
}

}  // namespace
}  // namespace ordersync::bench

int main(int argc, char** argv) { return ordersync::bench::Main(argc, argv); }
