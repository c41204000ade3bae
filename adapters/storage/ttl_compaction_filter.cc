#include "adapters/storage/ttl_compaction_filter.h"

#include <chrono>

#include "engine/coding.h"

namespace ordersync {

int64_t SystemWallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool TtlCompactionFilter::Filter(int /*level*/, const rocksdb::Slice& /*key*/,
                                 const rocksdb::Slice& existing_value,
                                 std::string* /*new_value*/,
                                 bool* /*value_changed*/) const {
  if (existing_value.size() < 8) return false;  // unreadable: keep, never guess
  if (now_ns_ <= 0) return false;               // a clock before the epoch expires nothing
  // Compare unsigned: an expire_at >= 2^63 (e.g. UINT64_MAX for "never") must not wrap
  // to a negative deadline.
  const uint64_t expire_at = DecodeFixed64(existing_value.data());
  return expire_at < static_cast<uint64_t>(now_ns_);
}

std::unique_ptr<rocksdb::CompactionFilter> TtlCompactionFilterFactory::CreateCompactionFilter(
    const rocksdb::CompactionFilter::Context& /*context*/) {
  return std::make_unique<TtlCompactionFilter>(clock_());
}

}  // namespace ordersync
