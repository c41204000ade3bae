// IngressServer on real sockets (loopback, ephemeral ports) in front of a real engine on
// real RocksDB: acknowledgements, rejections, duplicates, throttling, back-pressure,
// SameDay priority, framing, the pull endpoint, the quarantine and CURVE.
#include <filesystem>
#include <future>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/ingress/ack_encoder.h"
#include "adapters/ingress/curve_keys.h"
#include "adapters/ingress/quarantine_store.h"
#include "tests/support/ingress_harness.h"

namespace ordersync {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::AckResult;
using testing::Frame;
using testing::IngressHarness;
using testing::TestIngressOptions;
using testing::TestProducer;

constexpr int kAccepted = static_cast<int>(IngressVerdict::kAccepted);
constexpr int kDuplicate = static_cast<int>(IngressVerdict::kDuplicate);
constexpr int kRejected = static_cast<int>(IngressVerdict::kRejected);
constexpr int kThrottled = static_cast<int>(IngressVerdict::kThrottled);
constexpr int kBusy = static_cast<int>(IngressVerdict::kBusy);

std::vector<LineSpec> Lines() { return {LineSpec{1, "SKU-1", 5, "EA", 100}, LineSpec{2, "SKU-2", 1, "EA", 250}}; }

std::vector<int> Statuses(const std::vector<AckResult>& results) {
  std::vector<int> out;
  for (const AckResult& r : results) out.push_back(r.status);
  return out;
}

// Waits (bounded) until `done` holds; the ingress works asynchronously to the test.
template <typename Fn>
bool Eventually(Fn done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

std::vector<QuarantineEntry> Quarantine(IngressHarness& h) {
  std::vector<QuarantineEntry> out;
  EXPECT_TRUE(ListQuarantine(&h.engine().store(), 0, 0, &out).ok());
  return out;
}

TEST(IngressServerTest, BatchIsAcknowledgedInFrameOrderOnceDurable) {
  IngressHarness h;
  TestProducer producer(h.context(), h.server().ack_endpoint());
  auto results = producer.SendBatch({Frame(testing::Accepted("SO-1", "e1", Lines())),
                                     Frame(testing::Reserved("SO-1", "e2", "RES-1", Lines())),
                                     Frame(testing::Picked("SO-1", "e3", "PICK-1", Lines())),
                                     Frame(testing::Accepted("SO-2", "e4", Lines()))});
  ASSERT_TRUE(results.has_value());
  ASSERT_EQ(results->size(), 4u);
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted, kAccepted, kAccepted, kAccepted));
  EXPECT_EQ((*results)[0].event_id, "e1");
  EXPECT_EQ((*results)[1].event_id, "e2");
  EXPECT_EQ((*results)[2].event_id, "e3");
  EXPECT_EQ((*results)[3].event_id, "e4");
  for (const AckResult& r : *results) EXPECT_EQ(r.reason, "");
  // Acknowledged means durable: the state is in the store now.
  auto order = h.engine().Order("SO-1");
  ASSERT_TRUE(order.has_value());
  EXPECT_TRUE(h.engine().Order("SO-2").has_value());
  EXPECT_EQ(h.engine().OutboxOf("SO-1").size(), 2u);  // CreateSalesOrder, ConfirmAllocation
  EXPECT_TRUE(Eventually([&] { return h.server().Stats().acks_sent == 1; }));  // counted after the send
  EXPECT_EQ(h.server().Stats().accepted, 4u);
  EXPECT_EQ(h.server().Stats().ack_latency_ns.count, 1u);  // one reply, one latency sample
}

