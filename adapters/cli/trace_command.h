// `ordersync trace ORDER_ID`: an order's full timeline, read from the state store:
//
//   - the journal (Table::kJournal, engine/journal.h): every event with when it was
//     received, its source, event_id, correlation_id and outcome (applied, duplicate,
//     parked, excepted with reason), the order's totals after it, and every ERP command
//     issued, sent (attempt n), acknowledged (with the ERP document id) or
//     dead-lettered (with the message) — with the latency from the previous step;
//   - what is pending now: parked events (waiting for what, since when), commands still
//     in the outbox, dead letters, exceptions of the order, and rejected frames in the
//     quarantine that carry its order_id.
//
// Works on a stopped engine's data dir and next to a running engine (the store is
// opened read-only: a consistent view as of the open; RocksDB allows both).
//
// Thread-safety: call from one thread.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "adapters/config/app_config.h"
#include "engine/engine.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

class AdminServer;

// One line of the timeline, decoded from a JournalEntry (or synthesised from the
// outbox / dead letters when the journal has no entry for it).
struct TraceStep {
  std::string kind;  // event_received | event_resolved | command_issued | command_sent | command_acked | command_dead_lettered
  int64_t at_ns = 0;
  std::string event_id, source, correlation_id, milestone;
  int64_t occurred_at_ns = 0, received_at_ns = 0;
  std::string outcome, reason;
  std::string command_id, command_kind, target, erp_document_id;
  uint64_t order_cmd_seq = 0;
  uint32_t attempt = 0;
  int64_t first_sent_at_ns = 0;  // command_acked / command_dead_lettered: attempt 1's send
  bool has_totals = false;
  int64_t ordered = 0, reserved = 0, picked = 0, shipped = 0, returned = 0;
};

struct TraceCommand {  // a command's life, summarised from the steps
  std::string command_id, command_kind, target;
  uint64_t order_cmd_seq = 0;
  int64_t issued_at_ns = 0, first_sent_at_ns = 0, acked_at_ns = 0;
  uint32_t attempts = 0;
  std::string state;  // in_outbox | acknowledged | dead_lettered | issued
  std::string ack_status, erp_document_id, message;
};

struct OrderTrace {
  std::string order_id;
  uint32_t partition = 0;
  bool order_known = false;  // the orders table has it (not expired)
  bool accepted = false, cancelled = false;
  std::string company_code, currency;
  int64_t ordered = 0, reserved = 0, picked = 0, shipped = 0, returned = 0;
  std::vector<TraceStep> steps;  // time order
  std::vector<TraceCommand> commands;  // order_cmd_seq order
  struct Parked {
    std::string event_id, milestone, waiting_for;
    int64_t parked_at_ns = 0, deadline_ns = 0;
  };
  std::vector<Parked> parked;
  struct Exception {
    std::string event_id, stage, failure_class, reason;
    int64_t recorded_at_ns = 0;
  };
  std::vector<Exception> exceptions;
  struct Rejected {
    uint64_t id = 0;
    int64_t received_at_ns = 0;
    std::string event_id, source, reason, description;
  };
  std::vector<Rejected> quarantined;
};

// Reads everything about `order_id` from `store` (an engine with `partitions` partitions).
Status BuildOrderTrace(StateStore* store, uint32_t partitions, const std::string& order_id, OrderTrace* out);

void PrintTraceText(const OrderTrace& trace, int64_t now_ns, std::ostream& out);
void PrintTraceJson(const OrderTrace& trace, std::ostream& out);

struct TraceOptions {
  std::string order_id;
  bool json = false;
  std::string data_dir;  // "" = config.storage.data_dir
};

// Registers the admin command "trace" (read-only): args {"order_id": "..."}, result the
// same object as `trace --json`, read from the live store. `store` must outlive the
// admin server's Stop.
void RegisterTraceAdminCommand(AdminServer* admin, StateStore* store, Engine* engine);

// Opens the data dir read-only and prints the trace. Exit code: 0 ok, 1 the order is
// unknown (nothing in any table), 2 the store cannot be opened.
int RunTrace(const AppConfig& config, const TraceOptions& options, std::ostream& out, std::ostream& err);

}  // namespace ordersync
