// The console over real HTTP (cpp-httplib client) on an AdminServer with registered
// commands: pages and security headers, the API running admin commands, and every rule
// for mutating actions (token, same origin, JSON, loopback Host, off-loopback bind).
#include "adapters/console/console_server.h"

#include <unistd.h>

#include <atomic>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "adapters/console/console_assets.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

class ConsoleServerTest : public ::testing::Test {
 protected:
  // Starts an admin server (token file when `token` is not empty) with a read-only
  // "dlq.list" and a mutating "dlq.replay" that counts its calls, then the console.
  void StartConsole(const std::string& token, const std::string& listen = "127.0.0.1:0") {
    AdminOptions admin_options;
    admin_options.endpoint = "tcp://127.0.0.1:*";
    if (!token.empty()) {
      token_file_ = ::testing::TempDir() + "console_token_" + std::to_string(getpid());
      std::ofstream(token_file_) << token << "\n";
      admin_options.token_file = token_file_;
    }
    auto admin = AdminServer::Create(admin_options);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(admin).value();
    admin_->Register("dlq.list", {"list", false, [](const nlohmann::json& args) -> Result<nlohmann::json> {
                                    return nlohmann::json{{"dead_letters", nlohmann::json::array()}, {"args", args}};
                                  }});
    admin_->Register("dlq.replay", {"replay", true, [this](const nlohmann::json& args) -> Result<nlohmann::json> {
                                      ++replays_;
                                      return nlohmann::json{{"replayed", args}};
                                    }});
    admin_->Register("status", {"metrics", false, [](const nlohmann::json&) -> Result<nlohmann::json> {
                                  return nlohmann::json{{"metrics", "ordersync_queued_events 3\n"}};
                                }});
    ASSERT_TRUE(admin_->Start().ok());
    ConsoleOptions options;
    options.listen = listen;
    ConsoleContext context;
    context.admin = admin_.get();
    context.figures = [](const PromSamples& now, const PromSamples*, double) {
      return nlohmann::json{{"queued", now.Sum("ordersync_queued_events")}};
    };
    auto console = ConsoleServer::Start(options, context);
    ASSERT_TRUE(console.ok()) << console.status().ToString();
    console_ = std::move(console).value();
    std::string host;
    SplitHostPort(console_->url().substr(7, console_->url().size() - 8), &host, &port_);
  }

  void TearDown() override {
    if (console_) console_->Stop();
    if (admin_) admin_->Stop();
    if (!token_file_.empty()) std::remove(token_file_.c_str());
  }

  httplib::Result Post(const httplib::Headers& headers, const std::string& body = R"({"order":"SO-1"})",
                       const std::string& type = "application/json") {
    httplib::Client client("127.0.0.1", port_);
    return client.Post("/api/dlq/replay", headers, body, type.c_str());
  }

  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<ConsoleServer> console_;
  std::string token_file_;
  int port_ = 0;
  std::atomic<int> replays_{0};
};

TEST_F(ConsoleServerTest, ServesThePageWithAStrictContentSecurityPolicy) {
  StartConsole("");
  httplib::Client client("127.0.0.1", port_);
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  const std::string csp = page->get_header_value("Content-Security-Policy");
  EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
  EXPECT_THAT(csp, HasSubstr("script-src 'self'"));
  EXPECT_THAT(csp, ::testing::Not(HasSubstr("unsafe-inline")));
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  // Every script is a file of ours: no inline script for the policy to allow.
  EXPECT_THAT(page->body, ::testing::Not(::testing::ContainsRegex("<script>|<script [^>]*>[^<]")));
  for (size_t i = 0; i < kConsoleAssetCount; ++i) {
    auto asset = client.Get(std::string(kConsoleAssets[i].path));
    ASSERT_TRUE(asset);
    EXPECT_EQ(asset->status, 200) << kConsoleAssets[i].path;
    EXPECT_EQ(asset->body.size(), kConsoleAssets[i].body.size());
  }
  auto missing = client.Get("/nosuch.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ConsoleServerTest, ApiRunsTheAdminCommandsWithQueryArguments) {
  StartConsole("");
  httplib::Client client("127.0.0.1", port_);
  auto list = client.Get("/api/dlq?order=SO-7&older_than_s=60");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  const auto j = nlohmann::json::parse(list->body);
  EXPECT_EQ(j["args"]["order"], "SO-7");
  EXPECT_EQ(j["args"]["older_than_s"], 60);
  auto bad = client.Get("/api/dlq?limit=many");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("limit"));
  auto unknown = client.Get("/api/exceptions");  // not registered on this admin server
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 501);
  auto session = client.Get("/api/session");
  ASSERT_TRUE(session);
  EXPECT_EQ(nlohmann::json::parse(session->body)["actions_enabled"], false);
}

