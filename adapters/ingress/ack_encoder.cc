#include "adapters/ingress/ack_encoder.h"

#include <vector>

#include "ingress_generated.h"

namespace ordersync {

static_assert(static_cast<uint8_t>(IngressVerdict::kAccepted) == static_cast<uint8_t>(EventStatus::Accepted));
static_assert(static_cast<uint8_t>(IngressVerdict::kDuplicate) == static_cast<uint8_t>(EventStatus::Duplicate));
static_assert(static_cast<uint8_t>(IngressVerdict::kRejected) == static_cast<uint8_t>(EventStatus::Rejected));
static_assert(static_cast<uint8_t>(IngressVerdict::kThrottled) == static_cast<uint8_t>(EventStatus::Throttled));
static_assert(static_cast<uint8_t>(IngressVerdict::kBusy) == static_cast<uint8_t>(EventStatus::Busy));

std::string_view IngressVerdictName(IngressVerdict verdict) {
  return EnumNameEventStatus(static_cast<EventStatus>(verdict));
}

struct AckEncoder::Rep {
  flatbuffers::FlatBufferBuilder fbb{4096};
  std::vector<flatbuffers::Offset<EventResult>> results;
};

AckEncoder::AckEncoder() : rep_(std::make_unique<Rep>()) {}
AckEncoder::~AckEncoder() = default;

void AckEncoder::Begin() {
  rep_->fbb.Clear();
  rep_->results.clear();
}

void AckEncoder::Add(std::string_view event_id, IngressVerdict status, std::string_view reason, uint32_t retry_after_ms) {
  flatbuffers::FlatBufferBuilder& fbb = rep_->fbb;
  const auto id = event_id.empty() ? flatbuffers::Offset<flatbuffers::String>()
                                   : fbb.CreateString(event_id.data(), event_id.size());
  const auto why = reason.empty() ? flatbuffers::Offset<flatbuffers::String>()
                                  : fbb.CreateString(reason.data(), reason.size());
  rep_->results.push_back(CreateEventResult(fbb, id, static_cast<EventStatus>(status), why, retry_after_ms));
}

std::string_view AckEncoder::Finish() {
  flatbuffers::FlatBufferBuilder& fbb = rep_->fbb;
  fbb.Finish(CreateIngressAck(fbb, fbb.CreateVector(rep_->results)), IngressAckIdentifier());
  return {reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()};
}

}  // namespace ordersync
