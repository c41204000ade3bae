// Microbenchmarks of the ingress gate: ValidateEnvelope (FlatBuffers verifier + contract
// checks) on realistic ShipmentDispatched frames, then a read of the fields the engine
// looks at first. FlatBuffers decoding is zero-copy, so "decode" is the verifier pass
// plus those reads. Reports events/s (items) and bytes/s; the frame size is the label.
//
// Run: build/release/bench/validator_bench --benchmark_filter=BM_Validator
// (docs/benchmarks.md, "Decode + validate", records the reference numbers).
#include <string>

#include "adapters/producer/milestone_builder.h"
#include "benchmark/benchmark.h"
#include "engine/envelope_validator.h"

namespace ordersync {
namespace {

// A shipment as a WMS sends it, with `lines` order lines. With `optional_fields` every
// optional field is set (correlation_id, company_code, carrier, tracking_no, uom, price);
// without, only what the contract requires.
std::string ShipmentFrame(int lines, bool optional_fields) {
  EnvelopeSpec s;
  s.event_id = "wms-east-0001234567";
  s.order_id = "SO-2024-0012345";
  s.source = "WMS-EAST";
  s.source_seq = 17;
  s.occurred_at_ns = 1'717'000'000'123'456'789;
  s.kind = Milestone::ShipmentDispatched;
  s.business_key = "SHP-0098765";
  s.correlation_id = optional_fields ? "trace-00ab12" : "";
  s.company_code = optional_fields ? "1000" : "";
  s.carrier = optional_fields ? "DHL" : "";
  s.tracking_no = optional_fields ? "JD014600" : "";
  for (int i = 1; i <= lines; ++i) {
    s.lines.push_back({static_cast<uint32_t>(i), "SKU-" + std::to_string(10000 + i), i, optional_fields ? "EA" : "",
                       optional_fields ? 1999 : 0});
  }
  return MilestoneBuilder::BuildToString(s);
}

void BM_Validator_DecodeValidate(benchmark::State& state) {
  const std::string frame = ShipmentFrame(static_cast<int>(state.range(0)), state.range(1) != 0);
  const auto* data = reinterpret_cast<const uint8_t*>(frame.data());
  const ValidatorOptions options;
  for (auto _ : state) {
    const Envelope* e = nullptr;
    Rejection r = ValidateEnvelope(data, frame.size(), options, &e);
    if (!r.ok()) {
      state.SkipWithError(("frame rejected: " + r.ToString()).c_str());
      break;
    }
    // What the ingress reads next: the dedup key, the partition key and the kind.
    benchmark::DoNotOptimize(e->event_id()->size());
    benchmark::DoNotOptimize(e->order_id()->data());
    benchmark::DoNotOptimize(e->payload_type());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
  state.SetLabel(std::to_string(frame.size()) + " B frame");
}
BENCHMARK(BM_Validator_DecodeValidate)
    ->ArgNames({"lines", "optional_fields"})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({20, 1});

}  // namespace
}  // namespace ordersync

BENCHMARK_MAIN();
