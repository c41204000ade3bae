// Acked means durable, with servers dying: three real nats-server processes (R3), two
// publishers that keep publishing events — one synchronous, one asynchronous as the front
// door publishes — re-publishing with the same Nats-Msg-Id until acked; kill -9 of the
// stream's leader (in the suite); its restart, then kill -9 of the new leader (opt-in, see
// below). After each kill: publishing goes on, and every acknowledged record is readable
// exactly once at the sequence its ack reported.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <map>
#include <memory>
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

// The front door's way: asynchronous publishes, a failed completion (timeout, no leader)
// re-published with the same id by the publishing thread until it is acknowledged.
class AsyncPublisher {
 public:
  AsyncPublisher(test::NatsCluster* cluster, const JetStreamLogOptions& options) {
    NatsOptions no = cluster->ClientOptions();
    no.max_async_pending = 64;
    auto conn = NatsConnection::Connect(no);
    if (!conn.ok()) {
      failure_ = conn.status().ToString();
      return;
    }
    conn_ = std::move(conn).value();
    auto log = JetStreamLog::Open(conn_.get(), options);
    if (!log.ok()) {
      failure_ = log.status().ToString();
      return;
    }
    log_ = std::move(log).value();
    auto pub = AsyncEventPublisher::Create(log_.get(), &AsyncPublisher::OnDone, this);
    if (!pub.ok()) {
      failure_ = pub.status().ToString();
      return;
    }
    pub_ = std::move(pub).value();
    thread_ = std::thread([this] { Run(); });
  }
  ~AsyncPublisher() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Stops publishing new events and re-publishes failed ones until all are acknowledged.
  bool Drain(int64_t timeout_ms) {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!PublishOne(/*new_ok=*/false) && pub_->in_flight() == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::map<std::string, uint64_t> Acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  uint64_t failed_completions() const { return failed_completions_.load(); }
  const std::string& failure() const { return failure_; }

 private:
  static void OnDone(void* closure, const AsyncEventPublisher::Completion& c) {
    auto* self = static_cast<AsyncPublisher*>(closure);
    std::lock_guard<std::mutex> lock(self->mu_);
    if (c.status.ok()) {
      self->acked_[std::string(c.event_id)] = c.ack.sequence;
    } else {
      self->failed_completions_.fetch_add(1);
      self->retry_.emplace_back(c.event_id);
    }
  }
  // Publishes a failed one again, or (new_ok) the next new one. False if nothing to do.
  bool PublishOne(bool new_ok) {
    std::string id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!retry_.empty()) {
        id = retry_.back();
        retry_.pop_back();
      }
    }
    if (id.empty()) {
      if (!new_ok) return false;
      id = "async-fault-" + std::to_string(next_++);
    }
    const uint64_t n = std::stoull(id.substr(id.rfind('-') + 1));
    const uint32_t p = static_cast<uint32_t>(n % kPartitions);  // as PartitionOfId
    if (!pub_->Publish(p, id, EventRecord(p, n)).ok()) {  // Busy or disconnected: later
      std::lock_guard<std::mutex> lock(mu_);
      retry_.push_back(id);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  void Run() {
    while (!stop_) {
      PublishOne(/*new_ok=*/true);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> log_;
  std::unique_ptr<AsyncEventPublisher> pub_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> failed_completions_{0};
  uint64_t next_ = 0;
  std::mutex mu_;
  std::map<std::string, uint64_t> acked_;
  std::vector<std::string> retry_;
  std::string failure_;
  std::thread thread_;
};

// The partition an id was published to (both publishers use the id's number modulo
// kPartitions).
uint32_t PartitionOfId(const std::string& id) {
  return static_cast<uint32_t>(std::stoull(id.substr(id.rfind('-') + 1)) % kPartitions);
}

// Every acked id is in the log exactly once, at its acked sequence. Reads each partition
// up to its highest acked sequence (the publisher may still be adding records), waiting as
// long as records keep coming within the deadline: right after a kill the ordered consumer
// may pause while it is re-created on the new leader.
void ExpectEveryAckedRecordReadable(test::NatsCluster* cluster, const JetStreamLogOptions& options,
                                    const std::map<std::string, uint64_t>& acked) {
  std::vector<uint64_t> max_acked(kPartitions, 0);
  for (const auto& [id, seq] : acked) max_acked[PartitionOfId(id)] = std::max(max_acked[PartitionOfId(id)], seq);
  auto conn = NatsConnection::Connect(cluster->ClientOptions());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto log = JetStreamLog::Open(conn->get(), options);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::map<std::string, std::vector<uint64_t>> found;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    // Creating the reader's consumer needs the JetStream meta leader, which may itself be
    // re-elected after a kill: retry as an owner would.
    auto r = (*log)->ReadPartition(p, 0);
    for (int attempt = 0; !r.ok() && attempt < 20; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      r = (*log)->ReadPartition(p, 0);
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    LogEntry e;
    uint64_t last = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (last < max_acked[p] && std::chrono::steady_clock::now() < deadline) {
      const auto outcome = (*r)->Next(&e, 1000);
      if (outcome == PartitionReader::Outcome::kError) break;
      if (outcome == PartitionReader::Outcome::kNothingNow) continue;
      EXPECT_TRUE(e.malformed.ok()) << e.malformed.ToString();
      EXPECT_GT(e.sequence, last);
      last = e.sequence;
      found[std::string(e.msg_id)].push_back(e.sequence);
    }
    ASSERT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
    EXPECT_GE(last, max_acked[p]) << "partition " << p << " read back only up to sequence " << last;
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

// Three servers, the stream (R3) current on all of them, one connection.
class JetStreamFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.status().ok()) << cluster_.status().ToString();
    options_.partitions = kPartitions;
    options_.replicas = 3;
    auto conn = NatsConnection::Connect(cluster_.ClientOptions());
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    auto log = JetStreamLog::Open(conn_.get(), options_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    ASSERT_TRUE(cluster_.WaitStreamCurrent(options_.stream, 3, 20000).ok());
  }

  test::NatsCluster cluster_{3};
  JetStreamLogOptions options_;
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> log_;
};

TEST_F(JetStreamFaultTest, KillNineOfLeaderWhilePublishingLosesNoAckedRecord) {
  Publisher publisher(log_.get());
  AsyncPublisher async_publisher(&cluster_, options_);
  ASSERT_TRUE(async_publisher.failure().empty()) << async_publisher.failure();
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 20000)) << publisher.failure();
  const int leader = cluster_.IndexOf(cluster_.StreamLeader(options_.stream));
  ASSERT_GE(leader, 0);
  cluster_.Kill(leader);
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 60000)) << "publishing did not continue: " << publisher.failure();
  publisher.Stop();
  ASSERT_TRUE(publisher.failure().empty()) << publisher.failure();
  ASSERT_TRUE(async_publisher.Drain(30000)) << "asynchronous publishes not all acknowledged";
  auto acked = publisher.Acked();
  const auto async_acked = async_publisher.Acked();
  acked.insert(async_acked.begin(), async_acked.end());
  ExpectEveryAckedRecordReadable(&cluster_, options_, acked);
}

