// JetStreamLog and JetStreamEventLog against three real, clustered nats-server processes
// (tests/cluster/nats_cluster.h), stream R3: append/read/tail per partition, duplicate
// event ids, asynchronous publishes, op fencing, purge, malformed messages, and the
// EventLog adapter the engine's replay reads.
#include "adapters/cluster/jetstream_log.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/cluster/jetstream_event_log.h"
#include "engine/log_record.h"
#include "tests/cluster/nats_cluster.h"

namespace ordersync {
namespace {

std::string EventRecord(uint32_t p, int i) {
  LogRecordBuilder b;
  b.Begin(1000 + i);
  b.AddEvent(p, 2000 + i, false, "envelope-" + std::to_string(p) + "-" + std::to_string(i));
  return std::string(b.Finish());
}

std::string OpRecord(uint32_t p, int i) {
  LogRecordBuilder b;
  b.Begin(5000 + i);
  b.AddExpireParked(p);
  return std::string(b.Finish());
}

std::string EnvelopeOf(std::string_view record) {
  LogRecordReader r;
  if (!r.Open(record).ok()) return "";
  LogItem item;
  if (!r.Next(&item)) return "";
  return std::string(item.bytes);
}

class JetStreamLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.status().ok()) << cluster_.status().ToString();
    auto conn = NatsConnection::Connect(cluster_.ClientOptions());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    JetStreamLogOptions o;
    o.partitions = 4;
    o.replicas = 3;
    auto log = JetStreamLog::Open(conn_.get(), o);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    ASSERT_TRUE(cluster_.WaitStreamCurrent(o.stream, 3, 20000).ok());
  }

  // Reads partition p after `after` until nothing arrives for 300 ms.
  std::vector<LogEntry> ReadAll(uint32_t p, uint64_t after, std::vector<std::string>* data = nullptr) {
    auto r = log_->ReadPartition(p, after);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<LogEntry> out;
    if (!r.ok()) return out;
    LogEntry e;
    while ((*r)->Next(&e, 300) == PartitionReader::Outcome::kRecord) {
      if (data != nullptr) data->emplace_back(e.data);
      e.data = {};
      e.msg_id = {};
      out.push_back(e);
    }
    EXPECT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
    return out;
  }

  test::NatsCluster cluster_{3};
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> log_;
};

TEST_F(JetStreamLogTest, AppendedRecordsReadBackPerPartitionInSequenceOrder) {
  std::vector<uint64_t> seqs[2];
  for (int i = 0; i < 10; ++i) {
    for (uint32_t p : {0u, 1u}) {
      auto ack = log_->PublishEvent(p, "ev-" + std::to_string(p) + "-" + std::to_string(i), EventRecord(p, i));
      ASSERT_TRUE(ack.ok()) << ack.status().ToString();
      EXPECT_FALSE(ack->duplicate);
      seqs[p].push_back(ack->sequence);
    }
  }
  for (uint32_t p : {0u, 1u}) {
    std::vector<std::string> data;
    auto entries = ReadAll(p, 0, &data);
    ASSERT_EQ(entries.size(), 10u);
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_EQ(entries[i].sequence, seqs[p][i]);
      EXPECT_EQ(entries[i].kind, LogSubjectKind::kEvent);
      EXPECT_TRUE(entries[i].malformed.ok()) << entries[i].malformed.ToString();
      EXPECT_EQ(EnvelopeOf(data[i]), "envelope-" + std::to_string(p) + "-" + std::to_string(i));
    }
    auto last = log_->LastSequence(p);
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(*last, seqs[p].back());
  }
  // From a sequence onwards: only the records after it.
  auto tail = ReadAll(0, seqs[0][6]);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(tail.front().sequence, seqs[0][7]);
  auto last_empty = log_->LastSequence(3);
  ASSERT_TRUE(last_empty.ok());
  EXPECT_EQ(*last_empty, 0u);
  std::vector<uint32_t> parts;
  ASSERT_TRUE(log_->PartitionsWithData(&parts).ok());
  EXPECT_EQ(parts, (std::vector<uint32_t>{0, 1}));
}

