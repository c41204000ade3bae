// Stable 64-bit hashing (FNV-1a). Stable across builds, platforms and restarts, which
// std::hash is not: partition assignment (hash(order_id) % partitions) and business
// fingerprints are persisted, so they must never change.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace ordersync {

inline constexpr uint64_t kFnvOffsetBasis = 14695981039346656037ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;

inline uint64_t HashBytes(std::string_view s, uint64_t h = kFnvOffsetBasis) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

inline uint64_t HashU64(uint64_t v, uint64_t h) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
  return h;
}

// Hashes a field so that ("ab","c") and ("a","bc") differ: length, then bytes.
inline uint64_t HashField(std::string_view s, uint64_t h) { return HashBytes(s, HashU64(s.size(), h)); }

inline uint32_t PartitionOf(std::string_view order_id, uint32_t partitions) {
  return static_cast<uint32_t>(HashBytes(order_id) % partitions);
}

}  // namespace ordersync
