// PublishContexts: the caller's context of each asynchronous publish in flight, found
// again when nats.c reports the publish's acknowledgement. nats.c hands the ack handler
// only the message it was given (no user pointer per publish), so the context is keyed by
// the message's address, which is unique while the message is in flight (nats.c frees it
// after the handler returned, and the entry is taken in the handler).
//
// A fixed open-addressing table without locks: Put claims a free slot with one
// compare-and-swap on the key, Take finds the key by linear probing (it does not stop at
// an empty slot, so removing an entry needs no tombstones) and frees the slot. The table
// never grows: Put fails when every slot is taken (the caller answers Busy). With
// capacity >= 2 x the publishes in flight, probes are short.
//
// Memory ordering: Put writes the value after claiming the key and before the publish is
// sent; the ack handler runs after nats.c's own mutexes ordered the send before it, so
// Take reads the value Put wrote.
//
// Thread-safety: Put and Take may run concurrently from any threads, for distinct keys.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ordersync {

template <typename Value>
class PublishContexts {
 public:
  // Room for at least `min_capacity` entries (rounded up to a power of two, at least 64).
  explicit PublishContexts(size_t min_capacity) {
    size_t cap = 64;
    while (cap < min_capacity) cap <<= 1;
    mask_ = cap - 1;
    slots_ = std::make_unique<Slot[]>(cap);
  }

  // REQUIRES: key non-null and not in the table. False when the table is full.
  bool Put(const void* key, const Value& value) {
    const size_t start = Hash(key);
    for (size_t i = 0; i <= mask_; ++i) {
      Slot& s = slots_[(start + i) & mask_];
      const void* expected = nullptr;
      if (s.key.load(std::memory_order_relaxed) == nullptr &&
          s.key.compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
        s.value = value;
        return true;
      }
    }
    return false;
  }

  // Removes `key`'s entry into *value. False when it is not in the table.
  bool Take(const void* key, Value* value) {
    const size_t start = Hash(key);
    for (size_t i = 0; i <= mask_; ++i) {
      Slot& s = slots_[(start + i) & mask_];
      if (s.key.load(std::memory_order_acquire) != key) continue;
      *value = s.value;
      s.key.store(nullptr, std::memory_order_release);
      return true;
    }
    return false;
  }

  size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    std::atomic<const void*> key{nullptr};
    Value value{};
  };
  size_t Hash(const void* key) const {
    uint64_t x = reinterpret_cast<uintptr_t>(key);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<size_t>(x) & mask_;
  }
  size_t mask_ = 0;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace ordersync
