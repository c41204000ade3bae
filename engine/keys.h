// Key layout of every engine table (see state_store.h for the value formats). Every key
// starts with the 2-byte big-endian partition id, so a partition's data is one
// contiguous range per table: the unit of ownership, migration and recovery.
//
//   orders      p | order_id
//   dedup       p | event_id
//   parked      p | len(order_id):1 | order_id | event_id
//   outbox      p | outbox_seq:8 (big-endian, so new commands append at the end)
//   exceptions  p | exception_seq:8
//   meta        p | "counters"      next outbox_seq:8 | next exception_seq:8 | next journal seq:8
//   meta        p | "checkpoint"    generation:4 | stream:4 | offset:8 (event log position
//                                   the partition's checkpoint covers; all little-endian)
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/coding.h"

namespace ordersync {

inline void OrderKey(std::string* key, uint32_t partition, std::string_view order_id) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  key->append(order_id);
}

inline void DedupKey(std::string* key, uint32_t partition, std::string_view event_id) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  key->append(event_id);
}

// Prefix of all parked events of one order. Length-prefixed so that order "A" does not
// also match order "A\0B".
inline void ParkedOrderPrefix(std::string* key, uint32_t partition, std::string_view order_id) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  key->push_back(static_cast<char>(order_id.size()));
  key->append(order_id);
}

inline void ParkedKey(std::string* key, uint32_t partition, std::string_view order_id,
                      std::string_view event_id) {
  ParkedOrderPrefix(key, partition, order_id);
  key->append(event_id);
}

// Splits a parked key into its order_id and event_id. False if malformed.
inline bool ParseParkedKey(std::string_view key, std::string_view* order_id, std::string_view* event_id) {
  if (key.size() < 3) return false;
  size_t len = static_cast<uint8_t>(key[2]);
  if (key.size() < 3 + len) return false;
  *order_id = key.substr(3, len);
  *event_id = key.substr(3 + len);
  return true;
}

inline void SeqKey(std::string* key, uint32_t partition, uint64_t seq) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  PutBigEndian64(key, seq);
}

inline void MetaCountersKey(std::string* key, uint32_t partition) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  key->append("counters");
}

inline void MetaCheckpointKey(std::string* key, uint32_t partition) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  key->append("checkpoint");
}

// [lower, upper) covering every key of `partition` in any table.
inline void PartitionRange(uint32_t partition, std::string* lower, std::string* upper) {
  lower->clear();
  upper->clear();
  PutBigEndian16(lower, static_cast<uint16_t>(partition));
  PutBigEndian16(upper, static_cast<uint16_t>(partition + 1));
}

inline uint32_t PartitionOfKey(std::string_view key) {
  return key.size() >= 2 ? DecodeBigEndian16(key.data()) : 0;
}

}  // namespace ordersync
