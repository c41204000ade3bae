// Pure parts of the connectors: $batch codecs, JWT signing/verification, secret files,
// each dialect's mapping table against ErpKindSupports, references, Post's refusals.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "adapters/erp/connectors/connector_test_util.h"
#include "adapters/erp/connectors/erp_dialect.h"
#include "adapters/erp/connectors/jwt.h"
#include "adapters/erp/connectors/odata_batch.h"
#include "adapters/erp/connectors/secret_file.h"

namespace ordersync {
namespace {

TEST(ODataBatchTest, MultipartRequestAndAnswerRoundTrip) {
  std::vector<BatchRequestPart> parts = {{"POST", "A_SalesOrder", {{"Content-Type", "application/json"}}, "{\"a\":1}"},
                                         {"POST", "A_SalesOrder", {{"X-Ordersync-Command-Id", "o/SO/o"}}, "{\"b\":2}"}};
  std::string ct;
  const std::string body = EncodeMultipartBatchRequest(parts, "batch_x1", &ct);
  auto decoded = DecodeMultipartBatchRequest(body, ct);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[1].url, "A_SalesOrder");
  EXPECT_EQ((*decoded)[1].body, "{\"b\":2}");
  EXPECT_EQ((*decoded)[1].headers[0].first, "x-ordersync-command-id");

  std::vector<BatchResponsePart> answers = {{201, {{"Location", "x"}}, "{\"d\":{}}"},
                                            {400, {}, "{\"error\":{\"message\":{\"value\":\"no\"}}}"}};
  const std::string reply = EncodeMultipartBatchResponse(answers, "resp_1", &ct);
  auto back = DecodeMultipartBatchResponse(reply, ct);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].status, 201);
  EXPECT_EQ((*back)[1].status, 400);  // a failed changeset is a bare application/http part
  EXPECT_EQ(ODataErrorMessage((*back)[1].body), "no");
}

TEST(ODataBatchTest, MalformedAnswersAreErrorsNotCrashes) {
  EXPECT_FALSE(DecodeMultipartBatchResponse("garbage", "multipart/mixed; boundary=b").ok());
  EXPECT_FALSE(DecodeMultipartBatchResponse("--b\r\nno headers", "multipart/mixed; boundary=b").ok());
  EXPECT_FALSE(DecodeJsonBatchResponse("{\"responses\":[{\"id\":\"7\"}]}", 1).ok());
  EXPECT_FALSE(DecodeJsonBatchResponse("[]", 1).ok());
  auto ok = DecodeJsonBatchResponse(R"j({"responses":[{"id":"2","status":201,"body":{"number":"S-1"}},{"id":"1","status":400}]})j", 2);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].status, 400);
  EXPECT_EQ((*ok)[1].body, "{\"number\":\"S-1\"}");
}

TEST(JwtTest, SignsAndVerifiesRs256AndPs256) {
  TestPki pki = TestPki::Make();
  ASSERT_TRUE(pki.ok);
  auto key = LoadPrivateKeyPem(ReadFileText(pki.jwt_key));
  auto pub = LoadPublicKeyPem(ReadFileText(pki.jwt_pub));
  ASSERT_TRUE(key.ok() && pub.ok());
  for (const char* alg : {"RS256", "PS256"}) {
    auto jwt = SignJwt({{"typ", "JWT"}}, {{"iss", "me"}}, key->get(), alg);
    ASSERT_TRUE(jwt.ok());
    auto claims = VerifyJwt(*jwt, pub->get());
    ASSERT_TRUE(claims.ok()) << claims.status().ToString();
    EXPECT_EQ((*claims)["iss"], "me");
    std::string tampered = *jwt;
    tampered[tampered.size() / 2] ^= 1;
    EXPECT_FALSE(VerifyJwt(tampered, pub->get()).ok());
  }
  pki.Remove();
}

TEST(SecretFileTest, RefusesGroupOrWorldReadableAndTrims) {
  char tmpl[] = "/tmp/ordersync-secret-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  WriteSecret(dir + "/ok", "  pw\n", 0600);
  auto ok = ReadSecretFile(dir + "/ok", "x.password_file");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "pw");
  WriteSecret(dir + "/open", "pw", 0644);
  auto open = ReadSecretFile(dir + "/open", "x.password_file");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("mode 0644"), std::string::npos);
  EXPECT_EQ(open.status().message().find("pw\n"), std::string::npos);
  EXPECT_FALSE(ReadSecretFile(dir + "/missing", "x").ok());
  std::filesystem::remove_all(dir);
}

