// FanOut: a real engine on a real RocksDB in a temp directory, with the ERP dispatcher
// attached as its OutboxListener and an in-process ErpSimulator on an ephemeral port, for
// the fan-out integration tests. Restart() stops dispatcher and engine in serve's order
// and reopens everything on the same directory; the simulator keeps running (and keeps
// its ledger), like a real ERP would.
//
// Thread-safety: drive from one test thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/admin/admin_server.h"
#include "adapters/erp/erp_simulator.h"
#include "adapters/erp/outbox_dispatcher.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"
#include "tests/support/engine_harness.h"

namespace ordersync::testing {

// Fast-failing target options for tests: short timeouts and backoffs, a quick breaker.
ErpTargetOptions FastTarget(const std::string& endpoint);

class FanOut {
 public:
  FanOut(ErpSimOptions sim_options, ErpTargetOptions target_template, EngineOptions engine = TestEngineOptions());
  ~FanOut();

  // Submits and waits for the durable outcomes (Busy is retried).
  std::vector<SentResult> SendAll(const std::vector<EnvelopeSpec>& specs);
  // Submits once; returns Submit's status (Busy when the target is blocked).
  Status TrySubmit(const EnvelopeSpec& spec);

  // Polls `done` every 10 ms until true or `timeout`; returns its last value.
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Commands in the outbox right now (read from the store).
  size_t OutboxSize();
  // True once the outbox is empty and the dispatcher holds nothing.
  bool WaitUntilDrained(std::chrono::milliseconds timeout = std::chrono::seconds(15));
  TargetStats Target() { return dispatcher_->Stats().targets.at(0); }

  // Starts an admin endpoint (ephemeral loopback port) with the ERP commands.
  std::string StartAdmin();

  void Restart();

  ErpSimulator& sim() { return *sim_; }
  Engine& engine() { return *engine_; }
  OutboxDispatcher& dispatcher() { return *dispatcher_; }
  RocksDbStore& store() { return *store_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  void Open();
  void Close();

  TempDir dir_;
  std::string data_dir_;
  EngineOptions engine_options_;
  ErpTargetOptions target_;
  std::unique_ptr<ErpSimulator> sim_;
  std::unique_ptr<RocksDbStore> store_;
  std::unique_ptr<SegmentLog> log_;
  std::unique_ptr<OutboxDispatcher> dispatcher_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<AdminServer> admin_;
};

// The feeder's event stream (erp_feeder.cc): orders generated in chunks of 1000 from
// `seed`, each chunk shuffled with duplicates (Disorder). Chunk `chunk` of `orders`.
inline constexpr size_t kFeederChunkOrders = 1000;
std::vector<EnvelopeSpec> FeederChunk(uint64_t seed, const std::string& prefix, size_t orders, size_t chunk);

// The ledger's order_cmd_seqs per order, in posting order.
std::map<std::string, std::vector<uint64_t>> PostedSeqsByOrder(const std::vector<ErpPosting>& ledger);

}  // namespace ordersync::testing
