// StateStore: the engine's only door to durable storage. The engine declares this
// interface; adapters/storage implements it with RocksDB (one column family per Table).
// The engine never includes rocksdb/ headers.
//
// Contract:
//  - A StoreBatch collects puts and deletes across tables; Write applies it atomically
//    (all or nothing) with the requested durability. A state change and the outbox
//    commands it causes always travel in one batch.
//  - Get/NewIterator see every batch whose Write has returned OK.
//  - Values of TTL tables (TableHasTtl) start with an 8-byte little-endian expire_at
//    (ns since the Unix epoch, see coding.h). The store may drop an entry once
//    expire_at < now (compaction filter); until then Get still returns it, so readers
//    check expire_at themselves.
//
// Thread-safety: StateStore methods may be called concurrently from any thread. A
// StoreBatch or StoreIterator belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/engine_options.h"
#include "engine/status.h"

namespace ordersync {

// Logical tables. Keys start with the 2-byte big-endian partition id (engine/keys.h),
// so everything a partition owns is a contiguous key range in every table.
enum class Table : uint8_t {
  kOrders = 0,   // partition|order_id -> [expire_at][storage.OrderState]
  kDedup,        // partition|event_id -> [expire_at][fingerprint:8]
  kParked,       // partition|order_id|0x00|event_id -> storage.ParkedEvent
  kOutbox,       // partition|outbox_seq:8 -> ErpCommand (schemas/erp.fbs)
  kExceptions,   // partition|exception_seq:8 -> storage.ExceptionRecord
  kMeta,         // partition|name -> counters (next outbox/exception seq)
  kDeadLetters,  // fan-out dead-letter queue (later issue)
  kQuarantine,   // rejected inbound frames (ingress)
  kJournal,      // p|len|order_id|at_ns:8|uniq:8 -> [expire_at][storage.JournalEntry]
  kCount,
};

inline constexpr size_t kTableCount = static_cast<size_t>(Table::kCount);

// Column-family name of a table, e.g. "orders".
std::string_view TableName(Table table);

// True for tables whose values carry an expire_at prefix the store may act on.
inline constexpr bool TableHasTtl(Table table) {
  return table == Table::kOrders || table == Table::kDedup || table == Table::kJournal;
}

class StoreBatch {
 public:
  virtual ~StoreBatch() = default;
  virtual void Put(Table table, std::string_view key, std::string_view value) = 0;
  virtual void Delete(Table table, std::string_view key) = 0;
  // Number of operations and approximate encoded size of the batch.
  virtual size_t Count() const = 0;
  virtual size_t ByteSize() const = 0;
  // Empties the batch for reuse (keeps its memory).
  virtual void Clear() = 0;
};

// Forward iterator over [lower, upper) of one table, in byte-wise key order.
class StoreIterator {
 public:
  virtual ~StoreIterator() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;    // REQUIRES: Valid()
  virtual std::string_view value() const = 0;  // REQUIRES: Valid()
  // Non-OK if iteration stopped on an error rather than at the end.
  virtual Status status() const = 0;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Sets *value and returns OK, or returns NotFound.
  virtual Status Get(Table table, std::string_view key, std::string* value) = 0;

  virtual std::unique_ptr<StoreBatch> NewBatch() = 0;

  // Applies `batch` atomically. kWal: survives a process crash; kFsync: survives power
  // loss (fsync before return); kNone: no WAL (benchmarks). The batch is left intact.
  virtual Status Write(StoreBatch* batch, Durability durability) = 0;

  // Iterates keys in [lower, upper). An empty `upper` means "to the end of the table".
  virtual std::unique_ptr<StoreIterator> NewIterator(Table table, std::string_view lower,
                                                     std::string_view upper) = 0;
};

}  // namespace ordersync
