// OrdersyncView: what ordersync holds about the ERP commands of one target, read from a
// checkpoint in the store — the side `ordersync reconcile` compares with the ERP's.
//
//   journals (Table::kJournal, engine/journal.h)  issued commands (in each event's entry),
//                                                 acknowledgements (Posted / AlreadyPosted,
//                                                 time, document number), dead letters
//   outbox (Table::kOutbox)                       commands not acknowledged yet  -> pending
//   dead letters (Table::kDeadLetters)            commands given up on           -> pending
//   orders (Table::kOrders)                       the expected quantity, amount, company
//                                                 and currency of each acknowledged command
//                                                 (command_rebuilder.h)
//
// The outbox and dead letters are read before the journals: a command acknowledged in
// between is then acknowledged (the later read wins) rather than lost from both. On a
// running engine, cut a checkpoint first (Engine::Checkpoint; the admin command does).
// Requires engine.journal = true (the default).
//
// Cost: one pass over the journal, outbox and dead-letter tables, and one order read per
// order with a command acknowledged in the window.
//
// Thread-safety: reads through StateStore iterators (RocksDB snapshots); reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapters/reconcile/command_rebuilder.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

struct OurCommand {
  CommandOrigin origin;  // command_id, kind, order_cmd_seq, target, causing event
  std::string order_id;
  uint32_t partition = 0;
  bool issued = false;  // an event's journal entry lists it
  // The latest Posted / AlreadyPosted answer.
  bool acked = false;
  int64_t acked_at_ns = 0;
  std::string erp_document_id;
  std::string ack_status;
  int64_t dead_lettered_at_ns = 0;  // latest dead-letter note (0: none)
  enum class Queue : uint8_t { kNone, kOutbox, kDeadLetter };
  Queue queue = Queue::kNone;
  std::string dead_letter_reason;
  // Expected content (acknowledged in the window only).
  bool content_known = false;
  int64_t quantity = 0;
  int64_t amount_minor = 0;
  std::string company_code;
  std::string currency;
  std::string content_error;  // why the content is unknown
};

struct ViewOptions {
  std::string target;
  // Acknowledgements in [content_from_ns, content_to_ns) get their expected content.
  int64_t content_from_ns = 0;
  int64_t content_to_ns = INT64_MAX;
  // Journal values that expired before this are ignored (as the engine does).
  int64_t now_ns = 0;
};

struct OrdersyncView {
  std::unordered_map<std::string, OurCommand> commands;  // the target's, by command_id
  // Commands of other targets (command_id -> target): an ERP document carrying one of
  // these is not "never issued".
  std::unordered_map<std::string, std::string> other_targets;
  uint64_t journal_values = 0;
  uint64_t journal_entries = 0;
  uint64_t orders_read = 0;
  uint64_t unreadable = 0;  // journal entries / outbox values that did not verify (skipped)
};

Status ScanOrdersyncView(StateStore* store, const ViewOptions& options, OrdersyncView* view);

}  // namespace ordersync
