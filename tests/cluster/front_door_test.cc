// ClusterFrontDoor behind the real ingresses against a real nats-server
// (tests/cluster/nats_cluster.h, one server, stream R1: replication is not the point here;
// jetstream_fault_test covers it): a ZeroMQ producer's batch is answered Accepted
// ("logged") once JetStream stored each event once, on its partition's subject, as the
// one-item LogRecord a worker would log; a resend stores nothing new; with the server
// killed nothing is answered Accepted, and after its restart a resend is stored once;
// malformed frames are rejected and quarantined and never published; the HTTP ingress
// answers Accepted through the front door too. Submit directly: Busy with the retry hint
// while too many publishes await their ack; the master-data verdict of an OrderAccepted
// recorded as the worker's gate decides it, from the master data in force.
#include "adapters/cluster/front_door.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "adapters/http/http_ingress.h"
#include "adapters/ingress/ack_encoder.h"
#include "adapters/ingress/ingress_server.h"
#include "adapters/ingress/quarantine_store.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/hash.h"
#include "engine/log_record.h"
#include "tests/cluster/nats_cluster.h"
#include "tests/support/ingress_harness.h"

namespace ordersync {
namespace {

using testing::AckResult;
using testing::Frame;
using testing::TestProducer;

constexpr uint32_t kPartitions = 8;
constexpr int kAccepted = static_cast<int>(IngressVerdict::kAccepted);
constexpr int kRejected = static_cast<int>(IngressVerdict::kRejected);

std::vector<LineSpec> Lines() { return {LineSpec{1, "SKU-1", 5, "EA", 100}}; }

// One stored ev message, decoded.
struct Stored {
  uint32_t partition = 0;
  std::string msg_id;
  std::string envelope;  // the event item's envelope
  Status malformed;
};

class FrontDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.status().ok()) << cluster_.status().ToString();
    NatsOptions no = cluster_.ClientOptions();
    no.request_timeout_ms = 1000;  // a publish to a dead server is answered within ~1 s
    auto conn = NatsConnection::Connect(no);
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    conn_ = std::move(conn).value();
    JetStreamLogOptions lo;
    lo.partitions = kPartitions;
    lo.replicas = 1;
    auto log = JetStreamLog::Open(conn_.get(), lo);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    auto door = ClusterFrontDoor::Create(log_.get(), ClusterFrontDoorOptions{});
    ASSERT_TRUE(door.ok()) << door.status().ToString();
    door_ = std::move(door).value();