TEST(IngressServerTest, BadFrameIsRejectedAloneWithItsReasonAndQuarantined) {
  IngressHarness h;
  TestProducer producer(h.context(), h.server().ack_endpoint());
  EnvelopeSpec no_order = testing::Accepted("", "e-bad", Lines());
  const std::string whole = Frame(testing::Accepted("SO-3", "e3", Lines()));
  auto results = producer.SendBatch({Frame(testing::Accepted("SO-1", "e1", Lines())), Frame(no_order),
                                     std::string("this is not a flatbuffer at all"),
                                     whole.substr(0, whole.size() / 2),
                                     Frame(testing::Accepted("SO-2", "e2", Lines()))});
  ASSERT_TRUE(results.has_value());
  ASSERT_EQ(results->size(), 5u);
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted, kRejected, kRejected, kRejected, kAccepted));
  EXPECT_EQ((*results)[1].reason, "missing_field:order_id");
  EXPECT_EQ((*results)[1].event_id, "e-bad");  // readable: echoed
  EXPECT_EQ((*results)[2].reason, "wrong_file_identifier");
  EXPECT_EQ((*results)[2].event_id, "");       // unreadable: empty
  EXPECT_EQ((*results)[3].reason, "truncated_or_corrupt");
  EXPECT_EQ((*results)[3].event_id, "");
  EXPECT_FALSE(h.engine().Order("SO-3").has_value());
  EXPECT_TRUE(h.engine().Order("SO-1").has_value());
  EXPECT_TRUE(h.engine().Order("SO-2").has_value());

  const auto q = Quarantine(h);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].reason, "missing_field:order_id");
  EXPECT_EQ(q[0].endpoint, "ack");
  EXPECT_EQ(q[0].event_id, "e-bad");
  EXPECT_EQ(q[0].source, "SALES");
  EXPECT_EQ(q[0].frame_index, 1u);
  EXPECT_EQ(q[0].frame, Frame(no_order));
  EXPECT_FALSE(q[0].routing_id.empty());
  EXPECT_THAT(q[0].peer_address, HasSubstr("127.0.0.1"));
  EXPECT_FALSE(q[0].description.empty());
  EXPECT_EQ(q[1].reason, "wrong_file_identifier");
  EXPECT_EQ(q[1].frame, "this is not a flatbuffer at all");
  EXPECT_EQ(q[1].source, "");
  EXPECT_EQ(q[2].reason, "truncated_or_corrupt");
  EXPECT_EQ(q[2].frame_index, 3u);
  const IngressStats stats = h.server().Stats();
  EXPECT_EQ(stats.quarantined, 3u);
  // Counted by reason, without the field: the label set stays fixed.
  EXPECT_EQ(stats.rejected, 3u);
  EXPECT_EQ(stats.rejected_by_reason[RejectReasonIndex(RejectCode::kMissingField)], 1u);
  EXPECT_EQ(stats.rejected_by_reason[RejectReasonIndex(RejectCode::kWrongFileIdentifier)], 1u);
  EXPECT_EQ(stats.rejected_by_reason[RejectReasonIndex(RejectCode::kTruncatedOrCorrupt)], 1u);
  EXPECT_EQ(stats.rejected_by_reason[kRejectReasonBatchTooLarge], 0u);
}

TEST(IngressServerTest, ResentBatchIsAnsweredDuplicate) {
  IngressHarness h;
  TestProducer producer(h.context(), h.server().ack_endpoint());
  const std::vector<std::string> batch = {Frame(testing::Accepted("SO-1", "e1", Lines())),
                                          Frame(testing::Reserved("SO-1", "e2", "RES-1", Lines()))};
  ASSERT_THAT(Statuses(*producer.SendBatch(batch)), ElementsAre(kAccepted, kAccepted));
  auto again = producer.SendBatch(batch);
  ASSERT_TRUE(again.has_value());
  EXPECT_THAT(Statuses(*again), ElementsAre(kDuplicate, kDuplicate));
  EXPECT_EQ((*again)[0].reason, "exact");
  // The same fact under a new event_id is a business duplicate.
  auto business = producer.SendBatch({Frame(testing::Reserved("SO-1", "e2-again", "RES-1", Lines()))});
  ASSERT_TRUE(business.has_value());
  EXPECT_THAT(Statuses(*business), ElementsAre(kDuplicate));
  EXPECT_EQ((*business)[0].reason, "business");
  EXPECT_EQ(h.engine().OutboxOf("SO-1").size(), 2u);  // nothing twice
}

