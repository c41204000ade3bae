// Tests for ProducerStream (adapters/producer/producer_stream.h): a stream is reproducible
// from its seed and index, and every item is what its kind says — originals and
// duplicates pass the engine's validator, malformed and mutated frames do not, the latter
// with the reason recorded in the item.
#include "adapters/producer/producer_stream.h"

#include <string>
#include <vector>

#include "engine/envelope_validator.h"
#include "gtest/gtest.h"

namespace ordersync {
namespace {

constexpr int kItems = 5000;

ProducerStreamOptions Spiked() {
  ProducerStreamOptions o;
  o.seed = 7;
  o.malformed_share = 0.02;
  o.mutated_share = 0.05;
  return o;
}

Rejection Validate(const std::string& frame) {
  const Envelope* envelope = nullptr;
  return ValidateEnvelope(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), ValidatorOptions{}, &envelope);
}

TEST(ProducerStreamTest, SameSeedAndIndexGiveTheSameStream) {
  ProducerStream a(Spiked(), 1), b(Spiked(), 1);
  for (int i = 0; i < kItems; ++i) {
    const StreamItem x = a.Next(), y = b.Next();
    ASSERT_EQ(x.event_id, y.event_id) << "item " << i;
    ASSERT_EQ(x.kind, y.kind) << "item " << i;
    ASSERT_EQ(x.expected_reason, y.expected_reason) << "item " << i;
  }
  EXPECT_EQ(a.orders(), b.orders());
}

TEST(ProducerStreamTest, OrderIdsCarrySeedAndIndex) {
  ProducerStream s(Spiked(), 3);
  const StreamItem item = s.Next();
  EXPECT_EQ(item.order_id.rfind("LG7-P3-", 0), 0u) << item.order_id;
  EXPECT_EQ(ProducerGeneratorOptions(Spiked(), 3).order_prefix, "LG7-P3-");
}

TEST(ProducerStreamTest, EveryItemIsWhatItsKindSays) {
  ProducerStreamOptions o = Spiked();
  o.stamp_send_time = true;  // the other path that encodes frames
  ProducerStream s(o, 0);
  int counts[5] = {};
  for (int i = 0; i < kItems; ++i) {
    const StreamItem item = s.Next();
    ++counts[static_cast<int>(item.kind)];
    const Rejection r = Validate(item.frame);
    switch (item.kind) {
      case StreamItemKind::kOriginal:
      case StreamItemKind::kExactDuplicate:
        EXPECT_TRUE(r.ok()) << item.event_id << ": " << r.ToString();
        EXPECT_EQ(item.fact_id, item.event_id);
        break;
      case StreamItemKind::kBusinessDuplicate:
        EXPECT_TRUE(r.ok()) << item.event_id << ": " << r.ToString();
        EXPECT_EQ(item.fact_id + "-dup", item.event_id);
        break;
      case StreamItemKind::kMalformed:
        EXPECT_FALSE(r.ok()) << item.event_id;
        break;
      case StreamItemKind::kMutated:
        EXPECT_FALSE(r.ok()) << item.event_id << " (" << FrameMutationName(item.mutation) << ")";
        EXPECT_EQ(r.ToString(), item.expected_reason);
        break;
    }
  }
  for (int kind = 0; kind < 5; ++kind) EXPECT_GT(counts[kind], 0) << "kind " << kind;
}

}  // namespace
}  // namespace ordersync