    StorageOptions so;
    so.data_dir = dir_.path() + "/store";
    auto store = RocksDbStore::Open(so);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto ingress = IngressServer::Start(testing::TestIngressOptions(), ValidatorOptions{}, door_.get(), store_.get());
    ASSERT_TRUE(ingress.ok()) << ingress.status().ToString();
    ingress_ = std::move(ingress).value();
  }

  void TearDown() override {
    if (ingress_) ingress_->Stop();  // before the front door: it answers what is in flight
    door_.reset();
  }

  // Every ev message of every partition, read until none arrives for 300 ms.
  std::vector<Stored> ReadLog() {
    std::vector<Stored> out;
    for (uint32_t p = 0; p < kPartitions; ++p) {
      auto r = log_->ReadPartition(p, 0);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return out;
      LogEntry e;
      while ((*r)->Next(&e, 300) == PartitionReader::Outcome::kRecord) {
        Stored s;
        s.partition = e.partition;
        s.msg_id = std::string(e.msg_id);
        s.malformed = e.malformed;
        if (e.kind != LogSubjectKind::kEvent) s.malformed = Status::Corruption("not an ev subject");
        if (s.malformed.ok()) s.malformed = ValidateLogRecord(LogSubjectKind::kEvent, p, e.data);
        LogRecordReader reader;
        LogItem item;
        if (reader.Open(e.data).ok() && reader.Next(&item)) s.envelope = std::string(item.bytes);
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  // Sends `frames` until no event is answered Busy any more (the producer's job), for at
  // most `limit`. Returns the last answers.
  std::vector<AckResult> SendUntilAnswered(TestProducer& producer, const std::vector<std::string>& frames,
                                           std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    std::vector<AckResult> last;
    while (std::chrono::steady_clock::now() < end) {
      auto results = producer.SendBatch(frames, std::chrono::seconds(10));
      if (results.has_value()) {
        last = *results;
        bool busy = false;
        for (const AckResult& r : last) busy |= r.status == static_cast<int>(IngressVerdict::kBusy);
        if (!busy) return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return last;
  }

  test::NatsCluster cluster_{1};
  testing::TempDir dir_;
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> log_;
  std::unique_ptr<ClusterFrontDoor> door_;
  std::unique_ptr<RocksDbStore> store_;
  std::unique_ptr<IngressServer> ingress_;
  zmq::context_t context_{1};
};

std::vector<std::string> SixEvents(const std::string& tag) {
  std::vector<std::string> frames;
  for (int i = 0; i < 6; ++i) {
    const std::string order = "SO-" + tag + "-" + std::to_string(i);
    frames.push_back(Frame(testing::Accepted(order, "ev-" + tag + "-" + std::to_string(i), Lines())));
  }
  return frames;
}

TEST_F(FrontDoorTest, BatchIsAcceptedOnceLoggedAndEachEventIsStoredOnceOnItsPartition) {
  TestProducer producer(context_, ingress_->ack_endpoint());
  const std::vector<std::string> frames = SixEvents("a");
  auto results = producer.SendBatch(frames);
  ASSERT_TRUE(results.has_value());
  ASSERT_EQ(results->size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ((*results)[i].status, kAccepted) << (*results)[i].reason;
    EXPECT_EQ((*results)[i].reason, "logged");
    EXPECT_EQ((*results)[i].event_id, "ev-a-" + std::to_string(i));
  }

  // Acknowledged means in the log: each event once, on its partition, as a worker's record.
  const std::vector<Stored> stored = ReadLog();
  ASSERT_EQ(stored.size(), frames.size());
  std::map<std::string, const Stored*> by_id;
  for (const Stored& s : stored) by_id[s.msg_id] = &s;
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::string id = "ev-a-" + std::to_string(i);
    ASSERT_EQ(by_id.count(id), 1u) << id;
    const Stored& s = *by_id[id];
    EXPECT_TRUE(s.malformed.ok()) << s.malformed.ToString();
    EXPECT_EQ(s.partition, PartitionOf("SO-a-" + std::to_string(i), kPartitions));
    EXPECT_EQ(s.envelope, frames[i]);
  }
  EXPECT_EQ(door_->Stats().published, frames.size());
  EXPECT_EQ(door_->Stats().logged, frames.size());

  // A resend of the same event ids (e.g. a lost answer): Accepted again, nothing new stored.
  auto again = producer.SendBatch(frames);
  ASSERT_TRUE(again.has_value());
  for (const AckResult& r : *again) {
    EXPECT_EQ(r.status, kAccepted) << r.reason;
    EXPECT_EQ(r.reason, "logged:already_in_log");
  }
  EXPECT_EQ(ReadLog().size(), frames.size());
  EXPECT_EQ(door_->Stats().already_logged, frames.size());
}

TEST_F(FrontDoorTest, NothingIsAcceptedWhileTheServerIsDownAndAResendAfterItsRestartIsStoredOnce) {
  TestProducer producer(context_, ingress_->ack_endpoint());
  const std::vector<std::string> frames = SixEvents("b");
  cluster_.Kill(0);
  auto results = producer.SendBatch(frames, std::chrono::seconds(20));
  ASSERT_TRUE(results.has_value());
  for (const AckResult& r : *results) {
    EXPECT_EQ(r.status, static_cast<int>(IngressVerdict::kBusy)) << r.reason;  // resend later; never Accepted
    EXPECT_THAT(r.reason, ::testing::AnyOf("store_error", "engine_busy", "engine_unavailable"));
    EXPECT_GT(r.retry_after_ms, 0u);
  }
  EXPECT_GT(door_->Stats().failed + door_->Stats().busy + door_->Stats().unavailable, 0u);

  ASSERT_TRUE(cluster_.Restart(0).ok());
  ASSERT_TRUE(cluster_.WaitJetStreamReady(20000).ok());
  // The producer resends what was not acknowledged until it is.
  const std::vector<AckResult> answers = SendUntilAnswered(producer, frames, std::chrono::seconds(30));
  ASSERT_EQ(answers.size(), frames.size());
  for (const AckResult& r : answers) EXPECT_EQ(r.status, kAccepted) << r.reason;

  // Once each, even though nats.c may have delivered the first attempts after the
  // reconnect (JetStream's duplicate window drops the resend then).
  std::map<std::string, int> count;
  for (const Stored& s : ReadLog()) {
    EXPECT_TRUE(s.malformed.ok()) << s.malformed.ToString();
    ++count[s.msg_id];
  }
  ASSERT_EQ(count.size(), frames.size());
  for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << id;
}

// Collects the front door's reports (on nats.c threads).
class CollectingSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t cookie, const EventReport& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    reports_.push_back({cookie, r.outcome, std::string(r.reason)});
    cv_.notify_all();
  }
  struct Report {
    uint64_t cookie;
    EventOutcome outcome;
    std::string reason;
  };
  std::vector<Report> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(15), [&] { return reports_.size() >= n; });
    return reports_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Report> reports_;
};

