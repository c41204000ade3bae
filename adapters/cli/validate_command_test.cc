// Tests for RunValidateCommand (adapters/cli/validate_command.h): output format of both
// modes, exit codes, unreadable files and the bounded read of oversized files.
#include "adapters/cli/validate_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/producer/milestone_builder.h"
#include "gtest/gtest.h"

namespace ordersync {
namespace {

namespace fs = std::filesystem;

class ValidateCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("validate_command_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static std::string ValidFrame() {
    EnvelopeSpec s;
    s.event_id = "evt-1";
    s.order_id = "SO-1";
    s.kind = Milestone::DeliveryConfirmed;
    s.business_key = "SHP-1";
    return MilestoneBuilder::BuildToString(s);
  }
  static std::string MissingEventId() {
    EnvelopeSpec s;
    s.order_id = "SO-1";
    s.kind = Milestone::DeliveryConfirmed;
    s.business_key = "SHP-1";
    return MilestoneBuilder::BuildToString(s);
  }

  int Run(const std::vector<std::string>& files, bool json, const ValidatorOptions& options = {}) {
    out_.str("");
    return RunValidateCommand(files, json, options, out_);
  }

  fs::path dir_;
  std::ostringstream out_;
};

TEST_F(ValidateCommandTest, AllValidFilesExitZero) {
  std::string a = Write("a.bin", ValidFrame());
  std::string b = Write("b.bin", ValidFrame());
  EXPECT_EQ(Run({a, b}, false), kValidateAllOk);
  EXPECT_EQ(out_.str(), a + "\tok\n" + b + "\tok\n");
}

TEST_F(ValidateCommandTest, TextModePrintsReasonAndDescriptionOfRejectedFiles) {
  std::string good = Write("good.bin", ValidFrame());
  std::string bad = Write("bad.bin", MissingEventId());
  EXPECT_EQ(Run({good, bad}, false), kValidateSomeRejected);
  EXPECT_EQ(out_.str(), good + "\tok\n" + bad + "\tmissing_field:event_id\trequired field 'event_id' is missing or empty\n");
}

TEST_F(ValidateCommandTest, JsonModeListsEveryFileAndEscapesStrings) {
  std::string good = Write("good \"1\".bin", ValidFrame());
  std::string bad = Write("bad.bin", "junk");
  EXPECT_EQ(Run({good, bad}, true), kValidateSomeRejected);
  std::string escaped = (dir_ / "good \\\"1\\\".bin").string();
  EXPECT_EQ(out_.str(),
            "[\n  {\"file\": \"" + escaped + "\", \"ok\": true, \"reason\": \"ok\", \"message\": \"valid\"},\n"
            "  {\"file\": \"" + bad + "\", \"ok\": false, \"reason\": \"truncated_or_corrupt\", \"message\": "
            "\"frame is not a well-formed FlatBuffer (truncated or corrupt)\"}\n]\n");
}

TEST_F(ValidateCommandTest, JsonModeEscapesControlCharacters) {
  std::string path = Write("tab\there\x01.bin", ValidFrame());
  EXPECT_EQ(Run({path}, true), kValidateAllOk);
  EXPECT_NE(out_.str().find("tab\\there\\u0001.bin"), std::string::npos) << out_.str();
}

TEST_F(ValidateCommandTest, UnreadableFilesAreReportedAndExitTwo) {
  std::string missing = (dir_ / "nope.bin").string();
  std::string bad = Write("bad.bin", MissingEventId());
  std::string directory = dir_.string();
  EXPECT_EQ(Run({missing, bad, directory}, false), kValidateIoError);
  std::string text = out_.str();
  EXPECT_NE(text.find(missing + "\tio_error\tcannot open: No such file or directory\n"), std::string::npos) << text;
  EXPECT_NE(text.find(bad + "\tmissing_field:event_id\t"), std::string::npos) << text;
  EXPECT_NE(text.find(directory + "\tio_error\tcannot read: Is a directory\n"), std::string::npos) << text;

  EXPECT_EQ(Run({missing}, true), kValidateIoError);
  EXPECT_NE(out_.str().find("\"ok\": false, \"reason\": \"io_error\""), std::string::npos) << out_.str();
}

TEST_F(ValidateCommandTest, OversizedFileIsRejectedBeforeParsing) {
  std::string frame = ValidFrame();
  std::string big = Write("big.bin", frame + std::string(1 << 20, '\0'));
  EXPECT_EQ(Run({big}, false), kValidateSomeRejected);
  EXPECT_NE(out_.str().find("\toversized_message\t"), std::string::npos) << out_.str();

  // The same frame passes at its own size and fails one byte under it.
  std::string exact = Write("exact.bin", frame);
  ValidatorOptions options;
  options.max_message_bytes = frame.size();
  EXPECT_EQ(Run({exact}, false, options), kValidateAllOk);
  options.max_message_bytes = frame.size() - 1;
  EXPECT_EQ(Run({exact}, false, options), kValidateSomeRejected);
  EXPECT_NE(out_.str().find("\toversized_message\t"), std::string::npos) << out_.str();
}

TEST_F(ValidateCommandTest, EmptyFileIsTruncated) {
  std::string empty = Write("empty.bin", "");
  EXPECT_EQ(Run({empty}, false), kValidateSomeRejected);
  EXPECT_EQ(out_.str(), empty + "\ttruncated_or_corrupt\tframe is not a well-formed FlatBuffer (truncated or corrupt)\n");
}

TEST_F(ValidateCommandTest, NoFilesPrintsNothingAndExitsZero) {
  EXPECT_EQ(Run({}, false), kValidateAllOk);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(Run({}, true), kValidateAllOk);
  EXPECT_EQ(out_.str(), "[]\n");
}

}  // namespace
}  // namespace ordersync