TEST_F(JetStreamLogTest, ReaderAtTheEndReportsNothingNowThenTailsNewRecords) {
  auto first = log_->PublishEvent(2, "a", EventRecord(2, 1));
  ASSERT_TRUE(first.ok());
  auto r = log_->ReadPartition(2, 0);
  ASSERT_TRUE(r.ok());
  LogEntry e;
  ASSERT_EQ((*r)->Next(&e, 2000), PartitionReader::Outcome::kRecord);
  EXPECT_EQ(e.sequence, first->sequence);
  EXPECT_EQ(e.msg_id, "a");
  EXPECT_EQ((*r)->Next(&e, 200), PartitionReader::Outcome::kNothingNow);
  auto second = log_->PublishEvent(2, "b", EventRecord(2, 2));
  ASSERT_TRUE(second.ok());
  ASSERT_EQ((*r)->Next(&e, 2000), PartitionReader::Outcome::kRecord);
  EXPECT_EQ(e.sequence, second->sequence);
  EXPECT_EQ((*r)->last_sequence(), second->sequence);
}

TEST_F(JetStreamLogTest, SameEventIdPublishedTwiceIsStoredOnce) {
  auto a = log_->PublishEvent(0, "event-42", EventRecord(0, 42));
  ASSERT_TRUE(a.ok());
  auto b = log_->PublishEvent(0, "event-42", EventRecord(0, 42));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_FALSE(a->duplicate);
  EXPECT_TRUE(b->duplicate);
  EXPECT_EQ(b->sequence, a->sequence);
  EXPECT_EQ(ReadAll(0, 0).size(), 1u);
}

struct Completions {
  std::mutex mu;
  std::vector<std::pair<std::string, uint64_t>> acked;
  std::vector<std::string> failed;
  static void On(void* closure, const AsyncEventPublisher::Completion& c) {
    auto* self = static_cast<Completions*>(closure);
    std::lock_guard<std::mutex> lock(self->mu);
    if (c.status.ok()) {
      self->acked.emplace_back(std::string(c.event_id), c.ack.sequence);
    } else {
      self->failed.emplace_back(std::string(c.event_id) + ": " + c.status.ToString());
    }
  }
};

TEST_F(JetStreamLogTest, AsyncPublishesCompleteOnceEachWithTheirSequences) {
  // A connection allowing only 8 publishes in flight: Publish waits for acks to free room.
  NatsOptions no = cluster_.ClientOptions();
  no.max_async_pending = 8;
  auto conn = NatsConnection::Connect(no);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto log = JetStreamLog::Open(conn->get(), log_->options());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Completions done;
  auto pub = AsyncEventPublisher::Create(log->get(), &Completions::On, &done);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  constexpr int kEvents = 500;
  uint64_t max_in_flight = 0;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE((*pub)->Publish(1, "async-" + std::to_string(i), EventRecord(1, i)).ok());
    max_in_flight = std::max(max_in_flight, (*pub)->in_flight());
  }
  ASSERT_TRUE((*pub)->WaitAll(10000).ok());
  EXPECT_EQ((*pub)->in_flight(), 0u);
  // (+1: an ack whose callback is still running is no longer counted by nats.c.)
  EXPECT_LE(max_in_flight, 9u);
  ASSERT_TRUE(done.failed.empty()) << done.failed.front();
  ASSERT_EQ(done.acked.size(), static_cast<size_t>(kEvents));
  // Completions arrive in publish order with increasing sequences, and the log holds
  // each event at the sequence its completion reported.
  for (int i = 0; i < kEvents; ++i) EXPECT_EQ(done.acked[static_cast<size_t>(i)].first, "async-" + std::to_string(i));
  auto entries = ReadAll(1, 0);
  ASSERT_EQ(entries.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(entries[static_cast<size_t>(i)].sequence, done.acked[static_cast<size_t>(i)].second);
  }
}

