// The JSON form of the contract: FlatBuffers' own JSON parser on the compiled-in schema,
// then the same validator as ZeroMQ frames.
#include "adapters/http/envelope_json.h"

#include <vector>

#include <gtest/gtest.h>

#include "adapters/http/http_ingress.h"
#include "engine/envelope_validator.h"
#include "engine/inbound_event.h"

namespace ordersync {
namespace {

constexpr const char* kOrder = R"({"event_id":"e-1","order_id":"SO-1","source":"SHOP","occurred_at_ns":1750000000000000000,
  "priority":"SameDay","payload_type":"OrderAccepted",
  "payload":{"customer_id":"C-1","currency":"EUR","lines":[{"line_no":1,"sku":"SKU-1","qty":2,"uom":"EA"}]}})";

TEST(EnvelopeJsonTest, SplitsTopLevelArray) {
  std::vector<std::string_view> el;
  std::string err;
  ASSERT_TRUE(SplitJsonArray(R"( [ {"a":"x,]"} , {"b":[1,2,{"c":"}"}]} ] )", &el, &err)) << err;
  ASSERT_EQ(el.size(), 2u);
  EXPECT_EQ(el[0], R"({"a":"x,]"})");
  ASSERT_TRUE(SplitJsonArray("[]", &el, &err));
  EXPECT_TRUE(el.empty());
  for (const char* bad : {"", "{}", "[", "[{]", "[{},]", "[{} {}]", "[{}] x", "[\"abc]", "[{\"a\":1}}]"}) {
    EXPECT_FALSE(SplitJsonArray(bad, &el, &err)) << bad;
    EXPECT_FALSE(err.empty());
  }
}

TEST(EnvelopeJsonTest, ParsesCanonicalJsonIntoAValidEnvelope) {
  std::string bytes, reason, description;
  ASSERT_TRUE(ThreadLocalEnvelopeParser().Parse(kOrder, &bytes, &reason, &description)) << description;
  EventBuffer copy = EventBuffer::Copy(bytes);
  const Envelope* env = nullptr;
  const Rejection r = ValidateEnvelope(copy.data(), copy.size(), ValidatorOptions{}, &env);
  ASSERT_TRUE(r.ok()) << r.ToString();
  EXPECT_EQ(env->event_id()->str(), "e-1");
  EXPECT_EQ(env->priority(), Priority::SameDay);
  EXPECT_EQ(env->schema_version(), 1);
  ASSERT_EQ(env->payload_type(), Milestone::OrderAccepted);
  EXPECT_EQ(env->payload_as_OrderAccepted()->lines()->Get(0)->qty(), 2);
}

TEST(EnvelopeJsonTest, UnknownFieldsAndWrongTypesAreNamed) {
  std::string bytes, reason, description;
  EnvelopeJsonParser& p = ThreadLocalEnvelopeParser();
  EXPECT_FALSE(p.Parse(R"({"event_id":"e","colour":"red"})", &bytes, &reason, &description));
  EXPECT_EQ(reason, "json_unknown_field");
  EXPECT_NE(description.find("colour"), std::string::npos) << description;
  EXPECT_FALSE(p.Parse(R"({"event_id":"e","occurred_at_ns":"yesterday"})", &bytes, &reason, &description));
  EXPECT_EQ(reason, "json_wrong_type") << description;
  EXPECT_FALSE(p.Parse(R"({"event_id":"e","priority":"Urgent"})", &bytes, &reason, &description));
  EXPECT_EQ(reason, "json_wrong_type") << description;
  // The parser is still usable after failures.
  EXPECT_TRUE(p.Parse(kOrder, &bytes, &reason, &description)) << description;
}

TEST(EnvelopeJsonTest, ContractRulesStillApply) {
  std::string bytes, reason, description;
  ASSERT_TRUE(ThreadLocalEnvelopeParser().Parse(R"({"event_id":"e","source":"S","occurred_at_ns":5,
      "payload_type":"OrderCancelled","payload":{}})", &bytes, &reason, &description)) << description;
  EventBuffer copy = EventBuffer::Copy(bytes);
  const Envelope* env = nullptr;
  EXPECT_EQ(ValidateEnvelope(copy.data(), copy.size(), ValidatorOptions{}, &env).ToString(), "missing_field:order_id");
}

TEST(EnvelopeJsonTest, TokenComparison) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
}

}  // namespace
}  // namespace ordersync

namespace ordersync {
namespace {

TEST(HttpIngressStartTest, RefusesNonLoopbackWithoutTokenAndUnreadableTokenFile) {
  HttpIngressOptions o;
  o.listen = "0.0.0.0:0";
  auto r = HttpIngress::Start(o, IngressOptions{}, ValidatorOptions{}, nullptr, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("token_file"), std::string::npos) << r.status().ToString();
  o.token_file = "/nonexistent/ordersync/http.token";
  r = HttpIngress::Start(o, IngressOptions{}, ValidatorOptions{}, nullptr, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot read"), std::string::npos) << r.status().ToString();
  o.listen = "not-a-listen-address";
  EXPECT_FALSE(HttpIngress::Start(o, IngressOptions{}, ValidatorOptions{}, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace ordersync