TEST(IngressServerTest, ParkedAndExceptedEventsAreAcceptedWithTheirReason) {
  IngressHarness h;
  TestProducer producer(h.context(), h.server().ack_endpoint());
  auto parked = producer.SendBatch({Frame(testing::Picked("SO-9", "p1", "PICK-1", Lines()))});
  ASSERT_TRUE(parked.has_value());
  EXPECT_THAT(Statuses(*parked), ElementsAre(kAccepted));
  EXPECT_THAT((*parked)[0].reason, HasSubstr("parked:missing_prerequisite:"));
  // Reserving more than was ordered breaks a business rule: an exception, durable.
  auto excepted = producer.SendBatch({Frame(testing::Accepted("SO-8", "a1", {LineSpec{1, "SKU-1", 1, "EA", 1}})),
                                      Frame(testing::Reserved("SO-8", "r1", "RES-1", {LineSpec{1, "SKU-1", 9, "EA", 1}}))});
  ASSERT_TRUE(excepted.has_value());
  EXPECT_THAT(Statuses(*excepted), ElementsAre(kAccepted, kAccepted));
  EXPECT_THAT((*excepted)[1].reason, HasSubstr("exception:business_rule:"));
}

TEST(IngressServerTest, OverRateLimitIsThrottledWithRetryHintAndOtherSourcesPass) {
  IngressOptions o = TestIngressOptions();
  o.rate_limit.sources.push_back({"SALES", 1, 2});  // 1 event/s, 2 saved up
  IngressHarness h(o);
  TestProducer producer(h.context(), h.server().ack_endpoint());
  EnvelopeSpec other = testing::Accepted("SO-4", "e4", Lines());
  other.source = "WMS-WEST";
  auto results = producer.SendBatch({Frame(testing::Accepted("SO-1", "e1", Lines())),
                                     Frame(testing::Accepted("SO-2", "e2", Lines())),
                                     Frame(testing::Accepted("SO-3", "e3", Lines())), Frame(other)});
  ASSERT_TRUE(results.has_value());
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted, kAccepted, kThrottled, kAccepted));
  EXPECT_EQ((*results)[2].event_id, "e3");
  EXPECT_EQ((*results)[2].retry_after_ms, 1000u);  // the engine's ManualClock stands still
  EXPECT_FALSE(h.engine().Order("SO-3").has_value());
  // After the hinted wait the resend goes through.
  h.engine().clock().Advance(kNanosPerSecond);
  auto resent = producer.SendBatch({Frame(testing::Accepted("SO-3", "e3", Lines()))});
  ASSERT_TRUE(resent.has_value());
  EXPECT_THAT(Statuses(*resent), ElementsAre(kAccepted));
  EXPECT_EQ(h.server().Stats().throttled, 1u);
  using Labelled = std::pair<std::string, uint64_t>;
  EXPECT_THAT(h.server().Stats().throttled_by_source, ElementsAre(Labelled{"SALES", 1}, Labelled{"other", 0}));
}

TEST(IngressServerTest, ReloadedRateLimitsApplyOnTheSameConnection) {
  IngressHarness h;
  TestProducer producer(h.context(), h.server().ack_endpoint());
  ASSERT_THAT(Statuses(*producer.SendBatch({Frame(testing::Accepted("SO-1", "e1", Lines())),
                                            Frame(testing::Accepted("SO-2", "e2", Lines()))})),
              ElementsAre(kAccepted, kAccepted));
  RateLimitOptions limits;
  limits.global_events_per_s = 1;
  h.server().UpdateRateLimits(limits);
  ASSERT_TRUE(Eventually([&] { return h.server().Stats().rate_limit_reloads == 1; }));
  auto results = producer.SendBatch({Frame(testing::Accepted("SO-3", "e3", Lines())),
                                     Frame(testing::Accepted("SO-4", "e4", Lines()))});
  ASSERT_TRUE(results.has_value());
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted, kThrottled));
  h.server().UpdateRateLimits(RateLimitOptions{});  // lifted again
  ASSERT_TRUE(Eventually([&] { return h.server().Stats().rate_limit_reloads == 2; }));
  EXPECT_THAT(Statuses(*producer.SendBatch({Frame(testing::Accepted("SO-4", "e4", Lines()))})),
              ElementsAre(kAccepted));
}

