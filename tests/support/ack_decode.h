// Decoding IngressAck replies in tests. Kept apart from engine headers: the wire table
// ordersync::EventResult (ingress_generated.h) and the engine's EventResult struct share
// a name, so no translation unit may include both.
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
