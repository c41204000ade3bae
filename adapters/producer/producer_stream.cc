#include "adapters/producer/producer_stream.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "engine/envelope_validator.h"

namespace ordersync {
namespace {

using enum StreamItemKind;
using enum FrameMutation;

int64_t WallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* FrameMutationName(FrameMutation m) {
  static const char* const kNames[] = {"bit_flip", "truncated", "wrong_identifier", "oversized", "schema_version"};
  const auto i = static_cast<uint8_t>(m);
  return i < kFrameMutationCount ? kNames[i] : "unknown";
}

GeneratorOptions ProducerGeneratorOptions(const ProducerStreamOptions& options, uint32_t index) {
  GeneratorOptions go;
  go.seed = options.seed * 1000003 + index;
  go.order_prefix = (options.order_prefix.empty() ? "LG" + std::to_string(options.seed) + "-" : options.order_prefix) +
                    "P" + std::to_string(index) + "-";
  go.same_day_share = options.same_day_share;
  // Lifecycles that happened over the last minutes, so SLO histograms show live figures.
  go.base_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch() - std::chrono::minutes(10))
                        .count();
  return go;
}

ProducerStream::ProducerStream(const ProducerStreamOptions& options, uint32_t index)
    : options_(options), rng_(options.seed * 7919 + index), generator_(ProducerGeneratorOptions(options, index)) {}

StreamItem ProducerStream::Next() {
  if (pending_.empty()) Refill();
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  if (p.spec) {
    p.spec->occurred_at_ns = WallClockNs();
    p.item.frame.assign(builder_.Build(*p.spec));
    if (p.cut) p.item.frame.resize(p.item.frame.size() / 2);
  }
  return std::move(p.item);
}

// Windows of orders, each window's events in business order, then displaced, duplicated
// and spiked with malformed and mutated frames. The order of the random draws is part of
// the contract (same seed, same stream): change it and runs are no longer reproducible.
void ProducerStream::Refill() {
  constexpr int kOrdersPerWindow = 200;
  std::vector<GeneratedOrder> orders;
  for (int i = 0; i < kOrdersPerWindow; ++i) orders.push_back(generator_.Next());
  orders_ += orders.size();
  std::vector<std::pair<EnvelopeSpec, StreamItemKind>> stream;
  for (const EnvelopeSpec& e : InOrder(orders)) stream.emplace_back(e, kOriginal);
  const size_t originals = stream.size();
  // Out of order: move an event up to 64 places later than its business position.
  for (size_t i = 0; i < originals; ++i) {
    if (!Chance(options_.out_of_order_share)) continue;
    const size_t j = std::min(originals - 1, i + std::uniform_int_distribution<size_t>(1, 64)(rng_));
    std::swap(stream[i], stream[j]);
  }
  auto insert_at_random = [&](std::pair<EnvelopeSpec, StreamItemKind> e, size_t after) {
    const size_t pos = std::uniform_int_distribution<size_t>(after, stream.size())(rng_);
    stream.insert(stream.begin() + static_cast<ptrdiff_t>(pos), std::move(e));
  };
  for (size_t i = 0; i < originals; ++i) {
    const EnvelopeSpec original = stream[i].first;
    if (Chance(options_.exact_duplicate_share)) insert_at_random({original, kExactDuplicate}, i + 1);
    if (Chance(options_.business_duplicate_share)) {
      EnvelopeSpec again = original;
      again.event_id += "-dup";
      insert_at_random({std::move(again), kBusinessDuplicate}, i + 1);
    }
    if (Chance(options_.malformed_share)) {
      EnvelopeSpec bad = original;
      bad.event_id += "-bad";
      insert_at_random({std::move(bad), kMalformed}, 0);
    }
    if (Chance(options_.mutated_share)) {
      EnvelopeSpec bad = original;
      bad.event_id += "-mut";
      insert_at_random({std::move(bad), kMutated}, 0);
    }
  }
  for (auto& [spec, kind] : stream) {
    Pending p;
    StreamItem& item = p.item;
    item.kind = kind;
    item.same_day = spec.priority == Priority::SameDay;
    if (options_.keep_ids) {
      item.event_id = spec.event_id;
      item.order_id = spec.order_id;
      item.fact_id = kind == kBusinessDuplicate ? spec.event_id.substr(0, spec.event_id.size() - 4) : spec.event_id;
    }
    if (kind == kMutated) {  // built now: the mutation needs the bytes
      item.mutation = static_cast<FrameMutation>(mutated_counter_++ % kFrameMutationCount);
      if (item.mutation == kSchemaVersion) spec.schema_version = 2;
      item.frame.assign(builder_.Build(spec));
      Mutate(&item);
      pending_.push_back(std::move(p));
      continue;
    }
    if (kind == kMalformed) {
      // Three kinds of fault, in turn: a newer schema, a missing field, a cut frame.
      switch (malformed_counter_++ % 3) {
        case 0: spec.schema_version = 2; break;
        case 1: spec.order_id.clear(); break;
        default: break;
      }
    }
    const bool cut = kind == kMalformed && malformed_counter_ % 3 == 0;
    if (options_.stamp_send_time) {
      p.spec = spec;
      p.cut = cut;
      pending_.push_back(std::move(p));
      continue;
    }
    item.frame.assign(builder_.Build(spec));
    if (cut) item.frame.resize(item.frame.size() / 2);
    pending_.push_back(std::move(p));
  }
}

// Applies item->mutation to item->frame (a valid frame) and sets the reason code the
// engine's validator gives the result. A bit flip the validator still accepts is redone
// (up to 64 times, then the frame is cut to 7 bytes).
void ProducerStream::Mutate(StreamItem* item) {
  std::string& f = item->frame;
  ValidatorOptions vo;
  vo.max_message_bytes = std::max<size_t>(1024, options_.oversized_bytes - 1);
  auto verdict = [&](const std::string& frame) {
    const Envelope* envelope = nullptr;
    return ValidateEnvelope(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), vo, &envelope);
  };
  switch (item->mutation) {
    case kBitFlip: {
      const std::string original = f;
      for (int attempt = 0; attempt < 64; ++attempt) {
        f = original;
        const int flips = std::uniform_int_distribution<int>(1, 4)(rng_);
        for (int i = 0; i < flips; ++i) {
          const size_t at = std::uniform_int_distribution<size_t>(0, f.size() - 1)(rng_);
          f[at] = static_cast<char>(f[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng_)));
        }
        if (!verdict(f).ok()) break;
      }
      break;
    }
    case kTruncated: f.resize(std::uniform_int_distribution<size_t>(1, f.size() - 1)(rng_)); break;
    case kWrongIdentifier: f.replace(4, 4, "OSEC"); break;
    case kOversized: f.resize(std::max<size_t>(f.size(), options_.oversized_bytes), '\0'); break;
    case kSchemaVersion: break;  // built with schema_version 2
  }
  Rejection r = verdict(f);
  if (r.ok()) {  // a bit flip that never broke it
    f.resize(7);
    r = verdict(f);
  }
  item->expected_reason = r.ToString();
}

}  // namespace ordersync
