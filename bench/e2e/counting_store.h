// CountingStore: a StateStore decorator for the benchmark tools. It forwards everything to
// the wrapped store and counts, per table, the puts and deletes that reach Write() and
// their key and value bytes — the engine's real write volume per event, measured rather
// than guessed. Optionally it drops every operation on one table (the preload drops the
// outbox: preloaded orders count as posted to the ERP long ago).
//
// Thread-safety: like StateStore. Counts are merged under a mutex once per Write; a
// batch belongs to one thread at a time. Totals() may be called from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "engine/state_store.h"

namespace ordersync::bench {

struct TableWrites {
  uint64_t puts = 0, deletes = 0, key_bytes = 0, value_bytes = 0;
};
using WriteCounts = std::array<TableWrites, kTableCount>;

class CountingStore final : public StateStore {
 public:
  // `inner` must outlive this store. `drop`: a table whose operations are not forwarded.
  explicit CountingStore(StateStore* inner, std::optional<Table> drop = std::nullopt) : inner_(inner), drop_(drop) {}

  Status Get(Table table, std::string_view key, std::string* value) override { return inner_->Get(table, key, value); }
  std::unique_ptr<StoreBatch> NewBatch() override;
  // REQUIRES: batch came from this store's NewBatch.
  Status Write(StoreBatch* batch, Durability durability) override;
  std::unique_ptr<StoreIterator> NewIterator(Table table, std::string_view lower, std::string_view upper) override {
    return inner_->NewIterator(table, lower, upper);
  }

  WriteCounts Totals() const;
  uint64_t writes() const;  // Write calls that succeeded

 private:
  class Batch;
  StateStore* const inner_;
  const std::optional<Table> drop_;
  mutable std::mutex mu_;
  WriteCounts totals_;  // GUARDED_BY(mu_)
  uint64_t writes_ = 0; // GUARDED_BY(mu_)
};

}  // namespace ordersync::bench
