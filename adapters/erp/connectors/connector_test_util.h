// Test helpers for the ERP connectors: a test PKI made with the openssl tool (a CA, a
// server certificate for 127.0.0.1 signed by it, an RSA key pair for JWT assertions),
// ErpCommand builders, and a driver loop that posts commands through an ErpConnector the
// way the dispatcher will: one command per order at a time in sequence, transient
// failures retried (after retry_after_ms when given, with maybe_posted_before = true),
// rejections recorded.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "adapters/erp/connectors/erp_connector.h"
#include "engine/command_id.h"
#include "erp_generated.h"

namespace ordersync {

struct TestPki {
  std::string dir, ca_cert, server_cert, server_key, jwt_key, jwt_pub;
  bool ok = false;

  static TestPki Make() {
    TestPki p;
    char tmpl[] = "/tmp/ordersync-pki-XXXXXX";
    p.dir = mkdtemp(tmpl);
    p.ca_cert = p.dir + "/ca.pem";
    p.server_cert = p.dir + "/server.pem";
    p.server_key = p.dir + "/server.key";
    p.jwt_key = p.dir + "/jwt.key";
    p.jwt_pub = p.dir + "/jwt.pub";
    const std::string d = p.dir;
    const std::string script =
        "set -e; cd '" + d + "';"
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=ordersync test CA' "
        "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null;"
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null;"
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n"
        "extendedKeyUsage=serverAuth\\n' > ext.cnf;"
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
        "  -extfile ext.cnf 2>/dev/null;"
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out jwt.key 2>/dev/null;"
        "openssl pkey -in jwt.key -pubout -out jwt.pub 2>/dev/null;"
        "chmod 600 jwt.key server.key";
    p.ok = std::system(("sh -c \"" + Escape(script) + "\"").c_str()) == 0;
    return p;
  }
  void Remove() const {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  static std::string Escape(const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '"' || c == '\\' || c == '$' || c == '`') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  }
};

inline std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes `content` to `path` with `mode`.
inline void WriteSecret(const std::string& path, const std::string& content, mode_t mode = 0600) {
  std::ofstream(path) << content << "\n";
  ::chmod(path.c_str(), mode);
}

struct TestCommand {
  std::string buffer;
  std::string command_id;
  std::string order_id;
};

inline TestCommand MakeTestCommand(const std::string& order_id, CommandKind kind, const std::string& business_key,
                                   uint64_t seq, const std::string& company = "US01", int64_t qty = 3,
                                   const std::string& sku = "SKU-1") {
  flatbuffers::FlatBufferBuilder fbb;
  std::string id;
  MakeCommandId(order_id, kind, business_key, &id);
  std::vector<flatbuffers::Offset<Line>> lines;
  lines.push_back(CreateLine(fbb, 1, fbb.CreateString(sku), qty, fbb.CreateString("EA"), 1999));
  lines.push_back(CreateLine(fbb, 2, fbb.CreateString("SKU-2"), 1, fbb.CreateString("EA"), 500));
  auto cmd = CreateErpCommand(fbb, fbb.CreateString(id), fbb.CreateString(order_id), fbb.CreateString("corr-" + order_id),
                              fbb.CreateString("evt-" + id), fbb.CreateString(company), fbb.CreateString("erp"), kind,
                              seq, fbb.CreateString(business_key), fbb.CreateVector(lines), Priority::Standard, 1,
                              fbb.CreateString("EUR"), 1'700'000'000'000'000'000, 1'700'000'000'000'000'000);
  FinishErpCommandBuffer(fbb, cmd);
  return {std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()), id, order_id};
}

// The commands of `orders` orders: for each order the given kinds in sequence.
inline std::vector<std::vector<TestCommand>> MakeOrders(int orders, const std::vector<CommandKind>& kinds,
                                                        const std::string& prefix = "SO-") {
  std::vector<std::vector<TestCommand>> out;
  for (int i = 0; i < orders; ++i) {
    const std::string order = prefix + std::to_string(100000 + i);
    std::vector<TestCommand> cmds;
    uint64_t seq = 1;
    for (CommandKind k : kinds) {
      std::string key = order;
      if (k == CommandKind::PostGoodsIssue || k == CommandKind::CreateInvoice) key = "8" + std::to_string(4000000 + i);
      if (k == CommandKind::CreateCreditMemo) key = "RET-" + std::to_string(i);
      if (k == CommandKind::PostInventoryAdjustment) key = "ADJ-" + std::to_string(i);
      cmds.push_back(MakeTestCommand(order, k, key, seq++));
    }
    out.push_back(std::move(cmds));
  }
  return out;
}

struct DriveResult {
  std::map<std::string, ErpCompletion> final;  // command id -> last completion
  uint64_t attempts = 0;
  uint64_t transient = 0;
  bool finished = false;
};

// Posts every order's commands in sequence (one in flight per order), retrying transient
// failures like the dispatcher; stops an order at a rejection. `on_progress(done)` runs
// after each completion (tests use it to inject faults mid-run).
template <typename Fn>
DriveResult DriveOrders(ErpConnector* c, const std::vector<std::vector<TestCommand>>& orders, int deadline_s,
                        Fn&& on_progress) {
  using Clock = std::chrono::steady_clock;
  DriveResult r;
  struct State {
    size_t next = 0;
    bool in_flight = false;
    bool retry = false;
    Clock::time_point not_before{};
    bool stopped = false;
  };
  std::vector<State> st(orders.size());
  const auto deadline = Clock::now() + std::chrono::seconds(deadline_s);
  size_t done = 0;
  std::vector<ErpCompletion> completions;
  while (Clock::now() < deadline) {
    const auto now = Clock::now();
    bool all_done = true;
    for (size_t i = 0; i < orders.size(); ++i) {
      State& s = st[i];
      if (s.stopped || s.next >= orders[i].size()) continue;
      all_done = false;
      if (s.in_flight || now < s.not_before) continue;
      if (c->in_flight() >= c->capacity()) break;
      const TestCommand& cmd = orders[i][s.next];
      if (c->Post(cmd.buffer, i, s.retry).ok()) {
        s.in_flight = true;
        ++r.attempts;
      }
    }
    if (all_done) {
      r.finished = true;
      break;
    }
    completions.clear();
    c->Poll(&completions, 20);
    for (ErpCompletion& x : completions) {
      State& s = st[x.tag];
      s.in_flight = false;
      r.final[x.command_id] = x;
      if (x.status == AckStatus::TransientError) {
        ++r.transient;
        s.retry = true;
        s.not_before = Clock::now() + std::chrono::milliseconds(x.retry_after_ms > 0 ? x.retry_after_ms : 20);
        continue;
      }
      s.retry = false;
      if (x.status == AckStatus::Rejected) {
        s.stopped = true;
        continue;
      }
      ++s.next;
      ++done;
      on_progress(done);
    }
  }
  return r;
}

}  // namespace ordersync
