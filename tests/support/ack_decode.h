// Decoding IngressAck replies in tests into plain structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ordersync::testing {

// One decoded EventResult. `status` is the wire EventStatus value (IngressVerdict in C++).
struct AckResult {
  int status = -1;
  std::string event_id;
  std::string reason;
  uint32_t retry_after_ms = 0;
};

// Decodes one IngressAck frame; nullopt if it does not verify.
std::optional<std::vector<AckResult>> DecodeAck(const std::string& frame);

}  // namespace ordersync::testing
