// Dead-letter queue of the ERP fan-out (Table::kDeadLetters): the commands the dispatcher
// gave up on, and per order a block that keeps the order's later commands from posting
// out of sequence. Layout (partition = the order's engine partition, 2 bytes BE):
//
//   partition | 'L' | len(order_id):1 | order_id | order_cmd_seq:8 BE -> storage.DeadLetter
//   partition | 'B' | len(order_id):1 | order_id                      -> storage.OrderBlock
//
// so one order's dead letters are one key range in order_cmd_seq order. An order has a
// block while it has dead letters (Blocked: commands with order_cmd_seq >= from_seq are
// dead-lettered too), and for a while after a replay (Replayed: see outbox_dispatcher.h).
//
// Replay re-appends an order's dead letters to the outbox through
// DeadLetterReplayTask, a PartitionTask, so the partition's worker allocates the outbox
// seqs and the letters' removal, the block's update and the appends are one batch.
// Replay works per order: selecting any dead letter of an order replays all of them,
// because posting a later command while an earlier one stays dead would break the
// order's sequence.
//
// Thread-safety: the functions are reentrant; the store handles concurrency. Who may
// mutate (the dispatcher thread, or the worker via the replay task) is the caller's
// protocol, see outbox_dispatcher.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/partition_task.h"
#include "engine/state_store.h"
#include "engine/status.h"
#include "erp_generated.h"

namespace ordersync {

// Reason codes of dead letters (stable; shown by `ordersync dlq list`).
inline constexpr std::string_view kReasonRejected = "rejected";
inline constexpr std::string_view kReasonBlocked = "blocked";
inline constexpr std::string_view kReasonRetriesExhausted = "retries_exhausted";
inline constexpr std::string_view kReasonUnknownTarget = "unknown_target";
inline constexpr std::string_view kReasonCorruptCommand = "corrupt_command";

void DeadLetterOrderPrefix(std::string* key, uint32_t partition, std::string_view order_id);
void DeadLetterKey(std::string* key, uint32_t partition, std::string_view order_id, uint64_t order_cmd_seq);
void OrderBlockKey(std::string* key, uint32_t partition, std::string_view order_id);

// True for compensations: a dead-lettered one flags its order for review.
inline bool IsCompensation(CommandKind kind) {
  return kind == CommandKind::ReleaseAllocation || kind == CommandKind::CancelSalesOrder;
}

struct DeadLetterRecord {
  uint32_t partition = 0;
  std::string command;  // ErpCommand buffer
  std::string command_id;
  std::string order_id;
  std::string target;
  CommandKind kind = CommandKind::CreateSalesOrder;
  uint64_t order_cmd_seq = 0;
  std::string reason;
  std::string message;
  std::string blocked_by;
  uint32_t attempts = 0;
  int64_t dead_lettered_at_ns = 0;
  bool needs_review = false;
};

struct OrderBlockRecord {
  enum class State : uint8_t { kBlocked = 0, kReplayed = 1 };
  uint32_t partition = 0;
  std::string order_id;
  State state = State::kBlocked;
  uint64_t from_seq = 0;
  std::string blocked_by;
  std::string reason;
  int64_t at_ns = 0;
  bool needs_review = false;
  uint64_t replayed_at_outbox_seq = 0;
  uint64_t replayed_max_seq = 0;
};

std::string EncodeDeadLetter(const DeadLetterRecord& r);
// False if `value` is not a valid storage.DeadLetter.
bool DecodeDeadLetter(std::string_view key, std::string_view value, DeadLetterRecord* r);
std::string EncodeOrderBlock(const OrderBlockRecord& r);
bool DecodeOrderBlock(std::string_view key, std::string_view value, OrderBlockRecord* r);

// Which dead letters an operation selects. Criteria combine with AND; `all` must be set
// to select everything (an empty filter selects nothing, so a bare `purge` is harmless).
struct DeadLetterFilter {
  std::vector<std::string> ids;  // command_ids
  std::string order_id;
  std::string target;
  std::string reason;
  int64_t older_than_s = -1;  // dead-lettered at least this long ago (-1: any)
  int64_t newer_than_s = -1;  // dead-lettered at most this long ago (-1: any)
  bool all = false;
  size_t limit = 0;  // most records returned by List (0: no limit)

  bool Selective() const {
    return all || !ids.empty() || !order_id.empty() || !target.empty() || !reason.empty() || older_than_s >= 0 ||
           newer_than_s >= 0;
  }
  bool Matches(const DeadLetterRecord& r, int64_t now_ns) const;
};

// Dead letters matching `filter` (for listing, an unselective filter lists everything),
// in key order (partition, order, order_cmd_seq).
Status ListDeadLetters(StateStore* store, const DeadLetterFilter& filter, int64_t now_ns,
                       std::vector<DeadLetterRecord>* out);
// Every order block.
Status ListOrderBlocks(StateStore* store, std::vector<OrderBlockRecord>* out);

// The orders with at least one dead letter matching `filter`, by partition. REQUIRES:
// filter.Selective().
Status SelectOrdersForReplay(StateStore* store, const DeadLetterFilter& filter, int64_t now_ns,
                             std::map<uint32_t, std::vector<std::string>>* orders);

struct PurgeReport {
  std::vector<std::string> purged;  // command_ids
  // Orders left without dead letters: their block is removed too, so their later
  // commands flow again (without the purged ones).
  std::vector<std::pair<uint32_t, std::string>> unblocked;
};
// Deletes the dead letters matching `filter` in one batch. REQUIRES: filter.Selective().
Result<PurgeReport> PurgeDeadLetters(StateStore* store, const DeadLetterFilter& filter, Durability durability,
                                     int64_t now_ns);

// What a replay did to one order.
struct ReplayedOrder {
  uint32_t partition = 0;
  std::string order_id;
  std::vector<std::string> command_ids;  // re-appended, in order_cmd_seq order
  uint64_t at_outbox_seq = 0;            // outbox_seq of the first re-appended command
  uint64_t max_seq = 0;                  // highest order_cmd_seq re-appended
  std::string error;                     // non-empty: this order was left as it was
};

// Runs on the partition's worker: for each order, re-appends its dead letters (committed
// ones; read at Run time) to the outbox in order_cmd_seq order, deletes them, and turns
// the order's block into Replayed{at_outbox_seq, max_seq} (or deletes it when there was
// nothing to replay). `done` gets the outcome once the batch is durable (or failed).
class DeadLetterReplayTask final : public PartitionTask {
 public:
  using DoneFn = std::function<void(const Status& committed, std::vector<ReplayedOrder> orders)>;
  DeadLetterReplayTask(std::vector<std::string> order_ids, int64_t now_ns, DoneFn done)
      : order_ids_(std::move(order_ids)), now_ns_(now_ns), done_(std::move(done)) {}

  void Run(PartitionContext& context) override;
  void Done(const Status& committed) override { done_(committed, std::move(replayed_)); }

 private:
  std::vector<std::string> order_ids_;
  int64_t now_ns_;
  DoneFn done_;
  std::vector<ReplayedOrder> replayed_;
};

}  // namespace ordersync
