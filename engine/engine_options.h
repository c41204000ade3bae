// EngineOptions: every tunable of the engine core, with in-class defaults. The TOML
// config (adapters/config) maps onto these field by field; configs/ordersync.toml
// documents the same defaults. "Reloadable" fields may change on SIGHUP; the rest need a
// restart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/envelope_validator.h"
#include "erp_generated.h"
#include "milestone_generated.h"

namespace ordersync {

// How hard a group commit pushes its event-log record to disk before results are
// reported (and how checkpoints are written).
enum class Durability : uint8_t {
  kWal,    // written to the operating system: survives a process crash (kill -9). Default.
  kFsync,  // fdatasync per group commit: survives power loss. Slower.
  kNone,   // buffered in the process: a crash loses recent batches. Benchmarks only.
};

// When the invoice for a shipment is issued.
enum class BillOn : uint8_t {
  kShip,      // CreateInvoice right after PostGoodsIssue. Default.
  kDelivery,  // CreateInvoice when DeliveryConfirmed arrives.
};

// Maps a company_code (and optionally a command kind) to an ERP target name.
struct RouteRule {
  std::string company_code;  // exact match; "*" matches any
  bool match_kind = false;   // when true, only commands of `kind` match
  CommandKind kind = CommandKind::CreateSalesOrder;
  std::string target;
};

struct RoutingOptions {
  // First matching rule wins. Reloadable (later issue).
  std::vector<RouteRule> rules;
  // Target for commands no rule matches. Empty: such an event becomes a business_rule
  // exception "no_route:<company_code>" instead of a silent drop. Default: "erp".
  std::string default_target = "erp";
};

inline constexpr size_t kMilestoneKinds = static_cast<size_t>(Milestone::MAX) + 1;

// Master-data checks of OrderAccepted events (engine/master_data_check.h) against the
// snapshot of [master_data] (engine/master_data.h). Every check is off by default; a
// check that is on needs its source file ([master_data] customers / items / prices, the
// config loader says which). Not reloadable (the data is; SIGHUP or a file change).
struct MasterDataCheckOptions {
  // Unknown or inactive customer, or a customer of another company -> master_data.
  bool customer = false;
  // Unknown or inactive SKU on a line -> master_data.
  bool item = false;
  // A line's unit of measure differs from the item master's -> master_data (wrong_uom).
  bool uom = false;
  // The order's currency differs from the customer's -> master_data (currency_mismatch).
  bool currency = false;
  // A line's unit price more than price_tolerance_bp away from the list price valid at
  // the order's occurred_at -> price_mismatch; no list price -> master_data.
  bool price = false;
  // Customer on credit hold -> the order is parked (reason credit_hold) until the master
  // data clears the hold, or becomes a master_data exception after credit_hold_timeout_s.
  bool credit_hold = false;
  // Allowed distance from the list price, in basis points (100 = 1 %). Default: 200.
  uint32_t price_tolerance_bp = 200;
  // How long an order may stay on credit hold. Default: 86400 s (1 day).
  uint64_t credit_hold_timeout_s = 24 * 3600;

  bool any() const { return customer || item || uom || currency || price || credit_hold; }
};

struct EngineOptions {
  // Logical partitions; hash(order_id) % partitions. The unit of state, ownership and
  // recovery: fixed for the life of a data directory. Default: 64.
  uint32_t partitions = 64;
  // Worker threads; each owns partitions p with p % workers == index. 0 = one per
  // hardware thread. Default: 0.
  uint32_t workers = 0;
  // Events admitted but not yet processed, per partition. A full partition answers Busy.
  // Larger absorbs longer bursts at the cost of latency and memory. Default: 4096.
  uint32_t partition_queue_capacity = 4096;
  // Extra room per partition that only SameDay events may use, so they are admitted
  // ahead of Standard ones under pressure. Default: 1024.
  uint32_t priority_reserve = 1024;
  // Most events in one group commit (one event-log record). Default: 1024.
  uint32_t max_batch_events = 1024;
  // How long a worker waits for more events before committing a non-full batch, in
  // microseconds. 0 commits whatever is queued at once (best for `wal`); a few hundred
  // helps `fsync`. Default: 0.
  uint32_t group_commit_window_us = 0;
  Durability durability = Durability::kWal;
  // A worker writes a checkpoint of its partitions (each changed order once, the
  // unacknowledged commands, the journal) every checkpoint_interval_s seconds or every
  // checkpoint_interval_events log items, whichever comes first; the event log before it
  // is then deleted. Shorter intervals mean a shorter log to replay after a crash and
  // less memory held for the next checkpoint, longer ones fewer writes of busy orders.
  // Default: 2 s, 200000 events.
  uint32_t checkpoint_interval_s = 2;
  uint32_t checkpoint_interval_events = 200000;
  BillOn bill_on = BillOn::kShip;
  // Orders kept resident in memory across all partitions; beyond it, orders whose state
  // is in a durable checkpoint are evicted (least recently used first) and read back
  // from RocksDB on their next event. Orders changed since the last durable checkpoint
  // always stay. Default: 262144.
  uint32_t order_cache_capacity = 262144;
  // Spilled event_ids (an order's ids past its first 64) kept in memory across all
  // partitions. Default: 262144.
  uint32_t dedup_cache_capacity = 262144;
  // How long a spilled event_id (beyond an order's first kMaxSeenPerOrder, which live in
  // the order record for order_retention_s) stays in the dedup table. Default: 7 days.
  uint64_t dedup_window_s = 7 * 24 * 3600;
  // How long an order's state is kept after its last change (business deduplication
  // and late events rely on it). Default: 90 days.
  uint64_t order_retention_s = 90 * 24 * 3600;
  // Keep each order's timeline (every event and its outcome, every command) for
  // `ordersync trace`, expiring with the order. Written at checkpoints, one value per
  // changed order. Default: true.
  bool journal = true;
  // How long an event may stay parked waiting for its prerequisite before it becomes a
  // missing_prerequisite exception, per milestone kind (index = Milestone value; 0 =
  // use park_timeout_s). Default: 600 s for all.
  uint64_t park_timeout_s = 600;
  std::array<uint64_t, kMilestoneKinds> park_timeout_by_kind_s{};
  RoutingOptions routing;
  ValidatorOptions validation;
  MasterDataCheckOptions master_data;

  uint64_t ParkTimeoutSeconds(Milestone kind) const {
    uint64_t v = park_timeout_by_kind_s[static_cast<size_t>(kind)];
    return v != 0 ? v : park_timeout_s;
  }
};

}  // namespace ordersync