InboundEvent EventOf(const std::string& frame, ResultSink* sink, uint64_t cookie) {
  InboundEvent e;
  e.bytes = EventBuffer::Copy(frame);
  e.received_at_ns = 42;
  e.sink = sink;
  e.cookie = cookie;
  return e;
}

TEST_F(FrontDoorTest, SubmitAnswersBusyWithARetryHintWhileTooManyPublishesAwaitTheirAck) {
  ClusterFrontDoorOptions o;
  o.max_in_flight = 2;
  o.busy_retry_after_ms = 77;
  auto door = ClusterFrontDoor::Create(log_.get(), o);
  ASSERT_TRUE(door.ok()) << door.status().ToString();
  CollectingSink sink;
  cluster_.Kill(0);  // no ack comes: the first two publishes stay in flight until they time out
  uint32_t retry = 0;
  EXPECT_TRUE((*door)->Submit(EventOf(Frame(testing::Accepted("SO-e-1", "ev-e-1", Lines())), &sink, 1), &retry).ok());
  EXPECT_TRUE((*door)->Submit(EventOf(Frame(testing::Accepted("SO-e-2", "ev-e-2", Lines())), &sink, 2), &retry).ok());
  const Status busy = (*door)->Submit(EventOf(Frame(testing::Accepted("SO-e-3", "ev-e-3", Lines())), &sink, 3), &retry);
  EXPECT_TRUE(busy.IsBusy()) << busy.ToString();
  EXPECT_EQ(retry, 77u);
  // Each accepted Submit gets exactly one report: not durable, resend.
  const auto reports = sink.WaitFor(2);
  ASSERT_EQ(reports.size(), 2u);
  for (const auto& r : reports) {
    EXPECT_EQ(r.outcome, EventOutcome::kStoreError);
    EXPECT_FALSE(r.reason.empty());
  }
  EXPECT_TRUE((*door)->Stop(5000).ok());  // every publish answered (counted after its report)
  const ClusterFrontDoorStats stats = (*door)->Stats();
  EXPECT_EQ(stats.published, 2u);
  EXPECT_EQ(stats.busy, 1u);
  EXPECT_EQ(stats.failed, 2u);
  EXPECT_EQ(stats.in_flight, 0u);
}

