// Acked means durable, with servers dying: three real nats-server processes (R3), a
// publisher that keeps publishing events (re-publishing with the same Nats-Msg-Id until
// acked, as a front door does), kill -9 of the stream's leader, its restart, then kill -9
// of the new leader. After each kill: publishing goes on, and every acknowledged record
// is readable exactly once at the sequence its ack reported.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/cluster/jetstream_log.h"
#include "engine/log_record.h"
#include "tests/cluster/nats_cluster.h"

namespace ordersync {
namespace {

constexpr uint32_t kPartitions = 4;

std::string EventRecord(uint32_t p, uint64_t i) {
  LogRecordBuilder b;
  b.Begin(static_cast<int64_t>(i));
  b.AddEvent(p, static_cast<int64_t>(i), false, "fault-envelope-" + std::to_string(i));
  return std::string(b.Finish());
}

class Publisher {
 public:
  explicit Publisher(JetStreamLog* log) : log_(log), thread_([this] { Run(); }) {}
  ~Publisher() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t acked() const { return acked_count_.load(); }
  // Waits until `n` more records than now were acked (false after timeout_ms).
  bool WaitMoreAcked(uint64_t n, int64_t timeout_ms) {
    const uint64_t target = acked() + n;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (acked() < target) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  std::map<std::string, uint64_t> Acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  uint64_t retries() const { return retries_.load(); }
  const std::string& failure() const { return failure_; }

 private:
  void Run() {
    for (uint64_t i = 0; !stop_; ++i) {
      const uint32_t p = static_cast<uint32_t>(i % kPartitions);
      const std::string id = "fault-" + std::to_string(i);
      const std::string record = EventRecord(p, i);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      for (;;) {
        auto ack = log_->PublishEvent(p, id, record);
        if (ack.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          acked_[id] = ack->sequence;
          acked_count_.fetch_add(1);
          break;
        }
        // (A failed publish may still have been stored: the retry carries the same
        // Nats-Msg-Id, so it is then acknowledged as a duplicate, not stored twice.)
        if (std::chrono::steady_clock::now() > give_up) {
          failure_ = id + ": " + ack.status().ToString();
          return;
        }
        retries_.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      // A steady trickle (a few hundred per second), so that reading back stays short.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  JetStreamLog* log_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> acked_count_{0}, retries_{0};
  std::mutex mu_;
  std::map<std::string, uint64_t> acked_;
  std::string failure_;
  std::thread thread_;
};

// Every acked id is in the log exactly once, at its acked sequence. Reads each partition
// up to the highest acked sequence (the publisher may still be adding records).
void ExpectEveryAckedRecordReadable(test::NatsCluster* cluster, const JetStreamLogOptions& options,
                                    const std::map<std::string, uint64_t>& acked) {
  uint64_t max_acked = 0;
  for (const auto& [id, seq] : acked) max_acked = std::max(max_acked, seq);
  auto conn = NatsConnection::Connect(cluster->ClientOptions());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto log = JetStreamLog::Open(conn->get(), options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::map<std::string, std::vector<uint64_t>> found;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    // Creating the reader's consumer needs the JetStream meta leader, which may itself be
    // re-elected after a kill: retry as an owner would.
    auto r = (*log)->ReadPartition(p, 0);
    for (int attempt = 0; !r.ok() && attempt < 10; ++attempt) r = (*log)->ReadPartition(p, 0);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    LogEntry e;
    uint64_t last = 0;
    while (last < max_acked && (*r)->Next(&e, 1000) == PartitionReader::Outcome::kRecord) {
      EXPECT_TRUE(e.malformed.ok()) << e.malformed.ToString();
      EXPECT_GT(e.sequence, last);
      last = e.sequence;
      found[std::string(e.msg_id)].push_back(e.sequence);
    }
    ASSERT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
  }
  size_t lost = 0, misplaced = 0;
  for (const auto& [id, seq] : acked) {
    auto it = found.find(id);
    if (it == found.end()) {
      ++lost;
    } else if (it->second != std::vector<uint64_t>{seq}) {
      ++misplaced;
    }
  }
  EXPECT_EQ(lost, 0u) << "acknowledged records missing from the log";
  EXPECT_EQ(misplaced, 0u) << "acknowledged records stored twice or at another sequence";
  for (const auto& [id, seqs] : found) EXPECT_EQ(seqs.size(), 1u) << id << " stored " << seqs.size() << " times";
}

TEST(JetStreamFaultTest, KillNineOfLeaderThenOfNewLeaderAfterRejoinLosesNoAckedRecord) {
  test::NatsCluster cluster(3);
  ASSERT_TRUE(cluster.status().ok()) << cluster.status().ToString();
  JetStreamLogOptions options;
  options.partitions = kPartitions;
  options.replicas = 3;
  auto conn = NatsConnection::Connect(cluster.ClientOptions());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto log = JetStreamLog::Open(conn->get(), options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE(cluster.WaitStreamCurrent(options.stream, 3, 20000).ok());

  Publisher publisher(log->get());
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 20000)) << publisher.failure();

  // Phase 1: kill -9 of the stream's leader while publishing.
  const int first = cluster.IndexOf(cluster.StreamLeader(options.stream));
  ASSERT_GE(first, 0);
  cluster.Kill(first);
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 30000)) << "publishing did not continue: " << publisher.failure();
  ExpectEveryAckedRecordReadable(&cluster, options, publisher.Acked());

  // The killed server rejoins and catches up.
  ASSERT_TRUE(cluster.Restart(first).ok());
  ASSERT_TRUE(cluster.WaitStreamCurrent(options.stream, 3, 30000).ok());
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 20000)) << publisher.failure();

  // Phase 2: kill -9 of the (new) leader — a different server.
  int second = cluster.IndexOf(cluster.StreamLeader(options.stream));
  if (second < 0 || second == first) second = (first + 1) % 3;
  cluster.Kill(second);
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 30000)) << "publishing did not continue: " << publisher.failure();
  publisher.Stop();
  ASSERT_TRUE(publisher.failure().empty()) << publisher.failure();
  ExpectEveryAckedRecordReadable(&cluster, options, publisher.Acked());
  // The first killed server holds the records acknowledged while it was down, too.
  EXPECT_TRUE(cluster.running(first));
  std::printf("acked %llu records, %llu publish retries across two leader kills\n",
              static_cast<unsigned long long>(publisher.acked()), static_cast<unsigned long long>(publisher.retries()));
}

}  // namespace
}  // namespace ordersync
