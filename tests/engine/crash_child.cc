// Child process of engine_crash_test: runs the engine on DIR and submits a deterministic
// disordered event stream from index START on. For every event whose result is durable it
// writes "<index> <outcome>\n" to stdout (one write(2) each, so a SIGKILL never leaves a
// half line that claims more than was acknowledged). Prints "DONE" when all are acked.
//
// Optional: CHECKPOINT_EVENTS (engine.checkpoint_interval_events; default the test
// options'), DURABILITY ("wal" or "fsync") and SYNC_TRACE, a file that gets one line
// "<log file> <durable bytes>" per fdatasync of the event log (the "log.after_sync"
// failpoint), for the power-loss test. Failpoints to crash at come from the environment
// (ORDERSYNC_FAILPOINTS, engine/failpoint.h). With CRASH_CHILD_ACKS=1 in the environment
// the child also plays the ERP fan-out: every durable command whose id AckedByTheErp()
// selects is answered Posted through Engine::SubmitNotes (the ack-recording path).
//
// Usage: engine_crash_child DIR SEED ORDERS START [CHECKPOINT_EVENTS [DURABILITY [SYNC_TRACE]]]
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/producer/lifecycle_generator.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"
#include "engine/failpoint.h"
#include "engine/outbox_listener.h"
#include "erp_generated.h"
#include "tests/support/crash_acks.h"
#include "tests/support/engine_harness.h"

namespace {

class StdoutSink final : public ordersync::ResultSink {
 public:
  void OnEventResult(uint64_t cookie, const ordersync::EventReport& result) override {
    if (result.outcome == ordersync::EventOutcome::kStoreError) return;  // not an ack
    char line[64];
    int n = std::snprintf(line, sizeof(line), "%llu %d\n", static_cast<unsigned long long>(cookie),
                          static_cast<int>(result.outcome));
    if (::write(1, line, static_cast<size_t>(n)) != n) std::abort();
    acked_.fetch_add(1);
  }
  std::atomic<size_t> acked_{0};
};

// The ERP fan-out's part: notes for the selected commands, submitted from a thread of
// its own (OnCommandsDurable runs on a worker and must not block).
class AckingListener final : public ordersync::OutboxListener {
 public:
  void OnCommandsDurable(std::vector<ordersync::DurableCommand>& commands) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (ordersync::DurableCommand& c : commands) {
      const auto* command = ordersync::GetErpCommand(c.bytes->data());
      if (!ordersync::testing::AckedByTheErp(command->command_id()->string_view())) continue;
      ordersync::CommandNote note;
      note.partition = c.partition;
      note.outbox_seq = c.outbox_seq;
      note.removes_command = true;
      note.outcome = "Posted";
      note.command = c.bytes;
      pending_.push_back(std::move(note));
    }
  }
  // Submits what is pending; false when the engine refused.
  bool SubmitPending(ordersync::Engine* engine) {
    std::vector<ordersync::CommandNote> notes;
    {
      std::lock_guard<std::mutex> lock(mu_);
      notes.swap(pending_);
    }
    return notes.empty() || engine->SubmitNotes(std::move(notes)).ok();
  }

 private:
  std::mutex mu_;
  std::vector<ordersync::CommandNote> pending_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace ordersync;
  if (argc < 5 || argc > 8) {
    std::fprintf(stderr, "usage: %s DIR SEED ORDERS START [CHECKPOINT_EVENTS [DURABILITY [SYNC_TRACE]]]\n", argv[0]);
    return 2;
  }
  EngineOptions options = testing::TestEngineOptions();
  // Many small group commits, so that crashes land mid-stream with records before and after.
  options.max_batch_events = 32;
  if (argc > 5) options.checkpoint_interval_events = static_cast<uint32_t>(std::strtoul(argv[5], nullptr, 10));
  if (argc > 6 && std::string(argv[6]) == "fsync") options.durability = Durability::kFsync;
  if (argc > 7) {
    // Appends are O_APPEND writes of whole lines: a SIGKILL leaves no half line.
    const int trace = ::open(argv[7], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (trace < 0) return 1;
    Failpoints::Arm("log.after_sync", [trace](void* arg) {
      const auto* synced = static_cast<const LogSynced*>(arg);
      const std::string line = std::string(synced->path) + " " + std::to_string(synced->durable_bytes) + "\n";
      if (::write(trace, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::abort();
    });
  }
  const std::string dir = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const size_t orders = std::strtoull(argv[3], nullptr, 10);
  const size_t start = std::strtoull(argv[4], nullptr, 10);

  std::vector<EnvelopeSpec> stream = testing::CrashTestStream(seed, orders);
  StorageOptions so;
  so.data_dir = dir;
  so.block_cache_mb = 8;
  so.write_buffer_mb = 4;
  auto store = RocksDbStore::Open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }

  auto log = OpenEventLog(so);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  const char* acks_env = std::getenv("CRASH_CHILD_ACKS");
  const bool acks = acks_env != nullptr && std::string(acks_env) == "1";
  AckingListener listener;
  auto engine = Engine::Open(options, store->get(), log->get(), SystemClock::Default(), acks ? &listener : nullptr);
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  std::atomic<bool> stop_acking{false};
  std::thread acker;
  if (acks) {
    acker = std::thread([&] {
      while (!stop_acking.load()) {
        if (!listener.SubmitPending(engine->get())) std::abort();
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  StdoutSink sink;
  MilestoneBuilder builder;
  for (size_t i = start; i < stream.size(); ++i) {
    InboundEvent ev;
    ev.bytes = EventBuffer::Copy(builder.Build(stream[i]));
    ev.sink = &sink;
    ev.cookie = i;
    Status s;
    while ((s = (*engine)->Submit(std::move(ev))).IsBusy()) std::this_thread::yield();
    if (!s.ok()) return 1;
  }
  while (sink.acked_.load() < stream.size() - start) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (acks) {
    stop_acking.store(true);
    acker.join();
    if (!listener.SubmitPending(engine->get())) return 1;
  }
  (*engine)->Stop();
  if (::write(1, "DONE\n", 5) != 5) return 1;
  return 0;
}