TEST_F(JetStreamLogTest, OpWithStaleExpectedSequenceIsRefusedAsFenced) {
  // Owner A (epoch 7) adopts partition 3: no op yet.
  auto a1 = log_->PublishOp(3, 7, 0, OpRecord(3, 1));
  ASSERT_TRUE(a1.ok()) << a1.status().ToString();
  // An event in between does not disturb the op chain (it is another subject).
  ASSERT_TRUE(log_->PublishEvent(3, "e1", EventRecord(3, 1)).ok());
  auto a2 = log_->PublishOp(3, 7, a1->sequence, OpRecord(3, 2));
  ASSERT_TRUE(a2.ok()) << a2.status().ToString();
  // Owner B (epoch 9) takes over, knowing the last op.
  auto last_op = log_->LastOpSequence(3);
  ASSERT_TRUE(last_op.ok());
  EXPECT_EQ(*last_op, a2->sequence);
  auto b1 = log_->PublishOp(3, 9, *last_op, OpRecord(3, 3));
  ASSERT_TRUE(b1.ok()) << b1.status().ToString();
  // A, unaware, publishes after its own last op: refused by the server.
  auto stale = log_->PublishOp(3, 7, a2->sequence, OpRecord(3, 4));
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(IsFenced(stale.status())) << stale.status().ToString();
  // A first op expecting "none" is refused too once an op exists.
  EXPECT_TRUE(IsFenced(log_->PublishOp(3, 7, 0, OpRecord(3, 5)).status()));
  auto entries = ReadAll(3, 0);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].kind, LogSubjectKind::kOp);
  EXPECT_EQ(entries[0].epoch, 7u);
  EXPECT_EQ(entries[1].kind, LogSubjectKind::kEvent);
  EXPECT_EQ(entries[3].epoch, 9u);
}

TEST_F(JetStreamLogTest, PurgeDeletesOnlyThatPartitionUpToTheSequenceAndKeepsTheLastOp) {
  std::vector<uint64_t> seqs;
  auto op = log_->PublishOp(0, 1, 0, OpRecord(0, 1));
  ASSERT_TRUE(op.ok());
  for (int i = 0; i < 6; ++i) {
    auto a = log_->PublishEvent(0, "p0-" + std::to_string(i), EventRecord(0, i));
    ASSERT_TRUE(a.ok());
    seqs.push_back(a->sequence);
    ASSERT_TRUE(log_->PublishEvent(1, "p1-" + std::to_string(i), EventRecord(1, i)).ok());
  }
  ASSERT_TRUE(log_->PurgeUpTo(0, seqs[3]).ok());
  auto left = ReadAll(0, 0);
  ASSERT_EQ(left.size(), 3u);  // the last op (kept for fencing) + events 4 and 5
  EXPECT_EQ(left[0].sequence, op->sequence);
  EXPECT_EQ(left[1].sequence, seqs[4]);
  EXPECT_EQ(ReadAll(1, 0).size(), 6u);
  // The op chain still works after the purge.
  EXPECT_TRUE(log_->PublishOp(0, 1, op->sequence, OpRecord(0, 2)).ok());
}

