// Journal encoding: the compact OSJ3 chunk round-trips every field; chunks and single
// entries written by earlier releases (OSJ2 chunks of FlatBuffers, lone FlatBuffers)
// still read; damaged bodies are refused without crashing.
#include "engine/journal.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ordersync {
namespace {

std::string CompactChunk(const std::vector<JournalRecord>& records) {
  JournalWriter writer;
  std::string chunk = "OSJ3";
  for (const JournalRecord& r : records) {
    std::string entry;
    writer.Encode(r, &entry);
    PutVarint64(&chunk, entry.size());
    chunk += entry;
  }
  return chunk;
}

std::string FlatBufferEntry(std::string_view event_id, int64_t at_ns, int64_t ordered) {
  flatbuffers::FlatBufferBuilder fbb;
  auto id = fbb.CreateString(event_id);
  auto outcome = fbb.CreateString("applied");
  storage::JournalEntryBuilder b(fbb);
  b.add_kind(storage::JournalKind::EventReceived);
  b.add_at_ns(at_ns);
  b.add_event_id(id);
  b.add_outcome(outcome);
  b.add_ordered(ordered);
  fbb.Finish(b.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

TEST(JournalEncodingTest, CompactChunkRoundTripsEveryField) {
  std::vector<IssuedCommand> commands = {{"cmd-1", 3, 7, "sap"}, {"cmd-2", 4, 8, "netsuite"}};
  JournalRecord event;
  event.kind = storage::JournalKind::EventReceived;
  event.at_ns = 1'700'000'000'123'456'789;
  event.event_id = "ev-1";
  event.source = "wms";
  event.correlation_id = "corr-9";
  event.milestone = 2;
  event.occurred_at_ns = -5;  // zigzag keeps negatives
  event.received_at_ns = 1'700'000'000'000'000'000;
  event.outcome = "applied";
  event.ordered = 10;
  event.reserved = 4;
  event.picked = 3;
  event.shipped = 2;
  event.returned = 1;
  event.commands = commands;
  JournalRecord ack;
  ack.kind = storage::JournalKind::CommandAcked;
  ack.at_ns = event.at_ns + 1;
  ack.command_id = "cmd-1";
  ack.command_kind = 3;
  ack.order_cmd_seq = 7;
  ack.target = "sap";
  ack.attempt = 2;
  ack.outcome = "Posted";
  ack.reason = "";
  ack.erp_document_id = "SO-42";
  ack.first_sent_at_ns = event.at_ns;

  std::vector<JournalEntryView> seen;
  std::vector<std::vector<std::string>> command_ids;
  ASSERT_TRUE(ForEachJournalEntry(CompactChunk({event, ack}), [&](const JournalEntryView& e) {
    seen.push_back(e);
    std::vector<std::string> ids;
    for (const JournalCommandView& c : e.commands) ids.emplace_back(std::string(c.command_id) + "/" +
                                                                    std::to_string(c.command_kind) + "/" +
                                                                    std::to_string(c.order_cmd_seq) + "/" +
                                                                    std::string(c.target));
    command_ids.push_back(ids);
  }));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, storage::JournalKind::EventReceived);
  EXPECT_EQ(seen[0].at_ns, event.at_ns);
  EXPECT_EQ(seen[0].milestone, 2);
  EXPECT_EQ(seen[0].occurred_at_ns, -5);
  EXPECT_EQ(seen[0].received_at_ns, event.received_at_ns);
  EXPECT_EQ(seen[0].ordered, 10);
  EXPECT_EQ(seen[0].reserved, 4);
  EXPECT_EQ(seen[0].picked, 3);
  EXPECT_EQ(seen[0].shipped, 2);
  EXPECT_EQ(seen[0].returned, 1);
  EXPECT_EQ(command_ids[0], (std::vector<std::string>{"cmd-1/3/7/sap", "cmd-2/4/8/netsuite"}));
  EXPECT_EQ(seen[1].kind, storage::JournalKind::CommandAcked);
  EXPECT_EQ(seen[1].command_kind, 3);
  EXPECT_EQ(seen[1].order_cmd_seq, 7u);
  EXPECT_EQ(seen[1].attempt, 2u);
  EXPECT_EQ(seen[1].first_sent_at_ns, event.at_ns);
  EXPECT_TRUE(command_ids[1].empty());
}

TEST(JournalEncodingTest, CompactChunkStringsSurviveTheCallback) {
  JournalRecord r;
  r.event_id = "ev-7";
  r.source = "edi:ACME";
  r.correlation_id = "c";
  r.outcome = "parked";
  r.reason = "missing_prerequisite:OrderAccepted";
  std::string id, source, reason;
  ASSERT_TRUE(ForEachJournalEntry(CompactChunk({r}), [&](const JournalEntryView& e) {
    id = e.event_id;
    source = e.source;
    reason = e.reason;
    EXPECT_EQ(e.correlation_id, "c");
    EXPECT_EQ(e.outcome, "parked");
    EXPECT_TRUE(e.command_id.empty());
    EXPECT_TRUE(e.erp_document_id.empty());
  }));
  EXPECT_EQ(id, "ev-7");
  EXPECT_EQ(source, "edi:ACME");
  EXPECT_EQ(reason, "missing_prerequisite:OrderAccepted");
}

TEST(JournalEncodingTest, ReadsChunksOfEarlierReleases) {
  std::string chunk = "OSJ2";
  for (int i = 0; i < 2; ++i) {
    const std::string entry = FlatBufferEntry("ev-" + std::to_string(i), 100 + i, 5 + i);
    const uint32_t n = static_cast<uint32_t>(entry.size());
    for (int b = 0; b < 4; ++b) chunk.push_back(static_cast<char>(n >> (8 * b)));
    chunk += entry;
  }
  std::vector<std::string> ids;
  std::vector<int64_t> ordered;
  ASSERT_TRUE(ForEachJournalEntry(chunk, [&](const JournalEntryView& e) {
    ids.emplace_back(e.event_id);
    ordered.push_back(e.ordered);
    EXPECT_EQ(e.outcome, "applied");
  }));
  EXPECT_EQ(ids, (std::vector<std::string>{"ev-0", "ev-1"}));
  EXPECT_EQ(ordered, (std::vector<int64_t>{5, 6}));
}

TEST(JournalEncodingTest, ReadsSingleFlatBufferEntries) {
  int calls = 0;
  ASSERT_TRUE(ForEachJournalEntry(FlatBufferEntry("ev-single", 1, 3), [&](const JournalEntryView& e) {
    ++calls;
    EXPECT_EQ(e.event_id, "ev-single");
  }));
  EXPECT_EQ(calls, 1);
}

TEST(JournalEncodingTest, DamagedBodiesAreRefusedAfterTheGoodEntries) {
  JournalRecord r;
  r.event_id = "ev-ok";
  r.outcome = "applied";
  const std::string good = CompactChunk({r, r});
  for (size_t cut = 1; cut < good.size(); ++cut) {
    int calls = 0;
    const bool ok = ForEachJournalEntry(good.substr(0, cut), [&](const JournalEntryView&) { ++calls; });
    // A strict prefix never yields both entries; it is refused unless it ends on an
    // entry boundary.
    EXPECT_LT(calls, 2) << cut;
    if (ok) EXPECT_TRUE(cut == 4 || calls == 1) << cut;
  }
  EXPECT_FALSE(ForEachJournalEntry("OSJ2\x05", [](const JournalEntryView&) {}));
  EXPECT_FALSE(ForEachJournalEntry("not a journal value", [](const JournalEntryView&) {}));
}

}  // namespace
}  // namespace ordersync
