// Tests for ValidateEnvelope (engine/envelope_validator.h): every payload kind is accepted
// when valid, every reason code is produced by a frame that breaks exactly one rule, and
// the contract's boundary values are accepted. Cases are a table (kCases below); each
// row becomes its own test, named after the rule it exercises.
#include "engine/envelope_validator.h"

#include <cstring>
#include <functional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "adapters/producer/milestone_builder.h"
#include "erp_generated.h"
#include "flatbuffers/flatbuffers.h"
#include "gtest/gtest.h"

namespace ordersync {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

constexpr Milestone kAllKinds[] = {
    Milestone::OrderAccepted,  Milestone::InventoryReserved, Milestone::PickCompleted,
    Milestone::ShipmentDispatched, Milestone::DeliveryConfirmed, Milestone::ReturnReceived,
    Milestone::OrderCancelled, Milestone::InventoryAdjusted,
};

// A valid envelope of `kind` with every optional field filled in.
EnvelopeSpec ValidSpec(Milestone kind) {
  EnvelopeSpec s;
  s.event_id = "evt-0001";
  s.correlation_id = "trace-0001";
  s.order_id = "SO-1";
  s.source_seq = 1;
  s.kind = kind;
  s.business_key = "BK-1";
  s.lines = {{1, "SKU-1", 2, "EA", 1999}, {2, "SKU-2", 1, "EA", 500}};
  switch (kind) {
    case Milestone::ShipmentDispatched: s.tracking_no = "TRK-1"; break;
    case Milestone::DeliveryConfirmed: s.signed_by = "J. Doe"; break;
    case Milestone::OrderCancelled: s.reason = "customer request"; break;
    case Milestone::InventoryAdjusted:
      s.sku = "SKU-1";
      s.delta_qty = -3;
      s.reason = "damaged";
      break;
    default: break;
  }
  return s;
}

std::vector<LineSpec> NumberedLines(size_t n) {
  std::vector<LineSpec> lines;
  for (size_t i = 1; i <= n; ++i) lines.push_back({static_cast<uint32_t>(i), "SKU-" + std::to_string(i), 1, "EA", 100});
  return lines;
}

using PayloadFn = std::function<Offset<void>(FlatBufferBuilder&)>;

// Builds an envelope by hand, for shapes MilestoneBuilder cannot express: a union type
// this build does not know, a type without a value, present-but-empty strings and
// vectors. Envelope fields other than event_id are valid.
std::string BuildRaw(uint8_t payload_type, const PayloadFn& payload, const std::string& event_id = "evt-raw") {
  FlatBufferBuilder fbb;
  Offset<void> p = payload ? payload(fbb) : 0;
  auto eid = fbb.CreateString(event_id);
  auto oid = fbb.CreateString("SO-1");
  auto src = fbb.CreateString("WMS-EAST");
  EnvelopeBuilder b(fbb);
  b.add_event_id(eid);
  b.add_order_id(oid);
  b.add_source(src);
  b.add_occurred_at_ns(1'700'000'000'000'000'000);
  b.add_payload_type(static_cast<Milestone>(payload_type));
  if (!p.IsNull()) b.add_payload(p);
  FinishEnvelopeBuffer(fbb, b.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Offset<void> CancelPayload(FlatBufferBuilder& fbb) { return CreateOrderCancelled(fbb, fbb.CreateString("x")).Union(); }

Rejection Validate(const std::string& frame, const ValidatorOptions& options = {}) {
  const Envelope* envelope = nullptr;
  return ValidateEnvelope(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), options, &envelope);
}

// One row of the table: a frame and the verdict it must get.
struct Case {
  std::string name;                  // test name suffix: which rule the frame breaks
  std::function<std::string()> make;  // produces the frame
  std::string want;                  // Rejection::ToString(); "ok" when accepted
  ValidatorOptions options;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Case FromSpec(std::string name, Milestone kind, std::function<void(EnvelopeSpec&)> mutate, std::string want,
              ValidatorOptions options = {}) {
  return {std::move(name),
          [kind, mutate] {
            EnvelopeSpec s = ValidSpec(kind);
            if (mutate) mutate(s);
            return MilestoneBuilder::BuildToString(s);
          },
          std::move(want), options};
}

Case FromBytes(std::string name, std::function<std::string()> make, std::string want, ValidatorOptions options = {}) {
  return {std::move(name), std::move(make), std::move(want), options};
}

std::string ValidFrame(Milestone kind = Milestone::ShipmentDispatched) {
  return MilestoneBuilder::BuildToString(ValidSpec(kind));
}

// A valid frame followed by zero bytes up to `size`. FlatBuffers ignores trailing bytes,
// so this isolates the size check.
std::string PaddedValidFrame(size_t size) {
  std::string f = ValidFrame();
  f.resize(size, '\0');
  return f;
}

std::string WithIdentifier(std::string frame, const char* id) {
  std::memcpy(frame.data() + sizeof(flatbuffers::uoffset_t), id, flatbuffers::kFileIdentifierLength);
  return frame;
}

std::vector<Case> Cases() {
  using M = Milestone;
  const std::string s128(128, 'x'), s129(129, 'x');
  ValidatorOptions small_frames;
  small_frames.max_message_bytes = 64;
  ValidatorOptions two_lines;
  two_lines.max_lines = 2;

  std::vector<Case> c;
  // A valid envelope of every payload kind.
  for (M kind : kAllKinds) c.push_back(FromSpec(std::string("Accepts_") + EnumNameMilestone(kind), kind, nullptr, "ok"));

  // Boundary values and optional fields: accepted.
  c.push_back(FromSpec("Accepts_EventIdOf128Bytes", M::OrderAccepted, [=](auto& s) { s.event_id = s128; }, "ok"));
  c.push_back(FromSpec("Accepts_OrderIdOf64Bytes", M::OrderAccepted, [](auto& s) { s.order_id = std::string(64, 'o'); }, "ok"));
  c.push_back(FromSpec("Accepts_SourceOf128Bytes", M::PickCompleted, [=](auto& s) { s.source = s128; }, "ok"));
  c.push_back(FromSpec("Accepts_LineSkuOf128Bytes", M::PickCompleted, [=](auto& s) { s.lines[0].sku = s128; }, "ok"));
  c.push_back(FromSpec("Accepts_CancelReasonOf1024Bytes", M::OrderCancelled, [](auto& s) { s.reason = std::string(1024, 'r'); }, "ok"));
  c.push_back(FromSpec("Accepts_OptionalFieldsAbsent", M::ShipmentDispatched,
                       [](auto& s) {
                         s.correlation_id = s.company_code = s.carrier = s.tracking_no = "";
                         for (auto& l : s.lines) l.uom = "";
                       },
                       "ok"));
  c.push_back(FromSpec("Accepts_OrderCancelledWithoutReason", M::OrderCancelled, [](auto& s) { s.reason = ""; }, "ok"));
  c.push_back(FromSpec("Accepts_SameDayPriority", M::ShipmentDispatched, [](auto& s) { s.priority = Priority::SameDay; }, "ok"));
  c.push_back(FromSpec("Accepts_ZeroUnitPrice", M::OrderAccepted, [](auto& s) { s.lines[0].unit_price_minor = 0; }, "ok"));
  c.push_back(FromSpec("Accepts_PositiveDeltaQty", M::InventoryAdjusted, [](auto& s) { s.delta_qty = 5; }, "ok"));
  c.push_back(FromSpec("Accepts_TimestampOfOneNs", M::OrderAccepted, [](auto& s) { s.occurred_at_ns = 1; }, "ok"));
  c.push_back(FromSpec("Accepts_65UniqueLines", M::OrderAccepted, [](auto& s) { s.lines = NumberedLines(65); }, "ok"));
  c.push_back(FromSpec("Accepts_MaxLines", M::OrderAccepted, [](auto& s) { s.lines = NumberedLines(1000); }, "ok"));
  c.push_back(FromBytes("Accepts_FrameOfExactlyMaxMessageBytes", [] { return PaddedValidFrame(64 * 1024); }, "ok"));

  // oversized_message
  c.push_back(FromBytes("OversizedMessage_OneByteOverDefault", [] { return PaddedValidFrame(64 * 1024 + 1); }, "oversized_message"));
  c.push_back(FromBytes("OversizedMessage_GarbageIsNotParsed", [] { return std::string(70000, '\xff'); }, "oversized_message"));
  c.push_back(FromSpec("OversizedMessage_ConfiguredLimit", M::ShipmentDispatched, nullptr, "oversized_message", small_frames));

  // truncated_or_corrupt
  c.push_back(FromBytes("TruncatedOrCorrupt_Empty", [] { return std::string(); }, "truncated_or_corrupt"));
  c.push_back(FromBytes("TruncatedOrCorrupt_ShorterThanIdentifier", [] { return ValidFrame().substr(0, 7); }, "truncated_or_corrupt"));
  c.push_back(FromBytes("TruncatedOrCorrupt_RootAndIdentifierOnly", [] { return ValidFrame().substr(0, 8); }, "truncated_or_corrupt"));
  c.push_back(FromBytes("TruncatedOrCorrupt_HalfAFrame",
                        [] { std::string f = ValidFrame(); return f.substr(0, f.size() / 2); }, "truncated_or_corrupt"));
  c.push_back(FromBytes("TruncatedOrCorrupt_LastStringCut",
                        [] { std::string f = ValidFrame(); return f.substr(0, f.size() - 8); }, "truncated_or_corrupt"));
  c.push_back(FromBytes("TruncatedOrCorrupt_RootOffsetOutOfRange",
                        [] { std::string f = ValidFrame(); std::memset(f.data(), 0x7f, 4); return f; }, "truncated_or_corrupt"));

  // wrong_file_identifier
  c.push_back(FromBytes("WrongFileIdentifier_PatchedIdentifier",
                        [] { return WithIdentifier(ValidFrame(), "OSEX"); }, "wrong_file_identifier"));
  c.push_back(FromBytes("WrongFileIdentifier_ErpCommandFrame",
                        [] {
                          FlatBufferBuilder fbb;
                          FinishErpCommandBuffer(fbb, CreateErpCommandDirect(fbb, "cmd-1", "SO-1"));
                          return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
                        },
                        "wrong_file_identifier"));

  // unsupported_schema_version
  c.push_back(FromSpec("UnsupportedSchemaVersion_0", M::OrderAccepted, [](auto& s) { s.schema_version = 0; }, "unsupported_schema_version"));
  c.push_back(FromSpec("UnsupportedSchemaVersion_2", M::OrderAccepted, [](auto& s) { s.schema_version = 2; }, "unsupported_schema_version"));

  // missing_field:<name> (absent; present-but-empty is covered by the raw cases below)
  c.push_back(FromSpec("MissingField_event_id", M::OrderAccepted, [](auto& s) { s.event_id = ""; }, "missing_field:event_id"));
  c.push_back(FromSpec("MissingField_order_id", M::OrderAccepted, [](auto& s) { s.order_id = ""; }, "missing_field:order_id"));
  c.push_back(FromSpec("MissingField_source", M::OrderAccepted, [](auto& s) { s.source = ""; }, "missing_field:source"));
  c.push_back(FromSpec("MissingField_customer_id", M::OrderAccepted, [](auto& s) { s.customer_id = ""; }, "missing_field:customer_id"));
  c.push_back(FromSpec("MissingField_currency", M::OrderAccepted, [](auto& s) { s.currency = ""; }, "missing_field:currency"));
  c.push_back(FromSpec("MissingField_reservation_id", M::InventoryReserved, [](auto& s) { s.business_key = ""; }, "missing_field:reservation_id"));
  c.push_back(FromSpec("MissingField_warehouse_InventoryReserved", M::InventoryReserved, [](auto& s) { s.warehouse = ""; }, "missing_field:warehouse"));
  c.push_back(FromSpec("MissingField_pick_id", M::PickCompleted, [](auto& s) { s.business_key = ""; }, "missing_field:pick_id"));
  c.push_back(FromSpec("MissingField_warehouse_PickCompleted", M::PickCompleted, [](auto& s) { s.warehouse = ""; }, "missing_field:warehouse"));
  c.push_back(FromSpec("MissingField_shipment_id_ShipmentDispatched", M::ShipmentDispatched, [](auto& s) { s.business_key = ""; }, "missing_field:shipment_id"));
  c.push_back(FromSpec("MissingField_shipment_id_DeliveryConfirmed", M::DeliveryConfirmed, [](auto& s) { s.business_key = ""; }, "missing_field:shipment_id"));
  c.push_back(FromSpec("MissingField_return_id", M::ReturnReceived, [](auto& s) { s.business_key = ""; }, "missing_field:return_id"));
  c.push_back(FromSpec("MissingField_adjustment_id", M::InventoryAdjusted, [](auto& s) { s.business_key = ""; }, "missing_field:adjustment_id"));
  c.push_back(FromSpec("MissingField_warehouse_InventoryAdjusted", M::InventoryAdjusted, [](auto& s) { s.warehouse = ""; }, "missing_field:warehouse"));
  c.push_back(FromSpec("MissingField_sku", M::InventoryAdjusted, [](auto& s) { s.sku = ""; }, "missing_field:sku"));
  c.push_back(FromSpec("MissingField_lines_sku", M::ReturnReceived, [](auto& s) { s.lines[1].sku = ""; }, "missing_field:lines.sku"));
  c.push_back(FromBytes("MissingField_event_id_PresentButEmpty",
                        [] { return BuildRaw(static_cast<uint8_t>(M::OrderCancelled), CancelPayload, ""); }, "missing_field:event_id"));
  c.push_back(FromBytes("MissingField_lines_sku_PresentButEmpty",
                        [] {
                          return BuildRaw(static_cast<uint8_t>(M::ReturnReceived), [](FlatBufferBuilder& fbb) {
                            std::vector<Offset<Line>> lines{CreateLineDirect(fbb, 1, "", 1, "EA", 0)};
                            return CreateReturnReceivedDirect(fbb, "RET-1", &lines).Union();
                          });
                        },
                        "missing_field:lines.sku"));
  c.push_back(FromBytes("MissingField_payload_TypeWithoutValue",
                        [] { return BuildRaw(static_cast<uint8_t>(M::ShipmentDispatched), nullptr); }, "missing_field:payload"));

  // field_too_long:<name>
  c.push_back(FromSpec("FieldTooLong_event_id_129", M::OrderAccepted, [=](auto& s) { s.event_id = s129; }, "field_too_long:event_id"));
  c.push_back(FromSpec("FieldTooLong_order_id_65", M::OrderAccepted, [](auto& s) { s.order_id = std::string(65, 'o'); }, "field_too_long:order_id"));
  c.push_back(FromSpec("FieldTooLong_source", M::OrderAccepted, [=](auto& s) { s.source = s129; }, "field_too_long:source"));
  c.push_back(FromSpec("FieldTooLong_correlation_id", M::OrderAccepted, [=](auto& s) { s.correlation_id = s129; }, "field_too_long:correlation_id"));
  c.push_back(FromSpec("FieldTooLong_company_code", M::OrderAccepted, [=](auto& s) { s.company_code = s129; }, "field_too_long:company_code"));
  c.push_back(FromSpec("FieldTooLong_customer_id", M::OrderAccepted, [=](auto& s) { s.customer_id = s129; }, "field_too_long:customer_id"));
  c.push_back(FromSpec("FieldTooLong_currency", M::OrderAccepted, [=](auto& s) { s.currency = s129; }, "field_too_long:currency"));
  c.push_back(FromSpec("FieldTooLong_reservation_id", M::InventoryReserved, [=](auto& s) { s.business_key = s129; }, "field_too_long:reservation_id"));
  c.push_back(FromSpec("FieldTooLong_warehouse", M::PickCompleted, [=](auto& s) { s.warehouse = s129; }, "field_too_long:warehouse"));
  c.push_back(FromSpec("FieldTooLong_pick_id", M::PickCompleted, [=](auto& s) { s.business_key = s129; }, "field_too_long:pick_id"));
  c.push_back(FromSpec("FieldTooLong_shipment_id", M::ShipmentDispatched, [=](auto& s) { s.business_key = s129; }, "field_too_long:shipment_id"));
  c.push_back(FromSpec("FieldTooLong_carrier", M::ShipmentDispatched, [=](auto& s) { s.carrier = s129; }, "field_too_long:carrier"));
  c.push_back(FromSpec("FieldTooLong_tracking_no", M::ShipmentDispatched, [=](auto& s) { s.tracking_no = s129; }, "field_too_long:tracking_no"));
  c.push_back(FromSpec("FieldTooLong_signed_by", M::DeliveryConfirmed, [=](auto& s) { s.signed_by = s129; }, "field_too_long:signed_by"));
  c.push_back(FromSpec("FieldTooLong_return_id", M::ReturnReceived, [=](auto& s) { s.business_key = s129; }, "field_too_long:return_id"));
  c.push_back(FromSpec("FieldTooLong_adjustment_id", M::InventoryAdjusted, [=](auto& s) { s.business_key = s129; }, "field_too_long:adjustment_id"));
  c.push_back(FromSpec("FieldTooLong_sku", M::InventoryAdjusted, [=](auto& s) { s.sku = s129; }, "field_too_long:sku"));
  c.push_back(FromSpec("FieldTooLong_adjustment_reason", M::InventoryAdjusted, [](auto& s) { s.reason = std::string(1025, 'r'); }, "field_too_long:reason"));
  c.push_back(FromSpec("FieldTooLong_cancel_reason", M::OrderCancelled, [](auto& s) { s.reason = std::string(1025, 'r'); }, "field_too_long:reason"));
  c.push_back(FromSpec("FieldTooLong_lines_sku", M::OrderAccepted, [=](auto& s) { s.lines[0].sku = s129; }, "field_too_long:lines.sku"));
  c.push_back(FromSpec("FieldTooLong_lines_uom", M::OrderAccepted, [=](auto& s) { s.lines[1].uom = s129; }, "field_too_long:lines.uom"));

  // empty_lines: every payload kind with lines, absent; and a present but empty vector.
  for (M kind : {M::OrderAccepted, M::InventoryReserved, M::PickCompleted, M::ShipmentDispatched, M::ReturnReceived}) {
    c.push_back(FromSpec(std::string("EmptyLines_") + EnumNameMilestone(kind), kind, [](auto& s) { s.lines.clear(); }, "empty_lines"));
  }
  c.push_back(FromBytes("EmptyLines_PresentButEmptyVector",
                        [] {
                          return BuildRaw(static_cast<uint8_t>(M::OrderAccepted), [](FlatBufferBuilder& fbb) {
                            std::vector<Offset<Line>> none;
                            return CreateOrderAcceptedDirect(fbb, "C-1", "EUR", &none).Union();
                          });
                        },
                        "empty_lines"));

  // non_positive_qty
  c.push_back(FromSpec("NonPositiveQty_Zero", M::OrderAccepted, [](auto& s) { s.lines[1].qty = 0; }, "non_positive_qty"));
  c.push_back(FromSpec("NonPositiveQty_Negative", M::ShipmentDispatched, [](auto& s) { s.lines[0].qty = -1; }, "non_positive_qty"));
  c.push_back(FromSpec("NonPositiveQty_Int64Min", M::ReturnReceived, [](auto& s) { s.lines[0].qty = INT64_MIN; }, "non_positive_qty"));

  // unknown_payload
  c.push_back(FromSpec("UnknownPayload_None", M::NONE, nullptr, "unknown_payload"));
  c.push_back(FromBytes("UnknownPayload_TypeAfterLastKnown",
                        [] { return BuildRaw(static_cast<uint8_t>(M::MAX) + 1, CancelPayload); }, "unknown_payload"));
  c.push_back(FromBytes("UnknownPayload_Type255", [] { return BuildRaw(255, CancelPayload); }, "unknown_payload"));
  c.push_back(FromBytes("UnknownPayload_UnknownTypeWithoutValue",
                        [] { return BuildRaw(static_cast<uint8_t>(M::MAX) + 1, nullptr); }, "unknown_payload"));

  // negative_unit_price, invalid_line_no, duplicate_line_no, too_many_lines
  c.push_back(FromSpec("NegativeUnitPrice", M::OrderAccepted, [](auto& s) { s.lines[1].unit_price_minor = -1; }, "negative_unit_price"));
  c.push_back(FromSpec("InvalidLineNo_Zero", M::PickCompleted, [](auto& s) { s.lines[1].line_no = 0; }, "invalid_line_no"));
  c.push_back(FromSpec("DuplicateLineNo_TwoLines", M::OrderAccepted, [](auto& s) { s.lines[1].line_no = 1; }, "duplicate_line_no"));
  c.push_back(FromSpec("DuplicateLineNo_64Lines", M::OrderAccepted,
                       [](auto& s) { s.lines = NumberedLines(64); s.lines[63].line_no = 1; }, "duplicate_line_no"));
  c.push_back(FromSpec("DuplicateLineNo_65Lines", M::OrderAccepted,
                       [](auto& s) { s.lines = NumberedLines(65); s.lines[64].line_no = 1; }, "duplicate_line_no"));
  c.push_back(FromSpec("DuplicateLineNo_1000Lines", M::ShipmentDispatched,
                       [](auto& s) { s.lines = NumberedLines(1000); s.lines[10].line_no = 999; }, "duplicate_line_no"));
  c.push_back(FromSpec("TooManyLines_Default", M::OrderAccepted, [](auto& s) { s.lines = NumberedLines(1001); }, "too_many_lines"));
  c.push_back(FromSpec("TooManyLines_Configured", M::OrderAccepted, [](auto& s) { s.lines = NumberedLines(3); }, "too_many_lines", two_lines));

  // zero_delta_qty, invalid_timestamp, invalid_priority
  c.push_back(FromSpec("ZeroDeltaQty", M::InventoryAdjusted, [](auto& s) { s.delta_qty = 0; }, "zero_delta_qty"));
  c.push_back(FromSpec("InvalidTimestamp_Zero", M::OrderAccepted, [](auto& s) { s.occurred_at_ns = 0; }, "invalid_timestamp"));
  c.push_back(FromSpec("InvalidTimestamp_Negative", M::OrderAccepted, [](auto& s) { s.occurred_at_ns = -1; }, "invalid_timestamp"));
  c.push_back(FromSpec("InvalidPriority_2", M::OrderAccepted, [](auto& s) { s.priority = static_cast<Priority>(2); }, "invalid_priority"));
  c.push_back(FromSpec("InvalidPriority_Negative", M::OrderAccepted, [](auto& s) { s.priority = static_cast<Priority>(-1); }, "invalid_priority"));
  return c;
}

class EnvelopeValidatorTest : public ::testing::TestWithParam<Case> {};

TEST_P(EnvelopeValidatorTest, Verdict) {
  const Case& c = GetParam();
  const std::string frame = c.make();
  const Envelope* envelope = nullptr;
  Rejection r = ValidateEnvelope(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), c.options, &envelope);
  EXPECT_EQ(r.ToString(), c.want) << r.Describe();
  if (c.want == "ok") {
    ASSERT_TRUE(r.ok());
    ASSERT_NE(envelope, nullptr);
    // The root points into the caller's buffer: no copy.
    const auto* root = reinterpret_cast<const char*>(envelope);
    EXPECT_TRUE(root > frame.data() && root < frame.data() + frame.size());
  } else {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(envelope, nullptr) << "*envelope must be untouched on failure";
  }
}

INSTANTIATE_TEST_SUITE_P(Table, EnvelopeValidatorTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// The tests below loop over many inputs, where one table row per input would drown the
// table.

TEST(EnvelopeValidatorTest, AcceptedEnvelopeExposesTheEncodedFields) {
  EnvelopeSpec s = ValidSpec(Milestone::ShipmentDispatched);
  s.event_id = std::string(128, 'e');
  s.order_id = std::string(64, 'o');
  const std::string frame = MilestoneBuilder::BuildToString(s);
  const Envelope* e = nullptr;
  ASSERT_TRUE(ValidateEnvelope(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), {}, &e).ok());
  EXPECT_EQ(e->event_id()->str(), s.event_id);
  EXPECT_EQ(e->order_id()->str(), s.order_id);
  EXPECT_EQ(e->source()->str(), "WMS-EAST");
  EXPECT_EQ(e->schema_version(), kCurrentSchemaVersion);
  ASSERT_EQ(e->payload_type(), Milestone::ShipmentDispatched);
  EXPECT_EQ(e->payload_as_ShipmentDispatched()->shipment_id()->str(), "BK-1");
  EXPECT_EQ(e->payload_as_ShipmentDispatched()->lines()->size(), 2u);
}

TEST(EnvelopeValidatorTest, RejectionToStringJoinsCodeAndField) {
  EXPECT_EQ((Rejection{}).ToString(), "ok");
  EXPECT_EQ((Rejection{RejectCode::kEmptyLines, {}}).ToString(), "empty_lines");
  EXPECT_EQ((Rejection{RejectCode::kMissingField, "event_id"}).ToString(), "missing_field:event_id");
  EXPECT_EQ((Rejection{RejectCode::kFieldTooLong, "lines.sku"}).ToString(), "field_too_long:lines.sku");
}

TEST(EnvelopeValidatorTest, EveryCodeHasAStableDistinctNameAndADescription) {
  // The wire names are part of the contract (docs/contract.md); this list pins them.
  const std::vector<std::pair<RejectCode, std::string>> names = {
      {RejectCode::kNone, "ok"},
      {RejectCode::kOversizedMessage, "oversized_message"},
      {RejectCode::kTruncatedOrCorrupt, "truncated_or_corrupt"},
      {RejectCode::kWrongFileIdentifier, "wrong_file_identifier"},
      {RejectCode::kUnsupportedSchemaVersion, "unsupported_schema_version"},
      {RejectCode::kMissingField, "missing_field"},
      {RejectCode::kFieldTooLong, "field_too_long"},
      {RejectCode::kEmptyLines, "empty_lines"},
      {RejectCode::kNonPositiveQty, "non_positive_qty"},
      {RejectCode::kUnknownPayload, "unknown_payload"},
      {RejectCode::kNegativeUnitPrice, "negative_unit_price"},
      {RejectCode::kInvalidLineNo, "invalid_line_no"},
      {RejectCode::kDuplicateLineNo, "duplicate_line_no"},
      {RejectCode::kTooManyLines, "too_many_lines"},
      {RejectCode::kZeroDeltaQty, "zero_delta_qty"},
      {RejectCode::kInvalidTimestamp, "invalid_timestamp"},
      {RejectCode::kInvalidPriority, "invalid_priority"},
  };
  std::set<std::string> seen;
  std::set<std::string> descriptions;
  for (const auto& [code, name] : names) {
    EXPECT_EQ(RejectCodeName(code), name);
    EXPECT_TRUE(seen.insert(name).second) << name;
    Rejection r{code, "f"};
    EXPECT_TRUE(descriptions.insert(r.Describe()).second) << name << ": " << r.Describe();
  }
  EXPECT_EQ(RejectCodeName(static_cast<RejectCode>(200)), "unknown");
  EXPECT_NE((Rejection{RejectCode::kMissingField, "order_id"}).Describe().find("order_id"), std::string::npos);
}

TEST(EnvelopeValidatorTest, TypeWithoutValueIsMissingPayloadForEveryKind) {
  for (Milestone kind : kAllKinds) {
    SCOPED_TRACE(EnumNameMilestone(kind));
    EXPECT_EQ(Validate(BuildRaw(static_cast<uint8_t>(kind), nullptr)).ToString(), "missing_field:payload");
  }
}

// A producer built from a newer schema (append-only evolution, docs/schema-evolution.md)
// adds fields after the last known one; this build must ignore them.
TEST(EnvelopeValidatorTest, FieldsFromANewerSchemaAreIgnored) {
  FlatBufferBuilder fbb;
  auto future_note = fbb.CreateString("a field this build does not know");
  auto reason = fbb.CreateString("customer request");
  auto cancel_start = fbb.StartTable();
  fbb.AddOffset(OrderCancelled::VT_REASON, reason);
  fbb.AddOffset(OrderCancelled::VT_REASON + 2, future_note);  // OrderCancelled field id 1
  Offset<void> payload(fbb.EndTable(cancel_start));
  auto eid = fbb.CreateString("evt-future");
  auto oid = fbb.CreateString("SO-1");
  auto src = fbb.CreateString("WMS-EAST");
  EnvelopeBuilder b(fbb);
  b.add_event_id(eid);
  b.add_order_id(oid);
  b.add_source(src);
  b.add_occurred_at_ns(1);
  b.add_payload_type(Milestone::OrderCancelled);
  b.add_payload(payload);
  fbb.AddElement<int64_t>(Envelope::VT_PAYLOAD + 2, 42, 0);  // Envelope field id 11
  FinishEnvelopeBuffer(fbb, b.Finish());
  const std::string frame(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  const Envelope* e = nullptr;
  ASSERT_EQ(ValidateEnvelope(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), {}, &e).ToString(), "ok");
  EXPECT_EQ(e->payload_as_OrderCancelled()->reason()->str(), "customer request");
}

// Cutting a valid frame anywhere yields truncated_or_corrupt. Only the last few bytes
// may be alignment padding after the first-written string, whose loss is harmless.
TEST(EnvelopeValidatorTest, EveryTruncationOfEveryKindIsTruncatedOrCorrupt) {
  for (Milestone kind : kAllKinds) {
    const std::string frame = ValidFrame(kind);
    for (size_t len = 0; len < frame.size(); ++len) {
      const std::string prefix = frame.substr(0, len);
      Rejection r = Validate(prefix);
      if (len + flatbuffers::kFileIdentifierLength <= frame.size()) {
        EXPECT_EQ(r.ToString(), "truncated_or_corrupt") << EnumNameMilestone(kind) << " cut at " << len << "/" << frame.size();
      } else {
        EXPECT_TRUE(r.ok() || r.code == RejectCode::kTruncatedOrCorrupt) << r.ToString();
      }
    }
  }
}

TEST(EnvelopeValidatorTest, RandomGarbageIsRejectedAsCorruptOrForeign) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < 3000; ++i) {
    std::string junk(rng() % 512, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    Rejection r = Validate(junk);
    EXPECT_TRUE(r.code == RejectCode::kTruncatedOrCorrupt || r.code == RejectCode::kWrongFileIdentifier)
        << "size " << junk.size() << ": " << r.ToString();
    if (junk.size() >= 8) {
      EXPECT_EQ(Validate(WithIdentifier(junk, "OSEV")).ToString(), "truncated_or_corrupt") << "size " << junk.size();
    }
  }
}

// Byte flips in valid frames may produce any verdict, but never a crash or an ASan/UBSan
// report, and an accepted frame is still readable.
TEST(EnvelopeValidatorTest, ByteFlipsInValidFramesAreSafe) {
  std::mt19937 rng(7);
  int accepted = 0;
  for (Milestone kind : kAllKinds) {
    const std::string frame = ValidFrame(kind);
    for (int i = 0; i < 2000; ++i) {
      std::string f = frame;
      for (int flips = 1 + rng() % 3; flips > 0; --flips) f[rng() % f.size()] ^= static_cast<char>(1 + rng() % 255);
      const Envelope* e = nullptr;
      Rejection r = ValidateEnvelope(reinterpret_cast<const uint8_t*>(f.data()), f.size(), {}, &e);
      if (r.ok()) {
        ++accepted;
        ASSERT_NE(e, nullptr);
        EXPECT_GT(e->event_id()->size(), 0u);
        EXPECT_LE(e->order_id()->size(), ValidatorOptions::kMaxOrderIdBytes);
      }
    }
  }
  EXPECT_GT(accepted, 0);  // some flips land in payload bytes that stay valid
}

}  // namespace
}  // namespace ordersync
