#include "adapters/ingress/curve_keys.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using ::testing::HasSubstr;

TEST(CurveKeysTest, KeygenWritesSecretWithMode0600AndPublicThatMatches) {
  testing::TempDir dir;
  Result<CurveKeyPair> pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  ASSERT_TRUE(WriteCurveKeyPair(dir.path() + "/keys", "wms-east", *pair, false).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/keys/wms-east.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<std::string> secret = ReadCurveKeyFile(dir.path() + "/keys/wms-east.key");
  Result<std::string> pub = ReadCurveKeyFile(dir.path() + "/keys/wms-east.pub");
  ASSERT_TRUE(secret.ok() && pub.ok());
  EXPECT_EQ(*secret, pair->secret_z85);
  EXPECT_EQ(*pub, pair->public_z85);
  Result<std::string> derived = CurvePublicKeyOf(*secret);
  ASSERT_TRUE(derived.ok());
  EXPECT_EQ(*derived, *pub);
}

TEST(CurveKeysTest, KeygenRefusesToOverwriteUnlessAsked) {
  testing::TempDir dir;
  CurveKeyPair pair = *GenerateCurveKeyPair();
  ASSERT_TRUE(WriteCurveKeyPair(dir.path(), "a", pair, false).ok());
  Status again = WriteCurveKeyPair(dir.path(), "a", *GenerateCurveKeyPair(), false);
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(again.message(), HasSubstr("--force"));
  EXPECT_EQ(*ReadCurveKeyFile(dir.path() + "/a.key"), pair.secret_z85);
  CurveKeyPair other = *GenerateCurveKeyPair();
  ASSERT_TRUE(WriteCurveKeyPair(dir.path(), "a", other, true).ok());
  EXPECT_EQ(*ReadCurveKeyFile(dir.path() + "/a.key"), other.secret_z85);
  EXPECT_FALSE(WriteCurveKeyPair(dir.path(), "../escape", pair, false).ok());
}

TEST(CurveKeysTest, AuthorizedKeysAreThePubFilesNamedByStem) {
  testing::TempDir dir;
  CurveKeyPair a = *GenerateCurveKeyPair(), b = *GenerateCurveKeyPair();
  ASSERT_TRUE(WriteCurveKeyPair(dir.path(), "wms", a, false).ok());
  ASSERT_TRUE(WriteCurveKeyPair(dir.path(), "tms", b, false).ok());
  std::ofstream(dir.path() + "/README") << "not a key\n";
  Result<std::map<std::string, std::string>> keys = LoadAuthorizedKeys(dir.path());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  std::set<std::string> names;
  for (const auto& [key, name] : *keys) {
    EXPECT_EQ(key.size(), 32u);
    names.insert(name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"wms", "tms"}));
}

TEST(CurveKeysTest, MalformedKeyFileIsAnErrorNamingIt) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/bad.pub") << "too-short\n";
  Result<std::map<std::string, std::string>> keys = LoadAuthorizedKeys(dir.path());
  ASSERT_FALSE(keys.ok());
  EXPECT_THAT(keys.status().message(), HasSubstr("bad.pub"));
  EXPECT_FALSE(LoadAuthorizedKeys(dir.path() + "/missing").ok());
  EXPECT_FALSE(ReadCurveKeyFile(dir.path() + "/missing.key").ok());
}

}  // namespace
}  // namespace ordersync
