// NatsConnection's errors, without a server: what a caller sees when nothing listens.
#include "adapters/cluster/nats_connection.h"

#include <gtest/gtest.h>

namespace ordersync {
namespace {

TEST(NatsConnectionTest, NoServerUrlIsInvalidArgument) {
  auto conn = NatsConnection::Connect(NatsOptions{});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Status::Code::kInvalidArgument);
}

TEST(NatsConnectionTest, NoServerListeningIsUnavailableWithNatsText) {
  NatsOptions o;
  o.urls = {"nats://127.0.0.1:1", "nats://127.0.0.1:2"};  // privileged ports nothing listens on
  o.connect_timeout_ms = 500;
  auto conn = NatsConnection::Connect(o);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Status::Code::kUnavailable) << conn.status().ToString();
  EXPECT_NE(conn.status().message().find("nats connect to nats://127.0.0.1:1"), std::string::npos);
  EXPECT_NE(conn.status().message().find(natsStatus_GetText(NATS_NO_SERVER)), std::string::npos)
      << conn.status().ToString();
}

TEST(NatsConnectionTest, FencedRefusalsAreRecognisedAndOtherErrorsAreNot) {
  EXPECT_TRUE(IsFenced(Fenced("op refused")));
  EXPECT_EQ(Fenced("op refused").code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(IsFenced(Status::InvalidArgument("op refused")));
  EXPECT_FALSE(IsFenced(Status::OK()));
  EXPECT_EQ(NatsError("publish x", NATS_TIMEOUT).code(), Status::Code::kUnavailable);
  EXPECT_NE(NatsError("publish x", NATS_TIMEOUT, JSStreamNotFoundErr).message().find("JetStream error 10059"),
            std::string::npos);
}

}  // namespace
}  // namespace ordersync
