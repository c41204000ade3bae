// `ordersync trace` on a scripted order with an exact duplicate, a parked event (applied
// once its prerequisite arrived), a command that needed a retry before the ERP posted it
// (journal entries as the dispatcher writes them), and a rejected frame in the
// quarantine: each shows in the text and the JSON output. Also: read-only next to the
// running engine, and exit code 1 for an unknown order.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "adapters/admin/admin_server.h"
#include "adapters/cli/trace_command.h"
#include "engine/coding.h"
#include "engine/journal.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "storage_generated.h"
#include "tests/support/engine_harness.h"

namespace ordersync::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSecond = 1'000'000'000;

class TraceCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.engine = harness_.options();
    config_.storage.data_dir = harness_.store().data_dir();
  }

  void Advance(int64_t seconds) { harness_.clock().Advance(seconds * kSecond); }

  // What the dispatcher tells the engine about one attempt (a re-send, then the ERP's
  // answer; a Posted answer takes the command out of the outbox), as CommandNotes.
  void DispatcherAttempt(const std::string& order, const std::string& command_id, uint32_t attempt,
                         storage::JournalKind kind, std::string_view outcome, std::string_view document,
                         std::string_view message) {
    const uint32_t p = harness_.engine().PartitionFor(order);
    uint64_t outbox_seq = 0;
    CommandBytes command;
    for (const OutboxCommand& c : harness_.Outbox()) {
      if (c.command_id == command_id) {
        outbox_seq = c.outbox_seq;
        command = std::make_shared<const std::string>(c.bytes);
      }
    }
    if (attempt == 1) first_sent_at_ns_ = harness_.clock().NowNanos();
    std::vector<CommandNote> notes;
    auto note = [&](storage::JournalKind k, std::string_view o) {
      CommandNote n;
      n.partition = p;
      n.outbox_seq = outbox_seq;
      n.journal_kind = k;
      n.at_ns = harness_.clock().NowNanos();
      n.attempts = attempt;
      n.first_sent_at_ns = first_sent_at_ns_;
      n.command = command;
      n.outcome = o;
      return n;
    };
    if (attempt > 1) notes.push_back(note(storage::JournalKind::CommandSent, "sent"));
    Advance(1);
    CommandNote answer = note(kind, outcome);
    answer.erp_document_id = std::string(document);
    answer.reason = std::string(message);
    answer.removes_command = outcome == "Posted";
    notes.push_back(std::move(answer));
    ASSERT_TRUE(harness_.engine().SubmitNotes(std::move(notes)).ok());
    harness_.Checkpoint();
  }

  // A rejected frame as the ingress quarantines it (adapters/ingress/quarantine_store.h).
  void Quarantine(uint64_t id, const std::string& order, const std::string& event_id, const std::string& reason) {
    flatbuffers::FlatBufferBuilder fbb;
    auto rec = storage::CreateQuarantineRecord(fbb, harness_.clock().NowNanos(), fbb.CreateString("ack"),
                                               fbb.CreateString(reason), fbb.CreateString("bad line"), 0, 0, 0,
                                               fbb.CreateString("WMS-EAST"), fbb.CreateString(event_id),
                                               fbb.CreateString(order), 0, 10, 0);
    fbb.Finish(rec);
    std::string key;
    PutBigEndian16(&key, 0xFFFF);
    PutBigEndian64(&key, id);
    auto batch = harness_.store().NewBatch();
    batch->Put(Table::kQuarantine, key,
               std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
    ASSERT_TRUE(harness_.store().Write(batch.get(), Durability::kWal).ok());
  }

  void Script() {
    EnvelopeSpec accepted = Accepted("SO-T", "t1", {{1, "SKU-1", 4}});
    accepted.correlation_id = "corr-t1";
    ASSERT_EQ(harness_.Send(accepted).outcome, EventOutcome::kApplied);
    Advance(2);
    ASSERT_EQ(harness_.Send(Picked("SO-T", "t3", "PCK-1", {{1, "SKU-1", 4}})).outcome, EventOutcome::kParked);
    Advance(3);
    ASSERT_EQ(harness_.Send(Reserved("SO-T", "t2", "RES-1", {{1, "SKU-1", 4}})).outcome, EventOutcome::kApplied);
    Advance(1);
    ASSERT_EQ(harness_.Send(accepted).outcome, EventOutcome::kDuplicateExact);
    Advance(1);
    so_id_ = harness_.OutboxOf("SO-T").at(0).command_id;  // CreateSalesOrder
    DispatcherAttempt("SO-T", so_id_, 1, storage::JournalKind::CommandAcked, "TransientError", "",
                      "ERP busy");
    Advance(4);
    DispatcherAttempt("SO-T", so_id_, 2, storage::JournalKind::CommandAcked, "Posted", "ERP-SO-4711", "");
    Quarantine(7, "SO-T", "t9", "missing_field:event_id");
  }

  EngineHarness harness_;
  AppConfig config_;
  std::string so_id_;
  int64_t first_sent_at_ns_ = 0;
};