TEST_F(FrontDoorTest, RecordCarriesTheMasterDataVerdictTheWorkersGateWouldDecide) {
  ClusterFrontDoorOptions o;
  o.master_data.customer = true;  // no master data loaded: every customer is unknown
  auto door = ClusterFrontDoor::Create(log_.get(), o);
  ASSERT_TRUE(door.ok()) << door.status().ToString();
  CollectingSink sink;
  const std::string accepted = Frame(testing::Accepted("SO-f-1", "ev-f-1", Lines()));
  const std::string reserved = Frame(testing::Reserved("SO-f-1", "ev-f-2", "RES-1", Lines()));
  ASSERT_TRUE((*door)->Submit(EventOf(accepted, &sink, 1), nullptr).ok());
  ASSERT_TRUE((*door)->Submit(EventOf(reserved, &sink, 2), nullptr).ok());
  const auto reports = sink.WaitFor(2);
  ASSERT_EQ(reports.size(), 2u);
  for (const auto& r : reports) EXPECT_EQ(r.outcome, EventOutcome::kLogged) << r.reason;

  auto reader = log_->ReadPartition(PartitionOf("SO-f-1", kPartitions), 0);
  ASSERT_TRUE(reader.ok());
  std::map<std::string, LogItem> items;
  std::vector<std::string> keep;  // the items' views point into these
  LogEntry e;
  while ((*reader)->Next(&e, 300) == PartitionReader::Outcome::kRecord) {
    keep.emplace_back(e.data);
    LogRecordReader r;
    ASSERT_TRUE(r.Open(keep.back()).ok());
    EXPECT_EQ(r.item_count(), 1u);
    LogItem item;
    ASSERT_TRUE(r.Next(&item));
    items[std::string(e.msg_id)] = item;
  }
  ASSERT_EQ(items.size(), 2u);
  const LogItem& a = items["ev-f-1"];
  EXPECT_EQ(a.received_at_ns, 42);
  ASSERT_TRUE(a.has_verdict);
  EXPECT_EQ(a.verdict_kind, MasterDataVerdict::Kind::kException);
  EXPECT_THAT(std::string(a.verdict_reason), ::testing::StartsWith("unknown_customer:"));
  EXPECT_FALSE(items["ev-f-2"].has_verdict);  // only an OrderAccepted is checked
}

// Master data held in memory and swapped whole, as the loader's store does on a reload.
class SwappableMasterData final : public MasterDataSource {
 public:
  void Load(std::shared_ptr<const MasterDataSnapshot> s) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(s);
    generation_.fetch_add(1);
  }
  uint64_t generation() const override { return generation_.load(); }
  std::shared_ptr<const MasterDataSnapshot> Current() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const MasterDataSnapshot> current_ = std::make_shared<const MasterDataSnapshot>();
  std::atomic<uint64_t> generation_{1};
};

TEST_F(FrontDoorTest, VerdictFollowsTheMasterDataInForceWhenTheEventArrives) {
  SwappableMasterData source;
  source.Load(std::make_shared<const MasterDataSnapshot>("md-1", std::vector<CustomerMaster>{{"C-1", "", "", true, true}},
                                                         std::vector<ItemMaster>{}, std::vector<PriceMaster>{}));
  ClusterFrontDoorOptions o;
  o.master_data.customer = true;
  o.master_data.credit_hold = true;
  auto door = ClusterFrontDoor::Create(log_.get(), o, &source);
  ASSERT_TRUE(door.ok()) << door.status().ToString();
  CollectingSink sink;
  ASSERT_TRUE((*door)->Submit(EventOf(Frame(testing::Accepted("SO-g-1", "ev-g-1", Lines())), &sink, 1), nullptr).ok());
  ASSERT_EQ(sink.WaitFor(1).size(), 1u);
  // A reload clears the hold: the next order is checked against it.
  source.Load(std::make_shared<const MasterDataSnapshot>("md-2", std::vector<CustomerMaster>{{"C-1", "", "", false, true}},
                                                         std::vector<ItemMaster>{}, std::vector<PriceMaster>{}));
  ASSERT_TRUE((*door)->Submit(EventOf(Frame(testing::Accepted("SO-g-1", "ev-g-2", Lines())), &sink, 2), nullptr).ok());
  ASSERT_EQ(sink.WaitFor(2).size(), 2u);

  auto reader = log_->ReadPartition(PartitionOf("SO-g-1", kPartitions), 0);
  ASSERT_TRUE(reader.ok());
  std::vector<std::string> verdicts;
  LogEntry e;
  while ((*reader)->Next(&e, 300) == PartitionReader::Outcome::kRecord) {
    LogRecordReader r;
    LogItem item;
    ASSERT_TRUE(r.Open(e.data).ok() && r.Next(&item));
    ASSERT_TRUE(item.has_verdict) << e.msg_id;
    verdicts.push_back(std::string(e.msg_id) + " " + std::to_string(static_cast<int>(item.verdict_kind)) + " " +
                       std::string(item.verdict_version));
  }
  EXPECT_THAT(verdicts, ::testing::ElementsAre("ev-g-1 3 md-1",    // kHold: on credit hold
                                               "ev-g-2 1 md-2"));  // kPass
}

