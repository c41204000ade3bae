// Writes the seed corpus of envelope_fuzz: one valid Envelope per payload kind plus a
// 20-line shipment, encoded with MilestoneBuilder, as DIR/seed_<name>.bin. DIR is
// emptied first, so a fuzz run that grows the corpus starts from the same seeds.
//
// Usage: envelope_seed_gen DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "adapters/producer/milestone_builder.h"

int main(int argc, char** argv) {
  using namespace ordersync;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
    return 2;
  }
  int written = 0;
  auto emit = [&](const std::string& name, const EnvelopeSpec& spec) {
    std::ofstream out(dir / ("seed_" + name + ".bin"), std::ios::binary);
    out << MilestoneBuilder::BuildToString(spec);
    written += out.good() ? 1 : 0;
    return out.good();
  };
  bool ok = true;
  for (int k = 1; k <= static_cast<int>(Milestone::MAX); ++k) {
    const Milestone kind = static_cast<Milestone>(k);
    EnvelopeSpec s;
    s.event_id = "evt-" + std::to_string(k);
    s.correlation_id = "trace-1";
    s.order_id = "SO-1";
    s.source_seq = static_cast<uint64_t>(k);
    s.kind = kind;
    s.business_key = "BK-1";
    s.lines = {{1, "SKU-1", 2, "EA", 1999}, {2, "SKU-2", 1, "EA", 0}};
    s.tracking_no = kind == Milestone::ShipmentDispatched ? "TRK-1" : "";
    s.signed_by = kind == Milestone::DeliveryConfirmed ? "J. Doe" : "";
    s.reason = (kind == Milestone::OrderCancelled || kind == Milestone::InventoryAdjusted) ? "why" : "";
    s.sku = "SKU-1";
    s.delta_qty = -1;
    ok &= emit(EnumNameMilestone(kind), s);
    if (kind == Milestone::ShipmentDispatched) {
      s.priority = Priority::SameDay;
      for (uint32_t i = 3; i <= 20; ++i) s.lines.push_back({i, "SKU-" + std::to_string(i), i, "EA", 100});
      ok &= emit("ShipmentDispatched20Lines", s);
    }
  }
  std::printf("wrote %d seeds to %s\n", written, dir.c_str());
  return ok ? 0 : 1;
}
