// PublishContexts: entries found by key after collisions and removals, a full table
// refusing Put, and concurrent Put/Take of distinct keys from several threads (as the
// ingress threads and nats.c's ack thread do).
#include "adapters/cluster/publish_contexts.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ordersync {
namespace {

struct Ctx {
  void* object = nullptr;
  uint64_t cookie = 0;
};

const void* Key(uintptr_t i) { return reinterpret_cast<const void*>((i + 1) * 64); }

TEST(PublishContextsTest, TakeFindsEachEntryAfterOthersWereRemoved) {
  PublishContexts<Ctx> table(64);
  for (uintptr_t i = 0; i < 64; ++i) ASSERT_TRUE(table.Put(Key(i), Ctx{nullptr, i}));
  Ctx c;
  for (uintptr_t i = 0; i < 64; i += 2) ASSERT_TRUE(table.Take(Key(i), &c));
  for (uintptr_t i = 1; i < 64; i += 2) {
    ASSERT_TRUE(table.Take(Key(i), &c)) << i;
    EXPECT_EQ(c.cookie, i);
  }
  EXPECT_FALSE(table.Take(Key(1), &c));  // taken already
}

TEST(PublishContextsTest, PutFailsWhenEverySlotIsTaken) {
  PublishContexts<Ctx> table(10);  // rounded up to 64
  ASSERT_EQ(table.capacity(), 64u);
  for (uintptr_t i = 0; i < 64; ++i) ASSERT_TRUE(table.Put(Key(i), Ctx{}));
  EXPECT_FALSE(table.Put(Key(64), Ctx{}));
  Ctx c;
  ASSERT_TRUE(table.Take(Key(5), &c));
  EXPECT_TRUE(table.Put(Key(64), Ctx{nullptr, 7}));
  ASSERT_TRUE(table.Take(Key(64), &c));
  EXPECT_EQ(c.cookie, 7u);
}

TEST(PublishContextsTest, ConcurrentPutAndTakeOfDistinctKeysLoseNothing) {
  PublishContexts<Ctx> table(4 * 64);
  constexpr int kThreads = 4, kRounds = 20000;
  std::vector<std::thread> threads;
  std::vector<int> mismatches(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const uintptr_t base = static_cast<uintptr_t>(t) * 1000 + static_cast<uintptr_t>(r % 50);
        if (!table.Put(Key(base), Ctx{nullptr, base})) ++mismatches[t];
        Ctx c;
        if (!table.Take(Key(base), &c) || c.cookie != base) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << t;
}

}  // namespace
}  // namespace ordersync