TEST_F(JetStreamLogTest, MalformedMessagesAreReportedWithAReasonAndReadingGoesOn) {
  // Raw publishes on the log's subjects that are not valid records.
  auto raw = [&](const std::string& subject, std::string_view data) {
    jsPubAck* pa = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_Publish(&pa, conn_->js(), subject.c_str(), data.data(), static_cast<int>(data.size()), nullptr, &jerr),
              NATS_OK);
    jsPubAck_Destroy(pa);
  };
  raw("ordersync.ev.2", "this is not a log record");
  raw("ordersync.ev.2", EventRecord(1, 1));  // a record of another partition
  raw("ordersync.op.2", OpRecord(2, 1));     // an op without epoch
  ASSERT_TRUE(log_->PublishEvent(2, "good", EventRecord(2, 9)).ok());
  auto entries = ReadAll(2, 0);
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].malformed.code(), Status::Code::kCorruption);
  EXPECT_NE(entries[0].malformed.message().find("not a LogRecord"), std::string::npos) << entries[0].malformed.ToString();
  EXPECT_NE(entries[1].malformed.message().find("partition 1"), std::string::npos) << entries[1].malformed.ToString();
  EXPECT_NE(entries[2].malformed.message().find("Ordersync-Epoch"), std::string::npos) << entries[2].malformed.ToString();
  EXPECT_TRUE(entries[3].malformed.ok());

  // The EventLog adapter skips them, reports each, and yields the good record.
  std::vector<uint64_t> reported;
  JetStreamEventLog::Options eo;
  eo.on_malformed = [&](uint32_t, uint64_t seq, const Status&) { reported.push_back(seq); };
  JetStreamEventLog elog(log_.get(), eo);
  auto reader = elog.ReadFrom(LogPosition{0, 2, 0});
  ASSERT_TRUE(reader.ok());
  std::string_view record;
  LogPosition end;
  ASSERT_TRUE((*reader)->Next(&record, &end));
  EXPECT_EQ(EnvelopeOf(record), "envelope-2-9");
  EXPECT_EQ(end, (LogPosition{0, 2, entries[3].sequence}));
  EXPECT_FALSE((*reader)->Next(&record, &end));
  EXPECT_TRUE((*reader)->status().ok());
  EXPECT_EQ(reported.size(), 3u);
}

TEST_F(JetStreamLogTest, EventLogAdapterMapsPartitionsToStreamsAndSequencesToOffsets) {
  JetStreamEventLog elog(log_.get(), JetStreamEventLog::Options{.epoch = 11});
  EXPECT_EQ(elog.LastGeneration(), 0u);
  EXPECT_FALSE(elog.CreateStream(LogStreamId{1, 0}).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(log_->PublishEvent(1, "x" + std::to_string(i), EventRecord(1, i)).ok());
  auto stream = elog.CreateStream(LogStreamId{0, 1});
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  LogPosition op_end;
  ASSERT_TRUE((*stream)->Append(OpRecord(1, 1), Durability::kWal, &op_end).ok());
  EXPECT_EQ(op_end.stream, 1u);
  EXPECT_EQ((*stream)->end(), op_end);
  std::vector<LogStreamId> streams;
  ASSERT_TRUE(elog.ListStreams(&streams).ok());
  EXPECT_EQ(streams, (std::vector<LogStreamId>{{0, 1}}));
  // Replay from the start: 3 events and the op, ends strictly increasing; from the
  // second record's end: the rest.
  auto reader = elog.ReadFrom(LogPosition{0, 1, 0});
  ASSERT_TRUE(reader.ok());
  std::vector<LogPosition> ends;
  std::string_view record;
  LogPosition end;
  while ((*reader)->Next(&record, &end)) ends.push_back(end);
  ASSERT_EQ(ends.size(), 4u);
  EXPECT_EQ(ends.back(), op_end);
  auto rest = elog.ReadFrom(ends[1]);
  ASSERT_TRUE(rest.ok());
  int n = 0;
  while ((*rest)->Next(&record, &end)) ++n;
  EXPECT_EQ(n, 2);
  // Truncation = purge of the partition up to that offset.
  ASSERT_TRUE((*stream)->TruncateBefore(ends[1].offset).ok());
  EXPECT_EQ(ReadAll(1, 0).size(), 2u);
  // A second stream object of a stale owner (epoch 11 still, but it missed an op).
  auto other = elog.CreateStream(LogStreamId{0, 1});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Append(OpRecord(1, 2), Durability::kWal, &end).ok());
  EXPECT_TRUE(IsFenced((*stream)->Append(OpRecord(1, 3), Durability::kWal, &end)));
}

}  // namespace
}  // namespace ordersync
