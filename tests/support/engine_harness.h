// EngineHarness: a real engine on a real RocksDB store and event log in a fresh temp
// directory, with a ManualClock, for tests. Send() submits envelopes and waits for their
// durable results; Outbox()/Exceptions()/Order() first make the engine checkpoint, then
// read back what it wrote, straight from the store.
//
// Thread-safety: drive a harness from one test thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/producer/lifecycle_generator.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "engine/order_state.h"

namespace ordersync::testing {

struct SentResult {
  EventOutcome outcome;
  std::string reason;
};

struct OutboxCommand {
  uint32_t partition = 0;
  uint64_t outbox_seq = 0;
  std::string command_id;
  std::string order_id;
  CommandKind kind = CommandKind::CreateSalesOrder;
  uint64_t order_cmd_seq = 0;
  std::string business_key;
  std::string target;
  std::string caused_by_event_id;
  std::string correlation_id;
  size_t lines = 0;
  int64_t first_line_qty = 0;
  std::string bytes;  // the ErpCommand as stored
};

struct ExceptionEntry {
  std::string order_id;
  std::string event_id;
  std::string stage;
  std::string failure_class;
  std::string reason;
};

// Small, deterministic engine options for tests: 8 partitions, 2 workers.
EngineOptions TestEngineOptions();

// A fresh temp directory, removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class EngineHarness {
 public:
  explicit EngineHarness(EngineOptions options = TestEngineOptions());
  // With master data for the OrderAccepted checks (`master_data` outlives the harness).
  EngineHarness(EngineOptions options, const MasterDataSource* master_data);
  ~EngineHarness();

  SentResult Send(const EnvelopeSpec& spec);
  // Submits all, then waits for all; results in input order.
  std::vector<SentResult> SendAll(const std::vector<EnvelopeSpec>& specs);

  // Makes the store show everything processed so far (Engine::Checkpoint).
  void Checkpoint();
  std::vector<OutboxCommand> Outbox();             // every partition, key order
  std::vector<OutboxCommand> OutboxOf(const std::string& order_id);  // by order_cmd_seq
  std::vector<ExceptionEntry> Exceptions();
  std::optional<OrderState> Order(const std::string& order_id);

  // Stops the engine and closes the store, then reopens both on the same directory.
  void Restart();
  // Lets the workers run their park-deadline check (they look every 50 ms).
  void WaitForParkSweep();

  // The temp directory: data in dir()/db (store and event log).
  const std::string& dir() const { return dir_.path(); }
  ManualClock& clock() { return clock_; }
  Engine& engine() { return *engine_; }
  RocksDbStore& store() { return *store_; }
  SegmentLog& log() { return *log_; }
  const EngineOptions& options() const { return options_; }

 private:
  void Open();

  EngineOptions options_;
  const MasterDataSource* master_data_ = nullptr;
  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<RocksDbStore> store_;
  std::unique_ptr<SegmentLog> log_;
  std::unique_ptr<Engine> engine_;
};

// Commands in `store`'s outbox table for `partition` (read straight from the store).
size_t OutboxCommandsOf(StateStore* store, uint32_t partition);

// Envelope specs for one order's happy path, for brevity in tests.
EnvelopeSpec Accepted(const std::string& order, const std::string& event_id, std::vector<LineSpec> lines);
EnvelopeSpec Reserved(const std::string& order, const std::string& event_id, const std::string& reservation,
                      std::vector<LineSpec> lines);
EnvelopeSpec Picked(const std::string& order, const std::string& event_id, const std::string& pick,
                    std::vector<LineSpec> lines);
EnvelopeSpec Shipped(const std::string& order, const std::string& event_id, const std::string& shipment,
                     std::vector<LineSpec> lines);
EnvelopeSpec Delivered(const std::string& order, const std::string& event_id, const std::string& shipment);
EnvelopeSpec Returned(const std::string& order, const std::string& event_id, const std::string& return_id,
                      std::vector<LineSpec> lines);
EnvelopeSpec Cancelled(const std::string& order, const std::string& event_id, const std::string& reason = "customer");
EnvelopeSpec Adjusted(const std::string& order, const std::string& event_id, const std::string& adjustment,
                      const std::string& sku, int64_t delta);

// The orders and the disordered stream (10% exact, 5% business duplicates) shared by the
// crash test and its child process.
std::vector<GeneratedOrder> CrashTestOrders(uint64_t seed, size_t orders);
std::vector<EnvelopeSpec> CrashTestStream(uint64_t seed, size_t orders);

}  // namespace ordersync::testing