TEST(ErpDialectTest, EachMappingTableAgreesWithErpKindSupports) {
  HttpTargetOptions o;
  o.document.company_id = "c";
  for (ErpKind k : {ErpKind::kNetSuite, ErpKind::kSapS4, ErpKind::kD365Bc, ErpKind::kOracleFusion,
                    ErpKind::kWebhook}) {
    auto d = CreateErpDialect(k, o);
    ASSERT_TRUE(d.ok());
    for (CommandKind c : EnumValuesCommandKind()) {
      EXPECT_EQ((*d)->Supports(c), ErpKindSupports(k, c)) << ErpKindName(k) << " " << EnumNameCommandKind(c);
      if (!ErpKindSupports(k, c)) continue;
      const TestCommand cmd = MakeTestCommand("SO-1", c, "84000001", 1);
      const HttpCall call = (*d)->BuildPost(*CommandView::From(cmd.buffer), "123");
      EXPECT_FALSE(call.method.empty());
      if (!(*d)->PostIsIdempotent(c)) {
        EXPECT_TRUE((*d)->BuildLookup(*CommandView::From(cmd.buffer)).has_value())
            << ErpKindName(k) << " " << EnumNameCommandKind(c) << " has no idempotent post and no look-up";
      }
    }
  }
}

TEST(ErpDialectTest, LongCommandIdsGetAStableShortReference) {
  EXPECT_EQ(ReferenceFor("SO-1/SO/SO-1", 35), "SO-1/SO/SO-1");
  const std::string long_id(60, 'x');
  EXPECT_EQ(ReferenceFor(long_id, 20).size(), 20u);
  EXPECT_EQ(ReferenceFor(long_id, 20), ReferenceFor(long_id, 20));
  EXPECT_NE(ReferenceFor(long_id, 20), ReferenceFor(long_id + "y", 20));
}

TEST(ErpConnectorTest, PostRefusesGarbageAndKindsTheErpCannotTake) {
  ErpTargetOptions t;
  t.kind = "sap_s4";
  t.http.transport.base_url = "https://127.0.0.1:1";
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE((*c)->Post("not a flatbuffer", 1, false).ok());
  const TestCommand al = MakeTestCommand("SO-1", CommandKind::ConfirmAllocation, "R-1", 2);
  const Status s = (*c)->Post(al.buffer, 1, false);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ConfirmAllocation"), std::string::npos);
  (*c)->Stop();
}

TEST(ErpConnectorTest, WorldReadableSecretFailsAtCreate) {
  char tmpl[] = "/tmp/ordersync-secret-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  WriteSecret(dir + "/pw", "pw", 0640);
  ErpTargetOptions t;
  t.name = "sap";
  t.kind = "sap_s4";
  t.http.transport.base_url = "https://127.0.0.1:1";
  t.http.auth.method = "basic";
  t.http.auth.username = "u";
  t.http.auth.password_file = dir + "/pw";
  auto c = CreateErpConnector(t);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("erp.targets.sap.auth.password_file"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ErpConnectorTest, StopEndsEveryAcceptedAttempt) {
  ErpTargetOptions t;
  t.kind = "webhook";
  t.timeout_ms = 60000;
  // A loopback listener that never accepts: the TLS handshake waits; stopped first.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  t.http.transport.base_url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/hook";
  t.http.transport.connect_timeout_ms = 60000;
  auto c = CreateErpConnector(t);
  ASSERT_TRUE(c.ok());
  const TestCommand cmd = MakeTestCommand("SO-1", CommandKind::CreateSalesOrder, "SO-1", 1);
  ASSERT_TRUE((*c)->Post(cmd.buffer, 7, false).ok());
  (*c)->Stop();
  std::vector<ErpCompletion> out;
  (*c)->Poll(&out, 0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tag, 7u);
  EXPECT_EQ(out[0].failure, ErpFailureClass::kShutdown);
  EXPECT_EQ((*c)->in_flight(), 0u);
  ::close(listener);
}

}  // namespace
}  // namespace ordersync
