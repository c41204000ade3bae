// TTL compaction filter: drops entries of TTL tables (TableHasTtl) whose expire_at has
// passed, while RocksDB compacts them. Value layout (engine/state_store.h):
//
//   value    := expire_at:fixed64 (little-endian, ns since the Unix epoch) payload
//
// An entry is dropped when expire_at < now. A value shorter than 8 bytes is kept: the
// filter never drops what it cannot read (a Corruption is for the reader to report).
// `now` is sampled once per compaction (one filter per compaction job), so a single
// compaction applies one consistent cut-off.
//
// Why this design (TTL per entry in the value, dropped lazily at compaction, readers
// check expire_at themselves) rather than the alternatives:
//  - rocksdb::DBWithTTL measures age from the last write with one TTL per column
//    family, in whole seconds, and appends its own timestamp to every value of every
//    column family of the DB (non-TTL tables included). Our deadline is a business
//    value per entry (dedup window vs order retention, set by the engine, not by the
//    write time), and the value format should stay ours for tools and migrations.
//  - Time-bucketed column families (drop a whole CF per day) make expiry free but
//    turn every point lookup into one Get per live bucket, split an order's updates
//    across buckets, and need CF create/drop choreography tied to the clock.
//  - Here expiry costs one 8-byte compare per entry a compaction already rewrites, no
//    extra lookups, and exactness comes from the reader's own expire_at check, so late
//    compactions only cost disk space, never correctness.
//
// Thread-safety: the factory is shared by all compactions of its column families and is
// thread-safe (the clock function must be callable from any thread). A filter it creates
// belongs to one compaction thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "rocksdb/compaction_filter.h"

namespace ordersync {

// Wall clock in ns since the Unix epoch. Injectable so tests can expire entries.
using WallClockNs = std::function<int64_t()>;

// The system wall clock (std::chrono::system_clock).
int64_t SystemWallClockNs();

// Drops entries whose expire_at < now_ns. Stateless apart from the cut-off.
class TtlCompactionFilter : public rocksdb::CompactionFilter {
 public:
  explicit TtlCompactionFilter(int64_t now_ns) : now_ns_(now_ns) {}

  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& existing_value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "ordersync.TtlCompactionFilter"; }

 private:
  const int64_t now_ns_;
};

// Creates a TtlCompactionFilter per compaction, with now = clock() at its start.
class TtlCompactionFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  // REQUIRES: clock is non-empty.
  explicit TtlCompactionFilterFactory(WallClockNs clock) : clock_(std::move(clock)) {}

  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& context) override;
  const char* Name() const override { return "ordersync.TtlCompactionFilterFactory"; }

 private:
  const WallClockNs clock_;
};

}  // namespace ordersync