TEST(IngressServerTest, BackPressureIsAnsweredBusyWithRetryHint) {
  IngressOptions o = TestIngressOptions();
  o.busy_retry_after_ms = 37;
  IngressHarness h(o);
  TestProducer producer(h.context(), h.server().ack_endpoint());
  h.engine().engine().SetTargetBlocked("erp", true);  // its outbox is "over the HWM"
  auto results = producer.SendBatch({Frame(testing::Accepted("SO-1", "e1", Lines()))});
  ASSERT_TRUE(results.has_value());
  EXPECT_THAT(Statuses(*results), ElementsAre(kBusy));
  EXPECT_FALSE(h.engine().Order("SO-1").has_value());
  EXPECT_EQ((*results)[0].retry_after_ms, 37u);
  EXPECT_EQ((*results)[0].event_id, "e1");
  EXPECT_EQ((*results)[0].reason, "engine_busy");
  h.engine().engine().SetTargetBlocked("erp", false);
  EXPECT_THAT(Statuses(*producer.SendBatch({Frame(testing::Accepted("SO-1", "e1", Lines()))})),
              ElementsAre(kAccepted));
}

// Holds a worker inside its group commit until released, so the partition's queue fills
// deterministically. (Tasks must not block in production; this one is a test's lever.)
class BlockingTask final : public PartitionTask {
 public:
  explicit BlockingTask(std::shared_future<void> release, std::promise<void>* started)
      : release_(std::move(release)), started_(started) {}
  void Run(PartitionContext&) override {
    started_->set_value();
    release_.wait();
  }
  void Done(const Status&) override {}

 private:
  std::shared_future<void> release_;
  std::promise<void>* started_;
};

TEST(IngressServerTest, SameDayEventIsAdmittedWhenStandardTrafficFilledThePartition) {
  EngineOptions eo = testing::TestEngineOptions();
  eo.partition_queue_capacity = 2;
  eo.priority_reserve = 2;
  IngressHarness h(TestIngressOptions(), eo);
  Engine& engine = h.engine().engine();
  // Four orders of one partition.
  std::vector<std::string> orders;
  const uint32_t p = engine.PartitionFor("SO-0");
  for (int i = 0; orders.size() < 4; ++i) {
    const std::string id = "SO-" + std::to_string(i);
    if (engine.PartitionFor(id) == p) orders.push_back(id);
  }
  std::promise<void> release, started;
  ASSERT_TRUE(engine.SubmitTask(p, std::make_unique<BlockingTask>(release.get_future().share(), &started)).ok());
  started.get_future().wait();

  TestProducer producer(h.context(), h.server().ack_endpoint());
  EnvelopeSpec urgent = testing::Accepted(orders[3], "urgent", Lines());
  urgent.priority = Priority::SameDay;
  const std::vector<std::string> batch = {Frame(testing::Accepted(orders[0], "s0", Lines())),
                                          Frame(testing::Accepted(orders[1], "s1", Lines())),
                                          Frame(testing::Accepted(orders[2], "s2", Lines())), Frame(urgent)};
  for (size_t i = 0; i < batch.size(); ++i) {
    producer.socket().send(zmq::buffer(batch[i]), i + 1 < batch.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  // Two Standard events fill the partition, the third is refused, the SameDay one uses
  // the reserve: three in the queue behind the blocked worker.
  ASSERT_TRUE(Eventually([&] { return engine.QueueDepth(p) == 3 && h.server().Stats().busy == 1; }));
  release.set_value();
  zmq::message_t reply;
  ASSERT_TRUE(producer.socket().recv(reply, zmq::recv_flags::none));
  auto results = testing::DecodeAck(reply.to_string());
  ASSERT_TRUE(results.has_value());
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted, kAccepted, kBusy, kAccepted));
  EXPECT_EQ((*results)[3].event_id, "urgent");
}

