#include "tests/support/ack_decode.h"

#include "ingress_generated.h"

namespace ordersync::testing {

std::optional<std::vector<AckResult>> DecodeAck(const std::string& frame) {
  std::string aligned = frame;  // FlatBuffers reads scalars in place
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned.data()), aligned.size());
  if (!VerifyIngressAckBuffer(verifier)) return std::nullopt;
  const IngressAck* ack = GetIngressAck(aligned.data());
  std::vector<AckResult> out;
  if (ack->results() == nullptr) return out;
  for (const EventResult* r : *ack->results()) {
    AckResult a;
    a.status = static_cast<int>(r->status());
    a.event_id = r->event_id() ? r->event_id()->str() : "";
    a.reason = r->reason() ? r->reason()->str() : "";
    a.retry_after_ms = r->retry_after_ms();
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace ordersync::testing