TEST_F(FrontDoorTest, MalformedFramesAreRejectedAndQuarantinedAndNeverPublished) {
  TestProducer producer(context_, ingress_->ack_endpoint());
  const std::string garbage(64, 'x');  // longer than a prefix, not an Envelope
  const std::string good = Frame(testing::Accepted("SO-c-1", "ev-c-1", Lines()));
  auto results = producer.SendBatch({garbage, good});
  ASSERT_TRUE(results.has_value());
  ASSERT_EQ(results->size(), 2u);
  EXPECT_EQ((*results)[0].status, kRejected);
  EXPECT_FALSE((*results)[0].reason.empty());
  EXPECT_EQ((*results)[1].status, kAccepted) << (*results)[1].reason;

  std::vector<QuarantineEntry> quarantined;
  ASSERT_TRUE(ListQuarantine(store_.get(), 0, 0, &quarantined).ok());
  ASSERT_EQ(quarantined.size(), 1u);
  const std::vector<Stored> stored = ReadLog();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].msg_id, "ev-c-1");
  EXPECT_EQ(door_->Stats().published, 1u);
}

TEST_F(FrontDoorTest, HttpIngressAnswersAcceptedOnceLogged) {
  HttpIngressOptions ho;
  ho.enabled = true;
  ho.listen = "127.0.0.1:0";
  ho.threads = 2;
  auto http = HttpIngress::Start(ho, testing::TestIngressOptions(), ValidatorOptions{}, door_.get(), nullptr);
  ASSERT_TRUE(http.ok()) << http.status().ToString();
  // As in docs/openapi.yaml's example.
  const nlohmann::json body = nlohmann::json::parse(R"([{
      "event_id": "ev-d-1", "order_id": "SO-d-1", "source": "SHOP-EU", "company_code": "1000",
      "occurred_at_ns": 1750000000000000000, "payload_type": "OrderAccepted",
      "payload": {"customer_id": "C-1042", "currency": "EUR",
                  "lines": [{"line_no": 1, "sku": "SKU-RED-M", "qty": 2, "uom": "EA", "unit_price_minor": 1999}]}}])");

  httplib::Client client((*http)->url());
  auto res = client.Post("/v1/events", body.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  const nlohmann::json answer = nlohmann::json::parse(res->body);
  ASSERT_EQ(answer["results"].size(), 1u);
  EXPECT_EQ(answer["results"][0]["event_id"], "ev-d-1");
  EXPECT_EQ(answer["results"][0]["status"], "Accepted");
  EXPECT_EQ(answer["results"][0]["reason"], "logged");
  (*http)->Stop();

  const std::vector<Stored> stored = ReadLog();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].msg_id, "ev-d-1");
  EXPECT_TRUE(stored[0].malformed.ok()) << stored[0].malformed.ToString();
  EXPECT_EQ(stored[0].partition, PartitionOf("SO-d-1", kPartitions));
}

}  // namespace
}  // namespace ordersync