TEST_F(TraceCommandTest, TextShowsDuplicateParkedEventAndRetriedCommand) {
  Script();
  std::ostringstream out, err;
  ASSERT_EQ(RunTrace(config_, {"SO-T", false, ""}, out, err), 0) << err.str();
  const std::string text = out.str();
  SCOPED_TRACE(text);
  EXPECT_THAT(text, HasSubstr("order SO-T  (partition " + std::to_string(harness_.engine().PartitionFor("SO-T"))));
  EXPECT_THAT(text, HasSubstr("event    OrderAccepted t1 from SALES corr=corr-t1  -> applied"));
  EXPECT_THAT(text, HasSubstr("event    PickCompleted t3 from WMS-EAST"));
  EXPECT_THAT(text, HasSubstr("-> PARKED (missing_prerequisite:"));
  EXPECT_THAT(text, HasSubstr("resolved PickCompleted t3  -> applied after parking"));
  EXPECT_THAT(text, HasSubstr("-> DUPLICATE (exact: same event_id)"));
  EXPECT_THAT(text, HasSubstr("totals: ordered 4 reserved 4 picked 4 shipped 0 returned 0"));
  EXPECT_THAT(text, HasSubstr("command  CreateSalesOrder " + so_id_ + " #1 -> erp  issued (outbox)"));
  EXPECT_THAT(text, HasSubstr(so_id_ + "  ERP answered TransientError (ERP busy)"));
  EXPECT_THAT(text, HasSubstr(so_id_ + "  sent, attempt 2 (RETRY)"));
  EXPECT_THAT(text, HasSubstr(so_id_ + "  ERP answered Posted, document ERP-SO-4711"));
  EXPECT_THAT(text, HasSubstr("#1 CreateSalesOrder " + so_id_ + " -> erp: acknowledged, 2 attempts, document ERP-SO-4711"));
  EXPECT_THAT(text, HasSubstr("ConfirmAllocation"));
  EXPECT_THAT(text, HasSubstr(": in_outbox"));
  EXPECT_THAT(text, HasSubstr("+3.00s"));  // latency between the park and the reservation
  EXPECT_THAT(text, HasSubstr("rejected frames (quarantine)\n  #7"));
  EXPECT_THAT(text, HasSubstr("t9 from WMS-EAST: missing_field:event_id"));
}

TEST_F(TraceCommandTest, JsonCarriesTheSameTimeline) {
  Script();
  std::ostringstream out, err;
  ASSERT_EQ(RunTrace(config_, {"SO-T", true, ""}, out, err), 0) << err.str();
  const std::string json = out.str();
  SCOPED_TRACE(json);
  EXPECT_THAT(json, HasSubstr("\"order_id\":\"SO-T\""));
  EXPECT_THAT(json, HasSubstr("\"outcome\":\"duplicate_exact\""));
  EXPECT_THAT(json, HasSubstr("\"outcome\":\"parked\",\"reason\":\"missing_prerequisite:"));
  EXPECT_THAT(json, HasSubstr("\"kind\":\"event_resolved\""));
  EXPECT_THAT(json, HasSubstr("\"correlation_id\":\"corr-t1\""));
  EXPECT_THAT(json, HasSubstr("\"kind\":\"command_sent\""));
  EXPECT_THAT(json, HasSubstr("\"attempt\":2"));
  EXPECT_THAT(json, HasSubstr("\"state\":\"acknowledged\",\"attempts\":2"));
  EXPECT_THAT(json, HasSubstr("\"erp_document_id\":\"ERP-SO-4711\""));
  EXPECT_THAT(json, HasSubstr("\"since_previous_ns\":3000000000"));
  EXPECT_THAT(json, HasSubstr("\"quarantined\":[{\"id\":7"));
  EXPECT_EQ(json.back(), '\n');
  EXPECT_EQ(std::count(json.begin(), json.end(), '{'), std::count(json.begin(), json.end(), '}'));
}

TEST_F(TraceCommandTest, ShowsWhatIsStillParked) {
  ASSERT_EQ(harness_.Send(Accepted("SO-P", "p1", {{1, "SKU-1", 1}})).outcome, EventOutcome::kApplied);
  ASSERT_EQ(harness_.Send(Shipped("SO-P", "p4", "SHP-1", {{1, "SKU-1", 1}})).outcome, EventOutcome::kParked);
  harness_.Checkpoint();  // a data dir shows the engine's last checkpoint
  std::ostringstream out, err;
  ASSERT_EQ(RunTrace(config_, {"SO-P", false, ""}, out, err), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("parked now\n  ShipmentDispatched p4 waiting for "));
}

TEST_F(TraceCommandTest, AdminTraceCommandAnswersFromTheLiveStore) {
  Script();
  AdminOptions options;
  options.endpoint = "tcp://127.0.0.1:*";
  auto admin = AdminServer::Create(options);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  RegisterTraceAdminCommand(admin->get(), &harness_.store(), &harness_.engine());
  const nlohmann::json reply =
      (*admin)->Handle({{"command", "trace"}, {"args", {{"order_id", "SO-T"}}}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  const nlohmann::json& r = reply["result"];
  EXPECT_EQ(r["order_id"], "SO-T");
  EXPECT_EQ(r["commands"][0]["attempts"], 2);
  EXPECT_EQ(r["commands"][0]["erp_document_id"], "ERP-SO-4711");
  bool duplicate = false;
  for (const auto& step : r["timeline"]) duplicate |= step.value("outcome", "") == "duplicate_exact";
  EXPECT_TRUE(duplicate);
  const nlohmann::json missing = (*admin)->Handle({{"command", "trace"}, {"args", nlohmann::json::object()}});
  EXPECT_FALSE(missing.value("ok", true));
}

TEST_F(TraceCommandTest, UnknownOrderExitsOneAndSaysWhere) {
  ASSERT_EQ(harness_.Send(Accepted("SO-X", "x1", {{1, "SKU-1", 1}})).outcome, EventOutcome::kApplied);
  std::ostringstream out, err;
  EXPECT_EQ(RunTrace(config_, {"SO-NOPE", false, ""}, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("no trace of order 'SO-NOPE'"));
}

TEST_F(TraceCommandTest, MissingDataDirExitsTwo) {
  std::ostringstream out, err;
  EXPECT_EQ(RunTrace(config_, {"SO-1", false, "/nonexistent/ordersync"}, out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr("cannot open /nonexistent/ordersync"));
}

}  // namespace
}  // namespace ordersync::testing