TEST_F(ConsoleServerTest, OverviewCarriesTheSampledFigures) {
  StartConsole("");
  httplib::Client client("127.0.0.1", port_);
  nlohmann::json j;
  for (int i = 0; i < 200; ++i) {  // the sampler takes its first sample at start
    auto r = client.Get("/api/overview");
    ASSERT_TRUE(r);
    j = nlohmann::json::parse(r->body);
    if (!j["latest"].is_null()) break;
    usleep(20 * 1000);
  }
  EXPECT_EQ(j["latest"]["queued"], 3);
  EXPECT_GE(j["history"].size(), 1u);
}

TEST_F(ConsoleServerTest, ActionsAreRefusedWhenNoTokenIsConfigured) {
  StartConsole("");
  auto r = Post({{"X-Ordersync-Token", "anything"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_THAT(r->body, HasSubstr("read-only"));
  EXPECT_EQ(replays_, 0);
}

TEST_F(ConsoleServerTest, ActionsNeedTheRightTokenInTheHeader) {
  StartConsole("s3cret-token");
  auto none = Post({});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto wrong = Post({{"X-Ordersync-Token", "s3cret-tokeN"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  EXPECT_EQ(replays_, 0);
  auto right = Post({{"X-Ordersync-Token", "s3cret-token"}, {"X-Ordersync-Operator", "alice"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200) << right->body;
  EXPECT_EQ(nlohmann::json::parse(right->body)["replayed"]["order"], "SO-1");
  EXPECT_EQ(replays_, 1);
}

TEST_F(ConsoleServerTest, CrossOriginFormsAndForeignHostsAreRefused) {
  StartConsole("s3cret-token");
  const httplib::Headers token = {{"X-Ordersync-Token", "s3cret-token"}};
  auto other_origin = Post({{"X-Ordersync-Token", "s3cret-token"}, {"Origin", "http://evil.example"}});
  ASSERT_TRUE(other_origin);
  EXPECT_EQ(other_origin->status, 403);
  auto cross_site = Post({{"X-Ordersync-Token", "s3cret-token"}, {"Sec-Fetch-Site", "cross-site"}});
  ASSERT_TRUE(cross_site);
  EXPECT_EQ(cross_site->status, 403);
  auto form = Post(token, "order=SO-1", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 403);
  auto not_json = Post(token, "[1,2]");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_EQ(replays_, 0);
  // DNS rebinding: a page whose own name resolves to 127.0.0.1 sends its name as Host.
  httplib::Client client("127.0.0.1", port_);
  auto rebound = client.Get("/api/dlq", {{"Host", "evil.example:" + std::to_string(port_)}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
  auto same_origin = Post({{"X-Ordersync-Token", "s3cret-token"},
                           {"Origin", "http://127.0.0.1:" + std::to_string(port_)},
                           {"Sec-Fetch-Site", "same-origin"}});
  ASSERT_TRUE(same_origin);
  EXPECT_EQ(same_origin->status, 200) << same_origin->body;
}

TEST(ConsoleServerStartTest, RefusesToListenOffLoopbackWithoutAToken) {
  AdminOptions admin_options;
  admin_options.endpoint = "tcp://127.0.0.1:*";
  auto admin = AdminServer::Create(admin_options);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->Start().ok());
  ConsoleOptions options;
  options.listen = "0.0.0.0:0";
  ConsoleContext context;
  context.admin = admin->get();
  auto console = ConsoleServer::Start(options, context);
  ASSERT_FALSE(console.ok());
  EXPECT_THAT(console.status().message(), HasSubstr("token_file"));
  options.listen = "no-port";
  EXPECT_FALSE(ConsoleServer::Start(options, context).ok());
  (*admin)->Stop();
}

TEST(ConsoleGuardTest, SplitsAndClassifiesListenAddresses) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:7180", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 7180);
  ASSERT_TRUE(SplitHostPort("[::1]:0", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(SplitHostPort("::1:80", &host, &port));
  EXPECT_FALSE(SplitHostPort("host:99999", &host, &port));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.5"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.5"));
  EXPECT_EQ(ConsoleGuard::OperatorName(""), "anonymous");
  EXPECT_EQ(ConsoleGuard::OperatorName("bob\nINFO fake"), "bob?INFO fake");
}

}  // namespace
}  // namespace ordersync
