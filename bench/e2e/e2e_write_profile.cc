// e2e_write_profile: measures what the engine writes per event for the load the e2e
// benchmark sends — its RocksDB checkpoint writes (the parameters of the RocksDB ceiling
// phase) and its event-log bytes. It runs the real Engine (options from the same TOML as
// `serve`) on a RocksDbStore wrapped in a CountingStore (counting_store.h) and the real
// event log, and feeds it, in-process, the exact event stream `ordersync loadgen` sends
// (ProducerStream, adapters/producer/producer_stream.h: same seeds, producers, duplicate
// and disorder shares; no malformed frames, as run_e2e runs loadgen with --malformed 0).
// The ERP side is modelled as an ERP that posts every command at once: a listener answers
// each command handed over with a Posted note (Engine::SubmitNotes), as the dispatcher
// does, so acknowledged commands leave the outbox before a checkpoint writes them. The
// dispatcher itself writes nothing per command any more (dispatcher_* fields are 0).
//
// Output (stdout, one JSON object): events, commands, group_commits, checkpoints, per
// table {puts, deletes, key_bytes, value_bytes} per event, the totals writes_per_event
// and key/value bytes per write, and log_bytes_per_event.
//
// Batching matters: an order touched by several events between two checkpoints is
// written once; --events-per-commit makes the group commits about as large as serve's.
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
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"
#include "erp_generated.h"

namespace ordersync::bench {
namespace {

class Sink final : public ResultSink {
 public:
  void OnEventResult(uint64_t, const EventReport&) override { done.fetch_add(1, std::memory_order_release); }
  std::atomic<uint64_t> done{0};
};

// An ERP that posts every command as soon as it is handed over.
class PostingErp final : public OutboxListener {
 public:
  void OnCommandsDurable(std::vector<DurableCommand>& commands) override {
    std::vector<CommandNote> notes;
    notes.reserve(commands.size());
    for (DurableCommand& c : commands) {
      CommandNote n;
      n.partition = c.partition;
      n.outbox_seq = c.outbox_seq;
      n.removes_command = true;
      n.journal_kind = storage::JournalKind::CommandAcked;
      n.attempts = 1;
      n.command = std::move(c.bytes);
      n.outcome = "Posted";
      notes.push_back(std::move(n));
    }
    commands.clear();
    Engine* engine = engine_.load(std::memory_order_acquire);
    if (engine != nullptr) engine->SubmitNotes(std::move(notes)).PermitUncheckedError();
  }
  std::atomic<Engine*> engine_{nullptr};
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
  StorageOptions log_options = config->storage;
  log_options.data_dir = data_dir;
  auto log = OpenEventLog(log_options);
  if (!log.ok()) {
    std::fprintf(stderr, "e2e_write_profile: %s\n", log.status().ToString().c_str());
    return 1;
  }
  PostingErp erp;
  auto engine = Engine::Open(eo, &store, log->get(), SystemClock::Default(), &erp);
  if (!engine.ok()) {
    std::fprintf(stderr, "e2e_write_profile: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  erp.engine_.store(engine->get(), std::memory_order_release);
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
  // Let the last answers reach the log before the final checkpoint.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  erp.engine_.store(nullptr, std::memory_order_release);
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
  nlohmann::json out = {
      {"events", sent},
      {"commands", stats.commands_emitted},
      {"group_commits", stats.batches_committed},
      {"events_per_group_commit", stats.batches_committed ? n / stats.batches_committed : 0.0},
      {"checkpoints", stats.checkpoints},
      {"tables", tables},
      {"dispatcher_deletes_per_event", 0.0},
      {"dispatcher_journal_puts_per_event", 0.0},
      {"dispatcher_key_bytes", 0.0},
      {"writes_per_event", ops / n},
      {"engine_writes_per_event", ops / n},
      {"key_bytes_per_write", ops ? static_cast<double>(key_bytes) / static_cast<double>(ops) : 0.0},
      {"value_bytes_per_put", puts ? static_cast<double>(value_bytes) / puts : 0.0},
      {"bytes_per_write", ops ? static_cast<double>(key_bytes + value_bytes) / static_cast<double>(ops) : 0.0},
      {"log_bytes_per_event", static_cast<double>(stats.log_bytes) / n}};
  std::printf("%s\n", out.dump().c_str());
  engine->reset();
  log->reset();
  rocks.reset();
  std::filesystem::remove_all(data_dir);
  return 0;
}

}  // namespace
}  // namespace ordersync::bench

int main(int argc, char** argv) { return ordersync::bench::Main(argc, argv); }