TEST(IngressServerTest, FramesBeyondMaxPerBatchAreRejectedInTheSameReply) {
  IngressOptions o = TestIngressOptions();
  o.max_frames_per_batch = 3;
  IngressHarness h(o);
  TestProducer producer(h.context(), h.server().ack_endpoint());
  std::vector<std::string> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(Frame(testing::Accepted("SO-" + std::to_string(i), "e" + std::to_string(i), Lines())));
  auto results = producer.SendBatch(batch);
  ASSERT_TRUE(results.has_value());
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted, kAccepted, kAccepted, kRejected, kRejected));
  EXPECT_EQ((*results)[3].reason, "batch_too_large");
  EXPECT_FALSE(h.engine().Order("SO-3").has_value());
  const auto q = Quarantine(h);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].reason, "batch_too_large");
  EXPECT_EQ(q[0].frame_index, 3u);
  EXPECT_EQ(h.server().Stats().rejected_by_reason[kRejectReasonBatchTooLarge], 2u);
}

TEST(IngressServerTest, ReplyEchoesRequestIdPrefixAndReqDelimiter) {
  IngressHarness h;
  TestProducer producer(h.context(), h.server().ack_endpoint());
  auto reply = producer.Roundtrip({"req-0007", "", Frame(testing::Accepted("SO-1", "e1", Lines()))});
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->size(), 3u);
  EXPECT_EQ((*reply)[0], "req-0007");
  EXPECT_EQ((*reply)[1], "");
  auto results = testing::DecodeAck((*reply)[2]);
  ASSERT_TRUE(results.has_value());
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted));
  // A REQ-style message: just the empty delimiter.
  reply = producer.Roundtrip({"", Frame(testing::Accepted("SO-2", "e2", Lines()))});
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->size(), 2u);
  EXPECT_EQ((*reply)[0], "");
  EXPECT_THAT(Statuses(*testing::DecodeAck((*reply)[1])), ElementsAre(kAccepted));
  EXPECT_TRUE(Quarantine(h).empty());  // the prefix frames are framing, not events
}

TEST(IngressServerTest, PullEndpointAppliesEventsAndQuarantinesRejections) {
  IngressHarness h;
  zmq::socket_t push(h.context(), zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 1000);
  push.connect(h.server().pull_endpoint());
  const std::string good = Frame(testing::Accepted("SO-1", "e1", Lines()));
  EnvelopeSpec future = testing::Accepted("SO-2", "e2", Lines());
  future.schema_version = 2;
  push.send(zmq::buffer(good), zmq::send_flags::sndmore);
  push.send(zmq::buffer(Frame(future)), zmq::send_flags::none);
  ASSERT_TRUE(Eventually([&] { return h.server().Stats().accepted == 1 && h.server().Stats().quarantined == 1; }));
  EXPECT_TRUE(h.engine().Order("SO-1").has_value());
  EXPECT_EQ(h.server().Stats().rejected, 1u);
  EXPECT_EQ(h.server().Stats().acks_sent, 0u);
  const auto q = Quarantine(h);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].endpoint, "pull");
  EXPECT_EQ(q[0].reason, "unsupported_schema_version");
  EXPECT_EQ(q[0].event_id, "e2");
}

