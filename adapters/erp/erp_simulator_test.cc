// The ERP simulator over real sockets: posting once, AlreadyPosted on repeats, rejections,
// order checks, fault modes, the ledger file and the control socket.
#include "adapters/erp/erp_simulator.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "adapters/erp/erp_test_util.h"
#include "erp_ack_generated.h"

namespace ordersync {
namespace {

using testing::MakeErpCommand;

// A DEALER client talking to the simulator like the dispatcher does.
class Client {
 public:
  explicit Client(const std::string& endpoint) : socket_(ctx_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(endpoint);
  }
  void Send(const std::string& command) { socket_.send(zmq::buffer(command), zmq::send_flags::none); }
  // The next answer, or nullopt after `ms`.
  std::optional<std::pair<std::string, AckStatus>> Receive(int ms = 5000) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(ms)) == 0) return std::nullopt;
    zmq::message_t msg;
    if (!socket_.recv(msg)) return std::nullopt;
    std::string aligned = msg.to_string();
    const ErpAck* ack = GetErpAck(aligned.data());
    return std::make_pair(ack->command_id()->str(), ack->status());
  }
  AckStatus Call(const std::string& command) {
    Send(command);
    auto r = Receive();
    EXPECT_TRUE(r.has_value());
    return r ? r->second : AckStatus::TransientError;
  }

 private:
  zmq::context_t ctx_{1};
  zmq::socket_t socket_;
};

ErpSimOptions Ephemeral() {
  ErpSimOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  return o;
}

TEST(ErpSimulatorTest, PostsOnceAndAnswersAlreadyPostedOnRepeats) {
  auto sim = ErpSimulator::Start(Ephemeral());
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  Client client((*sim)->endpoint());
  const std::string so = MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder);
  EXPECT_EQ(client.Call(so), AckStatus::Posted);
  EXPECT_EQ(client.Call(so), AckStatus::AlreadyPosted);
  EXPECT_EQ(client.Call(MakeErpCommand("SO-1", 2, CommandKind::ConfirmAllocation)), AckStatus::Posted);
  const ErpSimSummary s = (*sim)->Summary();
  EXPECT_EQ(s.received, 3u);
  EXPECT_EQ(s.postings, 2u);
  EXPECT_EQ(s.duplicates_received, 1u);
  EXPECT_EQ(s.out_of_order_arrivals, 0u);
  EXPECT_EQ(s.sequence_gaps, 0u);
  auto ledger = (*sim)->Ledger();
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0].document_id, "DOC-1");
  EXPECT_EQ(ledger[1].order_cmd_seq, 2u);
}

TEST(ErpSimulatorTest, CountsOutOfOrderArrivalsAndGaps) {
  auto sim = ErpSimulator::Start(Ephemeral());
  ASSERT_TRUE(sim.ok());
  Client client((*sim)->endpoint());
  client.Call(MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder));
  client.Call(MakeErpCommand("SO-1", 3, CommandKind::PostGoodsIssue));    // skips 2
  client.Call(MakeErpCommand("SO-1", 2, CommandKind::ConfirmAllocation));  // after 3
  const ErpSimSummary s = (*sim)->Summary();
  EXPECT_EQ(s.sequence_gaps, 1u);
  EXPECT_EQ(s.out_of_order_arrivals, 1u);
}

TEST(ErpSimulatorTest, RejectsByOrderBySkuAndCanBeTurnedOff) {
  ErpSimOptions o = Ephemeral();
  o.reject_orders = {"SO-BAD"};
  o.reject_skus = {"SKU-BAD"};
  auto sim = ErpSimulator::Start(o);
  ASSERT_TRUE(sim.ok());
  Client client((*sim)->endpoint());
  const std::string bad = MakeErpCommand("SO-BAD", 1, CommandKind::CreateSalesOrder);
  EXPECT_EQ(client.Call(bad), AckStatus::Rejected);
  EXPECT_EQ(client.Call(bad), AckStatus::Rejected);  // same verdict on a retry
  EXPECT_EQ(client.Call(MakeErpCommand("SO-2", 1, CommandKind::CreateSalesOrder, "erp", "", Priority::Standard,
                                       "SKU-BAD")),
            AckStatus::Rejected);
  EXPECT_EQ((*sim)->Summary().rejected_commands, 2u);
  (*sim)->SetRejectionsEnabled(false);
  EXPECT_EQ(client.Call(bad), AckStatus::Posted);
}

TEST(ErpSimulatorTest, RateRejectionIsDecidedPerCommandId) {
  ErpSimOptions o = Ephemeral();
  o.reject_rate = 0.5;
  auto sim = ErpSimulator::Start(o);
  ASSERT_TRUE(sim.ok());
  Client client((*sim)->endpoint());
  int rejected = 0;
  for (int i = 1; i <= 40; ++i) {
    const std::string c = MakeErpCommand("SO-" + std::to_string(i), 1, CommandKind::CreateSalesOrder);
    const AckStatus first = client.Call(c);
    if (first == AckStatus::Rejected) {
      ++rejected;
      EXPECT_EQ(client.Call(c), AckStatus::Rejected);
    }
  }
  EXPECT_GT(rejected, 5);
  EXPECT_LT(rejected, 35);
}

TEST(ErpSimulatorTest, AmbiguousModePostsWithoutAnswering) {
  ErpSimOptions o = Ephemeral();
  o.ambiguous_rate = 1.0;
  auto sim = ErpSimulator::Start(o);
  ASSERT_TRUE(sim.ok());
  Client client((*sim)->endpoint());
  const std::string c = MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder);
  client.Send(c);
  EXPECT_FALSE(client.Receive(300).has_value());
  (*sim)->SetAmbiguousRate(0);
  EXPECT_EQ(client.Call(c), AckStatus::AlreadyPosted);  // it was posted
  EXPECT_EQ((*sim)->Summary().postings, 1u);
}

TEST(ErpSimulatorTest, TimeoutsAndOutagesDropWithoutPosting) {
  ErpSimOptions o = Ephemeral();
  o.timeout_rate = 1.0;
  auto sim = ErpSimulator::Start(o);
  ASSERT_TRUE(sim.ok());
  Client client((*sim)->endpoint());
  client.Send(MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder));
  EXPECT_FALSE(client.Receive(300).has_value());
  (*sim)->SetTimeoutRate(0);
  (*sim)->ForceOutage(true);
  client.Send(MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder));
  EXPECT_FALSE(client.Receive(300).has_value());
  (*sim)->ForceOutage(false);
  EXPECT_EQ(client.Call(MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder)), AckStatus::Posted);
  const ErpSimSummary s = (*sim)->Summary();
  EXPECT_EQ(s.timeouts_injected, 1u);
  EXPECT_EQ(s.outage_drops, 1u);
  EXPECT_EQ(s.postings, 1u);
}

TEST(ErpSimulatorTest, OutageMayAnswerTransientErrors) {
  ErpSimOptions o = Ephemeral();
  o.outage_for_s = 3600;  // from the start, for an hour
  o.outage_answers_errors = true;
  auto sim = ErpSimulator::Start(o);
  ASSERT_TRUE(sim.ok());
  Client client((*sim)->endpoint());
  EXPECT_EQ(client.Call(MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder)), AckStatus::TransientError);
}

TEST(ErpSimulatorTest, WritesLedgerAndRejectedFilesAndObeysTheControlSocket) {
  const auto dir = std::filesystem::temp_directory_path() / ("erp-sim-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  ErpSimOptions o = Ephemeral();
  o.ledger_path = (dir / "ledger.tsv").string();
  o.rejected_path = (dir / "rejected.txt").string();
  o.control_endpoint = "tcp://127.0.0.1:*";
  o.reject_orders = {"SO-BAD"};
  {
    auto sim = ErpSimulator::Start(o);
    ASSERT_TRUE(sim.ok());
    Client client((*sim)->endpoint());
    EXPECT_EQ(client.Call(MakeErpCommand("SO-1", 1, CommandKind::CreateSalesOrder)), AckStatus::Posted);
    EXPECT_EQ(client.Call(MakeErpCommand("SO-BAD", 1, CommandKind::CreateSalesOrder)), AckStatus::Rejected);

    zmq::context_t ctx(1);
    zmq::socket_t control(ctx, zmq::socket_type::req);
    control.set(zmq::sockopt::linger, 0);
    control.connect((*sim)->control_endpoint());
    control.send(zmq::str_buffer(R"({"cmd":"set","rejections":false})"));
    zmq::message_t reply;
    ASSERT_TRUE(control.recv(reply));
    EXPECT_TRUE(nlohmann::json::parse(reply.to_string())["ok"].get<bool>());
    EXPECT_EQ(client.Call(MakeErpCommand("SO-BAD", 1, CommandKind::CreateSalesOrder)), AckStatus::Posted);
    control.send(zmq::str_buffer(R"({"cmd":"summary"})"));
    ASSERT_TRUE(control.recv(reply));
    EXPECT_EQ(nlohmann::json::parse(reply.to_string())["postings"].get<int>(), 2);
  }  // Stop flushes
  std::ifstream ledger(o.ledger_path);
  std::string line;
  int lines = 0;
  while (std::getline(ledger, line)) {
    ++lines;
    EXPECT_NE(line.find("\tCreateSalesOrder\terp"), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 2);
  std::ifstream rejected(o.rejected_path);
  ASSERT_TRUE(std::getline(rejected, line));
  EXPECT_EQ(line, "SO-BAD/CreateSalesOrder/1");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ordersync
