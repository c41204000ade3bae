#include "adapters/cli/logging.h"

#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

namespace ordersync {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string LogOne(const LogOptions& options, const std::string& message) {
  std::ostringstream out;
  auto logger = MakeLogger(options, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->info("{}", message);
  logger->debug("hidden at info");
  logger->flush();
  return out.str();
}

TEST(LoggingTest, TextFormatHasTimestampLevelAndMessage) {
  const std::string line = LogOne(LogOptions{}, "hello");
  EXPECT_THAT(line, MatchesRegex(
                        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z \\[info\\] hello\n"));
}

TEST(LoggingTest, JsonFormatWritesOneEscapedObjectPerLine) {
  LogOptions options;
  options.format = "json";
  const std::string line = LogOne(options, "say \"hi\"\\\n\ttab\x01");
  EXPECT_THAT(line, MatchesRegex("\\{\"ts\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z\","
                                 "\"level\":\"info\",\"msg\":\".*\"\\}\n"));
  EXPECT_THAT(line, HasSubstr(R"("msg":"say \"hi\"\\\n\ttab\u0001"})"));
}

TEST(LoggingTest, LevelFiltersLessSevereRecords) {
  LogOptions options;
  options.level = "debug";
  EXPECT_THAT(LogOne(options, "x"), HasSubstr("hidden at info"));
  options.level = "warn";
  EXPECT_EQ(LogOne(options, "x"), "");
}

}  // namespace
}  // namespace ordersync