TEST(IngressServerTest, PullEndpointHoldsBusyEventsUntilTheEngineTakesThem) {
  IngressHarness h;
  zmq::socket_t push(h.context(), zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 1000);
  push.connect(h.server().pull_endpoint());
  h.engine().engine().SetTargetBlocked("erp", true);
  push.send(zmq::buffer(Frame(testing::Accepted("SO-1", "e1", Lines()))), zmq::send_flags::none);
  push.send(zmq::buffer(Frame(testing::Accepted("SO-2", "e2", Lines()))), zmq::send_flags::none);
  ASSERT_TRUE(Eventually([&] { return h.server().Stats().busy >= 2; }));  // retried, not dropped
  EXPECT_EQ(h.server().Stats().pull_batches_received, 1u);                // and the socket not read
  h.engine().engine().SetTargetBlocked("erp", false);
  ASSERT_TRUE(Eventually([&] { return h.server().Stats().accepted == 2; }));
  EXPECT_TRUE(h.engine().Order("SO-1").has_value());
  EXPECT_TRUE(h.engine().Order("SO-2").has_value());
}

TEST(IngressServerTest, CurveAdmitsAuthorisedProducerAndRefusesUnknownKey) {
  testing::TempDir keys;
  const CurveKeyPair server = *GenerateCurveKeyPair();
  const CurveKeyPair known = *GenerateCurveKeyPair();
  const CurveKeyPair stranger = *GenerateCurveKeyPair();
  ASSERT_TRUE(WriteCurveKeyPair(keys.path(), "server", server, false).ok());
  ASSERT_TRUE(WriteCurveKeyPair(keys.path() + "/producers", "wms-east", known, false).ok());
  std::filesystem::remove(keys.path() + "/producers/wms-east.key");  // the server needs only .pub
  IngressOptions o = TestIngressOptions();
  o.curve_secret_key_file = keys.path() + "/server.key";
  o.curve_authorized_keys_dir = keys.path() + "/producers";
  IngressHarness h(o);

  TestProducer good(h.context(), h.server().ack_endpoint(), server.public_z85, known.public_z85, known.secret_z85);
  EnvelopeSpec bad = testing::Accepted("SO-2", "e2", Lines());
  bad.schema_version = 9;
  auto results = good.SendBatch({Frame(testing::Accepted("SO-1", "e1", Lines())), Frame(bad)});
  ASSERT_TRUE(results.has_value());
  EXPECT_THAT(Statuses(*results), ElementsAre(kAccepted, kRejected));
  // The quarantine names the key that sent the bad frame.
  const auto q = Quarantine(h);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].curve_key_name, "wms-east");

  TestProducer unknown(h.context(), h.server().ack_endpoint(), server.public_z85, stranger.public_z85,
                       stranger.secret_z85);
  EXPECT_FALSE(unknown.SendBatch({Frame(testing::Accepted("SO-3", "e3", Lines()))}, std::chrono::milliseconds(1500))
                   .has_value());
  EXPECT_GE(h.server().Stats().curve_refused, 1u);
  EXPECT_EQ(h.server().Stats().curve_accepted, 1u);
  EXPECT_FALSE(h.engine().Order("SO-3").has_value());
  // The pull endpoint is locked the same way.
  zmq::socket_t push(h.context(), zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.set(zmq::sockopt::curve_serverkey, server.public_z85);
  push.set(zmq::sockopt::curve_publickey, stranger.public_z85);
  push.set(zmq::sockopt::curve_secretkey, stranger.secret_z85);
  push.connect(h.server().pull_endpoint());
  push.send(zmq::buffer(Frame(testing::Accepted("SO-4", "e4", Lines()))), zmq::send_flags::dontwait);
  ASSERT_TRUE(Eventually([&] { return h.server().Stats().curve_refused >= 2; }));
  EXPECT_EQ(h.server().Stats().pull_batches_received, 0u);
}

TEST(IngressServerTest, StartFailsClearlyWhenTheEndpointIsTaken) {
  IngressHarness h;
  IngressOptions o = TestIngressOptions();
  o.ack_endpoint = h.server().ack_endpoint();
  auto second = IngressServer::Start(o, ValidatorOptions{}, &h.engine().engine(), &h.engine().store());
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("cannot bind the ack endpoint"));
}

}  // namespace
}  // namespace ordersync
