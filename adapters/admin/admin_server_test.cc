// The admin endpoint over a real socket: registry, errors, token rules.
#include "adapters/admin/admin_server.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/admin/admin_client.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;
constexpr std::chrono::milliseconds kTimeout{5000};

AdminOptions Loopback() {
  AdminOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  return o;
}

AdminCommand Echo(bool mutating) {
  return {"echo", mutating, [](const nlohmann::json& args) -> Result<nlohmann::json> { return args; }};
}

TEST(AdminServerTest, ServesRegisteredCommandsAndBuiltins) {
  auto server = AdminServer::Create(Loopback());
  ASSERT_TRUE(server.ok());
  (*server)->Register("echo", Echo(false));
  (*server)->Register("fail", {"fails", false, [](const nlohmann::json&) -> Result<nlohmann::json> {
                                 return Status::NotFound("nothing here");
                               }});
  ASSERT_TRUE((*server)->Start().ok());
  const std::string ep = (*server)->endpoint();
  auto pong = AdminCall(ep, "ping", {}, "", kTimeout);
  ASSERT_TRUE(pong.ok()) << pong.status().ToString();
  EXPECT_TRUE((*pong)["pong"].get<bool>());
  auto echo = AdminCall(ep, "echo", {{"x", 1}}, "", kTimeout);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ((*echo)["x"], 1);
  auto help = AdminCall(ep, "help", {}, "", kTimeout);
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->contains("echo"));
  auto unknown = AdminCall(ep, "nope", {}, "", kTimeout);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown command 'nope'"));
  auto failed = AdminCall(ep, "fail", {}, "", kTimeout);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("nothing here"));
}

TEST(AdminServerTest, NobodyListeningIsUnavailable) {
  auto r = AdminCall("tcp://127.0.0.1:1", "ping", {}, "", std::chrono::milliseconds(200));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kUnavailable);
}

TEST(AdminServerTest, MutatingCommandsNeedTheTokenWhenOneIsConfigured) {
  const std::string path = "/tmp/ordersync-admin-token-" + std::to_string(getpid());
  std::ofstream(path) << "  s3cret\n";
  AdminOptions o = Loopback();
  o.token_file = path;
  auto server = AdminServer::Create(o);
  ASSERT_TRUE(server.ok());
  (*server)->Register("mutate", Echo(true));
  (*server)->Register("read", Echo(false));
  ASSERT_TRUE((*server)->Start().ok());
  const std::string ep = (*server)->endpoint();
  EXPECT_TRUE(AdminCall(ep, "read", {}, "", kTimeout).ok());
  auto refused = AdminCall(ep, "mutate", {}, "", kTimeout);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("needs the admin token"));
  EXPECT_FALSE(AdminCall(ep, "mutate", {}, "wrong", kTimeout).ok());
  EXPECT_TRUE(AdminCall(ep, "mutate", {}, "s3cret", kTimeout).ok());
  std::remove(path.c_str());
}

TEST(AdminServerTest, NonLoopbackEndpointRequiresATokenFile) {
  AdminOptions o;
  o.endpoint = "tcp://0.0.0.0:7199";
  auto server = AdminServer::Create(o);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("admin.token_file"));
  EXPECT_TRUE(IsLoopbackEndpoint("tcp://127.0.0.1:7199"));
  EXPECT_TRUE(IsLoopbackEndpoint("tcp://localhost:7199"));
  EXPECT_TRUE(IsLoopbackEndpoint("ipc:///tmp/x.sock"));
  EXPECT_FALSE(IsLoopbackEndpoint("tcp://10.0.0.1:7199"));
  EXPECT_FALSE(IsLoopbackEndpoint("tcp://*:7199"));
}

TEST(AdminServerTest, MalformedRequestsGetAnError) {
  auto server = AdminServer::Create(Loopback());
  ASSERT_TRUE(server.ok());
  nlohmann::json reply = (*server)->Handle(nlohmann::json::array());
  EXPECT_FALSE(reply["ok"].get<bool>());
  reply = (*server)->Handle({{"command", 5}});
  EXPECT_FALSE(reply["ok"].get<bool>());
}

}  // namespace
}  // namespace ordersync
