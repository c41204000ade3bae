// ErpSimulator: a stand-in ERP adapter for tests, demos and fault runs (`ordersync
// erp-sim`). It binds a ROUTER socket, takes one ErpCommand frame per request and answers
// one ErpAck frame, like an ERP behind an adapter would:
//  - posts each command_id once, issuing document numbers DOC-1, DOC-2, ...; a repeat of
//    a posted command_id is answered AlreadyPosted (and counted as a duplicate);
//  - checks each order's order_cmd_seq as commands post: an arrival below the highest
//    posted seq of its order counts as out_of_order_arrivals, one that skips ahead as
//    sequence_gaps (legitimate only when an order's commands route to several targets).
// Fault injection (each decision per request, seeded): latency before the reply (fixed,
// uniform on [0, 2*mean] or exponential), transient errors, rejections (by rate, decided
// per command_id so a retry gets the same verdict, or of given SKUs / orders), timeouts
// without reply (not posted), ambiguous timeouts (posted, no reply), and scheduled
// outages (silent, or answering TransientError).
//
// Ledger: one line per posting, tab-separated, in posting order:
//   posted_at_ns  document_id  command_id  order_id  order_cmd_seq  kind  target
// Summary (SummaryJson): {"received", "postings", "duplicates_received", ...,
// "event_to_post_ms": {"count", "p50", "p99", "p99_9", "max"}}: per posting, posted_at minus
// the command's event_occurred_at_ns (wall clocks of one machine; meaningful when the
// producer stamps occurred_at with the send time, `ordersync loadgen --stamp-send-time`),
// kept in a fixed-size log-linear histogram (about 3 % resolution).
//
// Runtime control: the setters below (tests), a REP control socket taking JSON
// ({"cmd":"summary"}, {"cmd":"set", "rejections":false, "reject_rate":0.0, ...},
// {"cmd":"forget"|"duplicate", "command_ids":[...]}, {"cmd":"export", "path":"x.csv"}),
// and in `ordersync erp-sim` SIGUSR1 (rejections off) and SIGUSR2 (write the summary and,
// with --export, the ERP export).
//
// Export: the documents the ERP holds, in the ERP export format `ordersync reconcile`
// reads (erp_sim_export.h, docs/reconcile.md): document number, external id (the
// command_id), kind, order, company, quantity, amount, currency, posting time.
//
// Thread-safety: the simulator runs its own thread; every public method may be called
// from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/status.h"
#include "erp_generated.h"

