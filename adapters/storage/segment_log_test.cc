#include "adapters/storage/segment_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/storage/crc32c.h"

namespace ordersync {
namespace {

class SegmentLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ordersync-segment-log-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SegmentLog> Open(uint64_t segment_bytes = 1 << 20) {
    SegmentLogOptions o;
    o.dir = dir_.string();
    o.segment_bytes = segment_bytes;
    auto log = SegmentLog::Open(o);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return std::move(log).value();
  }

  static std::vector<std::string> ReadAll(SegmentLog* log, LogPosition from, uint64_t* torn = nullptr,
                                          Status* status = nullptr) {
    auto reader = log->ReadFrom(from);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    std::vector<std::string> out;
    std::string_view record;
    LogPosition end;
    while ((*reader)->Next(&record, &end)) out.emplace_back(record);
    if (torn != nullptr) *torn = (*reader)->torn_bytes();
    if (status != nullptr) *status = (*reader)->status();
    return out;
  }

  std::filesystem::path dir_;
};

std::string Record(int i) { return "record-" + std::to_string(i) + std::string(static_cast<size_t>(i % 50), 'x'); }

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  // CRC-32C of "123456789" is 0xE3069283 (RFC 3720, iSCSI).
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xE3069283u);
  // Continuing equals computing at once.
  EXPECT_EQ(Crc32c(Crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

TEST_F(SegmentLogTest, AppendedRecordsReadBackInOrderFromAnyRecordBoundary) {
  auto log = Open();
  auto stream = log->CreateStream(LogStreamId{1, 0});
  ASSERT_TRUE(stream.ok());
  std::vector<LogPosition> ends;
  for (int i = 0; i < 100; ++i) {
    LogPosition end;
    ASSERT_TRUE((*stream)->Append(Record(i), Durability::kWal, &end).ok());
    ends.push_back(end);
  }
  EXPECT_EQ(ends.back(), (*stream)->end());
  auto all = ReadAll(log.get(), LogPosition{1, 0, 0});
  ASSERT_EQ(all.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(all[static_cast<size_t>(i)], Record(i));
  auto tail = ReadAll(log.get(), ends[49]);
  ASSERT_EQ(tail.size(), 50u);
  EXPECT_EQ(tail.front(), Record(50));
}

TEST_F(SegmentLogTest, RollsSegmentsAndTruncationDeletesOnlyWholeCoveredSegments) {
  auto log = Open(/*segment_bytes=*/4096);
  auto stream = log->CreateStream(LogStreamId{1, 0});
  ASSERT_TRUE(stream.ok());
  std::vector<LogPosition> ends;
  const std::string payload(1000, 'p');
  for (int i = 0; i < 20; ++i) {
    LogPosition end;
    ASSERT_TRUE((*stream)->Append(payload + std::to_string(i), Durability::kFsync, &end).ok());
    ends.push_back(end);
  }
  std::vector<SegmentLog::SegmentFile> files;
  ASSERT_TRUE(log->ListSegments(&files).ok());
  EXPECT_GE(files.size(), 4u);
  // Truncating before record 10's end keeps it and everything after it readable.
  ASSERT_TRUE((*stream)->TruncateBefore(ends[9].offset).ok());
  std::vector<SegmentLog::SegmentFile> after;
  ASSERT_TRUE(log->ListSegments(&after).ok());
  EXPECT_LT(after.size(), files.size());
  auto tail = ReadAll(log.get(), ends[9]);
  ASSERT_EQ(tail.size(), 10u);
  EXPECT_EQ(tail.front(), payload + "10");
  EXPECT_LT((*stream)->retained_bytes(), ends.back().offset);
}

TEST_F(SegmentLogTest, TornTailIsCutAndReportedNotAnError) {
  auto log = Open();
  {
    auto stream = log->CreateStream(LogStreamId{1, 0});
    ASSERT_TRUE(stream.ok());
    LogPosition end;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*stream)->Append(Record(i), Durability::kWal, &end).ok());
  }
  std::vector<SegmentLog::SegmentFile> files;
  ASSERT_TRUE(log->ListSegments(&files).ok());
  ASSERT_EQ(files.size(), 1u);
  // Half a record at the end, as a crash in the middle of an append leaves it.
  {
    std::ofstream f(files[0].path, std::ios::app | std::ios::binary);
    const char header[8] = {100, 0, 0, 0, 1, 2, 3, 4};
    f.write(header, 8);
    f.write("partial", 7);
  }
  uint64_t torn = 0;
  Status status;
  auto all = ReadAll(log.get(), LogPosition{1, 0, 0}, &torn, &status);
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(torn, 15u);
}

TEST_F(SegmentLogTest, DamageBeforeTheLastSegmentIsCorruption) {
  auto log = Open(/*segment_bytes=*/512);
  {
    auto stream = log->CreateStream(LogStreamId{1, 0});
    ASSERT_TRUE(stream.ok());
    LogPosition end;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*stream)->Append(std::string(200, 'a' + i), Durability::kWal, &end).ok());
  }
  std::vector<SegmentLog::SegmentFile> files;
  ASSERT_TRUE(log->ListSegments(&files).ok());
  ASSERT_GE(files.size(), 3u);
  // Flip a payload byte in the first segment: a record whose checksum fails, with
  // acknowledged records after it.
  {
    std::fstream f(files[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);
    f.put('Z');
  }
  Status status;
  ReadAll(log.get(), LogPosition{1, 0, 0}, nullptr, &status);
  EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
}

TEST_F(SegmentLogTest, GenerationsAreListedInOrderAndDroppedTogether) {
  auto log = Open();
  for (uint32_t gen : {3u, 4u}) {
    for (uint32_t s : {0u, 1u}) {
      auto stream = log->CreateStream(LogStreamId{gen, s});
      ASSERT_TRUE(stream.ok());
      LogPosition end;
      ASSERT_TRUE((*stream)->Append("x", Durability::kWal, &end).ok());
    }
  }
  EXPECT_FALSE(log->CreateStream(LogStreamId{4, 1}).ok());  // exists already
  std::vector<LogStreamId> streams;
  ASSERT_TRUE(log->ListStreams(&streams).ok());
  ASSERT_EQ(streams.size(), 4u);
  EXPECT_EQ(streams[0], (LogStreamId{3, 0}));
  EXPECT_EQ(streams[3], (LogStreamId{4, 1}));
  EXPECT_EQ(log->LastGeneration(), 4u);
  ASSERT_TRUE(log->DropGenerationsBefore(4).ok());
  ASSERT_TRUE(log->ListStreams(&streams).ok());
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].generation, 4u);
}

TEST_F(SegmentLogTest, NoneDurabilityBuffersUntilSync) {
  auto log = Open();
  auto stream = log->CreateStream(LogStreamId{1, 0});
  ASSERT_TRUE(stream.ok());
  LogPosition end;
  ASSERT_TRUE((*stream)->Append("buffered", Durability::kNone, &end).ok());
  EXPECT_TRUE(ReadAll(log.get(), LogPosition{1, 0, 0}).empty());
  ASSERT_TRUE((*stream)->Sync().ok());
  EXPECT_EQ(ReadAll(log.get(), LogPosition{1, 0, 0}), std::vector<std::string>{"buffered"});
}

}  // namespace
}  // namespace ordersync