// Opt-in (not in the suite): jetstream_fault_test --gtest_also_run_disabled_tests.
// With Debian's nats-server 2.9.10 this intermittently fails: after the killed leader
// rejoined and the new leader is killed too, the stream's copies can hold different
// messages at the same sequences, so acknowledged records are found at other sequences
// or not at all (seen under load; bench/cluster-faults nats_kill sees the same —
// docs/cluster.md "Cluster fault suite"). Kept as the reproduction.
TEST_F(JetStreamFaultTest, DISABLED_KillNineOfLeaderThenOfNewLeaderAfterRejoinLosesNoAckedRecord) {
  Publisher publisher(log_.get());
  AsyncPublisher async_publisher(&cluster_, options_);
  ASSERT_TRUE(async_publisher.failure().empty()) << async_publisher.failure();
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 20000)) << publisher.failure();

  // Phase 1: kill -9 of the stream's leader while publishing.
  const int first = cluster_.IndexOf(cluster_.StreamLeader(options_.stream));
  ASSERT_GE(first, 0);
  cluster_.Kill(first);
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 60000)) << "publishing did not continue: " << publisher.failure();
  {
    auto acked = publisher.Acked();
    const auto async_acked = async_publisher.Acked();
    acked.insert(async_acked.begin(), async_acked.end());
    ExpectEveryAckedRecordReadable(&cluster_, options_, acked);
  }

  // The killed server rejoins and catches up.
  ASSERT_TRUE(cluster_.Restart(first).ok());
  ASSERT_TRUE(cluster_.WaitStreamCurrent(options_.stream, 3, 60000).ok());
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 20000)) << publisher.failure();

  // Phase 2: kill -9 of the (new) leader — a different server.
  int second = cluster_.IndexOf(cluster_.StreamLeader(options_.stream));
  if (second < 0 || second == first) second = (first + 1) % 3;
  cluster_.Kill(second);
  ASSERT_TRUE(publisher.WaitMoreAcked(100, 60000)) << "publishing did not continue: " << publisher.failure();
  publisher.Stop();
  ASSERT_TRUE(publisher.failure().empty()) << publisher.failure();
  ASSERT_TRUE(async_publisher.Drain(30000)) << "asynchronous publishes not all acknowledged";
  auto acked = publisher.Acked();
  const auto async_acked = async_publisher.Acked();
  EXPECT_GT(async_acked.size(), 100u);
  acked.insert(async_acked.begin(), async_acked.end());
  ExpectEveryAckedRecordReadable(&cluster_, options_, acked);
  // The first killed server holds the records acknowledged while it was down, too.
  EXPECT_TRUE(cluster_.running(first));
  std::printf("acked %llu sync + %zu async records; %llu sync retries, %llu failed async completions re-published\n",
              static_cast<unsigned long long>(publisher.acked()), async_acked.size(),
              static_cast<unsigned long long>(publisher.retries()),
              static_cast<unsigned long long>(async_publisher.failed_completions()));
}

}  // namespace
}  // namespace ordersync