namespace ordersync {

struct ErpSimOptions {
  // ROUTER endpoint; "tcp://127.0.0.1:*" binds an ephemeral port (see endpoint()).
  std::string endpoint = "tcp://127.0.0.1:7200";
  // Optional REP endpoint for runtime control (JSON); "" = none.
  std::string control_endpoint;
  // Ledger file (one line per posting); "" = none (the ledger is kept in memory anyway).
  std::string ledger_path;
  // File of the distinct rejected command_ids, one per line, written on Flush/Stop.
  std::string rejected_path;
  // Latency before each reply: "fixed", "uniform" (0..2*mean) or "exponential" (mean).
  std::string latency = "fixed";
  uint32_t latency_us = 0;
  double transient_error_rate = 0;  // TransientError answers
  double reject_rate = 0;           // per command_id, deterministic for a seed
  std::vector<std::string> reject_skus;    // reject commands with a line of these SKUs
  std::vector<std::string> reject_orders;  // reject every command of these orders
  std::vector<std::string> reject_command_ids;  // reject exactly these commands
  std::vector<std::string> transient_orders;    // answer TransientError for these orders
  double timeout_rate = 0;    // no answer, not posted
  double ambiguous_rate = 0;  // posted, then no answer
  // Outages: down for outage_for_s starting outage_at_s after start, then every
  // outage_every_s (0 = once). outage_for_s = 0: none.
  uint32_t outage_at_s = 0;
  uint32_t outage_for_s = 0;
  uint32_t outage_every_s = 0;
  // While down: false = no answer at all; true = answer TransientError "unavailable".
  bool outage_answers_errors = false;
  uint64_t seed = 42;
};

struct ErpSimSummary {
  uint64_t received = 0;             // command frames received
  uint64_t postings = 0;             // distinct command_ids posted (ledger lines)
  uint64_t duplicates_received = 0;  // frames for an already posted command_id
  uint64_t out_of_order_arrivals = 0;
  uint64_t sequence_gaps = 0;
  uint64_t transient_errors = 0;     // TransientError answers (injected, outage included)
  uint64_t rejections = 0;           // Rejected answers
  uint64_t rejected_commands = 0;    // distinct command_ids rejected
  uint64_t timeouts_injected = 0;    // dropped without posting
  uint64_t ambiguous_injected = 0;   // posted without answer
  uint64_t outage_drops = 0;         // dropped while down (silent outage)
  uint64_t malformed = 0;            // frames that were not an ErpCommand
  uint64_t orders = 0;               // orders with at least one posting
  // posted_at - event_occurred_at of the postings (event_occurred_at_ns > 0 only), ms.
  uint64_t event_to_post_count = 0;
  double event_to_post_p50_ms = 0, event_to_post_p99_ms = 0, event_to_post_p999_ms = 0, event_to_post_max_ms = 0;
};

struct ErpPosting {
  int64_t posted_at_ns = 0;
  std::string document_id;
  std::string command_id;
  std::string order_id;
  uint64_t order_cmd_seq = 0;
  CommandKind kind = CommandKind::CreateSalesOrder;
  std::string target;
  // What the document says (for the ERP export, erp_sim_export.h).
  std::string company_code;
  std::string currency;
  int64_t quantity = 0;      // sum of the command's line quantities
  int64_t amount_minor = 0;  // sum of qty * unit_price_minor
};

class ErpSimulator {
 public:
  static Result<std::unique_ptr<ErpSimulator>> Start(const ErpSimOptions& options);
  ~ErpSimulator();
  ErpSimulator(const ErpSimulator&) = delete;
  ErpSimulator& operator=(const ErpSimulator&) = delete;

  // Stops the thread, flushes the ledger and the rejected list. Idempotent.
  void Stop();

  // The bound endpoints, e.g. "tcp://127.0.0.1:41237".
  const std::string& endpoint() const;
  const std::string& control_endpoint() const;

  void SetRejectionsEnabled(bool enabled);  // false: nothing is rejected (replay phase)
  void SetRejectRate(double rate);
  void SetRejectOrders(std::vector<std::string> orders);
  void SetRejectCommandIds(std::vector<std::string> command_ids);
  void SetTransientOrders(std::vector<std::string> orders);
  void SetTransientErrorRate(double rate);
  void SetTimeoutRate(double rate);
  void SetAmbiguousRate(double rate);
  // Forces an outage on (true) or lets the schedule decide again (false).
  void ForceOutage(bool down);

  ErpSimSummary Summary() const;
  std::string SummaryJson() const;
  std::vector<ErpPosting> Ledger() const;
  std::vector<std::string> RejectedCommandIds() const;
  // The documents the ERP holds now (the ledger minus forgotten ones), for its export.
  std::vector<ErpPosting> Documents() const;
  // The ERP loses the documents of these commands (restored from a backup, deleted by
  // hand): they leave Documents(), and a later post of the command posts it again.
  // Returns how many documents were lost.
  size_t Forget(const std::vector<std::string>& command_ids);
  // The ERP holds a second document for each of these commands (a re-post an ERP without
  // idempotency accepted). Returns how many were made.
  size_t Duplicate(const std::vector<std::string>& command_ids);
  // Flushes the ledger file and rewrites the rejected list.
  Status Flush();

 private:
  class Impl;
  explicit ErpSimulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordersync
