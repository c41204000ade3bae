// ProducerStream: the delivery stream of one simulated warehouse producer, as
// `ordersync loadgen` sends it and the end-to-end benchmark tools replay it. Orders come
// from a LifecycleGenerator in windows of 200; each window's events, in business order,
// are then displaced (out of order, up to 64 places late), duplicated (exact copies, and
// business copies: the same fact under event_id + "-dup"), and spiked with malformed
// frames (in turn: schema_version 2, no order_id, cut in half) and mutated frames (see
// FrameMutation; each with the reason the engine's validator rejects it with). Frames
// are encoded by MilestoneBuilder.
//
// Deterministic: producer `index` of a run with the same options yields the same frames
// and event ids (business times aside: they start 10 minutes before construction, and
// with stamp_send_time each frame carries the wall-clock time of its Next()).
//
// Thread-safety: a stream is used by one thread; distinct streams are independent.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>

#include "adapters/producer/lifecycle_generator.h"
#include "adapters/producer/milestone_builder.h"

namespace ordersync {

struct ProducerStreamOptions {
  uint64_t seed = 1;                     // with the producer index, seeds everything
  std::string order_prefix;              // "" = "LG<seed>-"; then "P<index>-" is appended
  double same_day_share = 0.1;           // of orders
  double exact_duplicate_share = 0.05;   // per original event: one extra exact copy
  double business_duplicate_share = 0.02;
  double out_of_order_share = 0.2;
  double malformed_share = 0.001;        // extra malformed frames, per original event
  double mutated_share = 0;              // extra mutated frames, per original event
  // Size of an oversized mutated frame; must exceed the server's
  // validation.max_message_bytes. Default: 64 KiB + 1.
  uint32_t oversized_bytes = 64 * 1024 + 1;
  // Encode each frame in Next() with occurred_at_ns = the wall-clock time then (instead of
  // the generated business time), so a receiver can measure event-to-ERP latency.
  bool stamp_send_time = false;
  // Fill StreamItem::event_id, order_id and fact_id (costs a few string copies per item).
  bool keep_ids = true;
};

// What an item is (loadgen checks each final status against it).
enum class StreamItemKind : uint8_t { kOriginal, kExactDuplicate, kBusinessDuplicate, kMalformed, kMutated };

// Mutations of a valid frame (ProducerStreamOptions::mutated_share), used in turn.
enum class FrameMutation : uint8_t { kBitFlip, kTruncated, kWrongIdentifier, kOversized, kSchemaVersion };
constexpr uint8_t kFrameMutationCount = 5;
// "bit_flip", "truncated", "wrong_identifier", "oversized", "schema_version".
const char* FrameMutationName(FrameMutation m);

struct StreamItem {
  std::string frame;  // the encoded Envelope (malformed/mutated: the broken bytes)
  StreamItemKind kind = StreamItemKind::kOriginal;
  bool same_day = false;
  FrameMutation mutation = FrameMutation::kBitFlip;  // kMutated only
  std::string expected_reason;                       // kMutated only: the validator's reason code
  // keep_ids only. fact_id: the event_id of the original event (a business duplicate's fact).
  std::string event_id, order_id, fact_id;
};

// The LifecycleGenerator options of producer `index` (0-based): the orders it streams, in
// the same order (business times aside). For checkers and preloads that replay them.
GeneratorOptions ProducerGeneratorOptions(const ProducerStreamOptions& options, uint32_t index);

class ProducerStream {
 public:
  ProducerStream(const ProducerStreamOptions& options, uint32_t index);

  // The next item to send. Never runs dry.
  StreamItem Next();

  // Orders generated so far (a window of 200 at a time).
  uint64_t orders() const { return orders_; }

 private:
  struct Pending {
    StreamItem item;
    std::optional<EnvelopeSpec> spec;  // stamp_send_time: encoded by Next()
    bool cut = false;                  // stamp_send_time: a cut malformed frame
  };

  bool Chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  void Refill();
  void Mutate(StreamItem* item);

  ProducerStreamOptions options_;
  std::mt19937_64 rng_;
  LifecycleGenerator generator_;
  MilestoneBuilder builder_;
  std::deque<Pending> pending_;
  uint64_t orders_ = 0;
  uint64_t malformed_counter_ = 0;
  uint64_t mutated_counter_ = 0;
};

}  // namespace ordersync
