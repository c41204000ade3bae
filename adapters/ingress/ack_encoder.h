// AckEncoder: builds the IngressAck (schemas/ingress.fbs) the ack endpoint replies with.
// The ingress server speaks IngressVerdict; only this file knows the wire table layout.
//
//   encoder.Begin();
//   encoder.Add("evt-1", IngressVerdict::kAccepted, "", 0);   // one per frame, in frame order
//   std::string_view bytes = encoder.Finish();           // valid until the next Begin
//
// Thread-safety: one encoder per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace ordersync {

// The wire's EventStatus, value for value.
enum class IngressVerdict : uint8_t {
  kAccepted = 0,
  kDuplicate = 1,
  kRejected = 2,
  kThrottled = 3,
  kBusy = 4,
};

// "Accepted", "Duplicate", ... as in schemas/ingress.fbs.
std::string_view IngressVerdictName(IngressVerdict verdict);

class AckEncoder {
 public:
  AckEncoder();
  ~AckEncoder();
  AckEncoder(const AckEncoder&) = delete;
  AckEncoder& operator=(const AckEncoder&) = delete;

  void Begin();
  // Empty event_id / reason are left out of the buffer.
  void Add(std::string_view event_id, IngressVerdict status, std::string_view reason, uint32_t retry_after_ms);
  std::string_view Finish();

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace ordersync
