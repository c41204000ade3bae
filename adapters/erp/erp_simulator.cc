#include "adapters/erp/erp_simulator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "adapters/erp/erp_sim_export.h"
#include "adapters/erp/erp_sim_histogram.h"
#include "engine/hash.h"
#include "erp_ack_generated.h"

namespace ordersync {
namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct PendingReply {
  int64_t due_ns;
  uint64_t order;  // FIFO among equal due times
  std::string identity;
  std::string ack;
  bool operator>(const PendingReply& o) const { return due_ns != o.due_ns ? due_ns > o.due_ns : order > o.order; }
};

std::string_view View(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

}  // namespace

class ErpSimulator::Impl {
 public:
  explicit Impl(const ErpSimOptions& options) : options_(options), rng_(options.seed) {}
  ~Impl() { Stop(); }

  Status Start() {
    try {
      router_.set(zmq::sockopt::linger, 0);
      router_.set(zmq::sockopt::rcvhwm, 0);
      router_.set(zmq::sockopt::sndhwm, 0);
      router_.bind(options_.endpoint);
      endpoint_ = router_.get(zmq::sockopt::last_endpoint);
      if (!options_.control_endpoint.empty()) {
        control_ = zmq::socket_t(ctx_, zmq::socket_type::rep);
        control_.set(zmq::sockopt::linger, 0);
        control_.bind(options_.control_endpoint);
        control_endpoint_ = control_.get(zmq::sockopt::last_endpoint);
      }
    } catch (const zmq::error_t& e) {
      return Status::InvalidArgument("erp-sim: cannot bind " + options_.endpoint + ": " + e.what());
    }
    if (!options_.ledger_path.empty()) {
      ledger_file_.open(options_.ledger_path, std::ios::out | std::ios::trunc);
      if (!ledger_file_.is_open()) return Status::IOError("erp-sim: cannot write ledger " + options_.ledger_path);
    }
    started_ns_ = SteadyNowNs();
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  void Stop() {
    if (thread_.joinable()) {
      stop_.store(true);
      thread_.join();
    }
    Flush().PermitUncheckedError();
  }

  Status Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    if (ledger_file_.is_open()) ledger_file_.flush();
    if (!options_.rejected_path.empty()) {
      std::ofstream out(options_.rejected_path, std::ios::out | std::ios::trunc);
      if (!out.is_open()) return Status::IOError("erp-sim: cannot write " + options_.rejected_path);
      for (const std::string& id : rejected_ids_) out << id << "\n";
    }
    return Status::OK();
  }

  const std::string& endpoint() const { return endpoint_; }
  const std::string& control_endpoint() const { return control_endpoint_; }

  void SetRejectionsEnabled(bool enabled) {
    std::lock_guard<std::mutex> lock(mu_);
    rejections_enabled_ = enabled;
  }
  void SetRejectRate(double rate) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.reject_rate = rate;
  }
  void SetRejectOrders(std::vector<std::string> orders) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.reject_orders = std::move(orders);
  }
  void SetRejectCommandIds(std::vector<std::string> ids) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.reject_command_ids = std::move(ids);
  }
  void SetTransientOrders(std::vector<std::string> orders) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.transient_orders = std::move(orders);
  }
  void SetTransientErrorRate(double rate) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.transient_error_rate = rate;
  }
  void SetTimeoutRate(double rate) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.timeout_rate = rate;
  }
  void SetAmbiguousRate(double rate) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.ambiguous_rate = rate;
  }
  void ForceOutage(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    forced_outage_ = down;
  }

  ErpSimSummary Summary() const {
    std::lock_guard<std::mutex> lock(mu_);
    ErpSimSummary s = summary_;
    s.rejected_commands = rejected_ids_.size();
    s.orders = order_seq_.size();
    s.event_to_post_count = event_to_post_us_.count();
    s.event_to_post_p50_ms = event_to_post_us_.PercentileMs(0.5);
    s.event_to_post_p99_ms = event_to_post_us_.PercentileMs(0.99);
    s.event_to_post_p999_ms = event_to_post_us_.PercentileMs(0.999);
    s.event_to_post_max_ms = event_to_post_us_.max_ms();
    return s;
  }

  std::string SummaryJson() const {
    const ErpSimSummary s = Summary();
    nlohmann::json j = {{"endpoint", endpoint_},
                        {"received", s.received},
                        {"postings", s.postings},
                        {"duplicates_received", s.duplicates_received},
                        {"out_of_order_arrivals", s.out_of_order_arrivals},
                        {"sequence_gaps", s.sequence_gaps},
                        {"transient_errors", s.transient_errors},
                        {"rejections", s.rejections},
                        {"rejected_commands", s.rejected_commands},
                        {"timeouts_injected", s.timeouts_injected},
                        {"ambiguous_injected", s.ambiguous_injected},
                        {"outage_drops", s.outage_drops},
                        {"malformed", s.malformed},
                        {"orders", s.orders},
                        {"event_to_post_ms", {{"count", s.event_to_post_count},
                                              {"p50", s.event_to_post_p50_ms},
                                              {"p99", s.event_to_post_p99_ms},
                                              {"p99_9", s.event_to_post_p999_ms},
                                              {"max", s.event_to_post_max_ms}}}};
    return j.dump(2);
  }

  std::vector<ErpPosting> Ledger() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ledger_;
  }

  std::vector<std::string> RejectedCommandIds() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::vector<std::string>(rejected_ids_.begin(), rejected_ids_.end());
  }

  // The documents the ERP holds now: every posting not forgotten, in posting order.
  std::vector<ErpPosting> Documents() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ErpPosting> out;
    for (const ErpPosting& p : ledger_) {
      if (!forgotten_.count(p.document_id)) out.push_back(p);
    }
    return out;
  }

  size_t Forget(const std::vector<std::string>& command_ids) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const std::string& id : command_ids) {
      for (const ErpPosting& p : ledger_) {
        if (p.command_id == id && forgotten_.insert(p.document_id).second) ++n;
      }
      documents_.erase(id);
    }
    return n;
  }

  size_t Duplicate(const std::vector<std::string>& command_ids) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const std::string& id : command_ids) {
      for (size_t i = 0; i < ledger_.size(); ++i) {
        if (ledger_[i].command_id != id || forgotten_.count(ledger_[i].document_id)) continue;
        ErpPosting copy = ledger_[i];
        copy.document_id = "DOC-" + std::to_string(++document_counter_);
        copy.posted_at_ns = WallNowNs();
        ledger_.push_back(std::move(copy));
        ++n;
        break;
      }
    }
    return n;
  }

 private:
  struct OrderSeq {
    uint64_t max_seq = 0;
  };

  bool Chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  bool InOutage(int64_t now_ns) const {
    if (forced_outage_) return true;
    if (options_.outage_for_s == 0) return false;
    const int64_t since = now_ns - started_ns_;
    const int64_t at = static_cast<int64_t>(options_.outage_at_s) * 1'000'000'000;
    if (since < at) return false;
    int64_t into = since - at;
    if (options_.outage_every_s > 0) into %= static_cast<int64_t>(options_.outage_every_s) * 1'000'000'000;
    return into < static_cast<int64_t>(options_.outage_for_s) * 1'000'000'000;
  }

  int64_t LatencyNs() {
    if (options_.latency_us == 0) return 0;
    const double mean = options_.latency_us * 1000.0;
    if (options_.latency == "uniform") return static_cast<int64_t>(std::uniform_real_distribution<double>(0, 2 * mean)(rng_));
    if (options_.latency == "exponential") return static_cast<int64_t>(std::exponential_distribution<double>(1.0 / mean)(rng_));
    return static_cast<int64_t>(mean);
  }

  bool Rejects(const ErpCommand* c, std::string_view command_id) const {
    if (!rejections_enabled_) return false;
    const std::string_view order_id = View(c->order_id());
    for (const std::string& o : options_.reject_orders) {
      if (o == order_id) return true;
    }
    for (const std::string& id : options_.reject_command_ids) {
      if (id == command_id) return true;
    }
    if (!options_.reject_skus.empty() && c->lines() != nullptr) {
      for (const Line* l : *c->lines()) {
        for (const std::string& sku : options_.reject_skus) {
          if (sku == View(l->sku())) return true;
        }
      }
    }
    if (options_.reject_rate <= 0) return false;
    const uint64_t h = HashBytes(command_id, HashU64(options_.seed, kFnvOffsetBasis));
    return static_cast<double>(h % 1'000'000) < options_.reject_rate * 1'000'000.0;
  }

  std::string Ack(std::string_view command_id, AckStatus status, std::string_view document, std::string_view message) {
    fbb_.Clear();
    auto off = CreateErpAck(fbb_, fbb_.CreateString(command_id), status, fbb_.CreateString(document),
                            fbb_.CreateString(message));
    FinishErpAckBuffer(fbb_, off);
    return std::string(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize());
  }

  void Reply(std::string identity, std::string ack, int64_t now_ns) {
    replies_.push(PendingReply{now_ns + LatencyNs(), reply_counter_++, std::move(identity), std::move(ack)});
  }

  // Decides what happens to one command; queues the answer, if any. REQUIRES: mu_ held.
  void Handle(std::string identity, std::string_view frame, int64_t now_ns) {
    ++summary_.received;
    std::string aligned(frame);
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned.data()), aligned.size());
    if (!VerifyErpCommandBuffer(verifier)) {
      ++summary_.malformed;
      Reply(std::move(identity), Ack("", AckStatus::Rejected, "", "malformed ErpCommand"), now_ns);
      return;
    }
    const ErpCommand* c = GetErpCommand(aligned.data());
    const std::string command_id(View(c->command_id()));
    if (InOutage(now_ns)) {
      if (options_.outage_answers_errors) {
        ++summary_.transient_errors;
        Reply(std::move(identity), Ack(command_id, AckStatus::TransientError, "", "ERP unavailable (outage)"), now_ns);
      } else {
        ++summary_.outage_drops;
      }
      return;
    }
    if (Chance(options_.timeout_rate)) {
      ++summary_.timeouts_injected;
      return;
    }
    const bool transient_order = std::find(options_.transient_orders.begin(), options_.transient_orders.end(),
                                           View(c->order_id())) != options_.transient_orders.end();
    if (transient_order || Chance(options_.transient_error_rate)) {
      ++summary_.transient_errors;
      Reply(std::move(identity), Ack(command_id, AckStatus::TransientError, "", "simulated transient error"), now_ns);
      return;
    }
    auto posted = documents_.find(command_id);
    if (posted != documents_.end()) {
      ++summary_.duplicates_received;
      Reply(std::move(identity), Ack(command_id, AckStatus::AlreadyPosted, posted->second, "already posted"), now_ns);
      return;
    }
    if (Rejects(c, command_id)) {
      ++summary_.rejections;
      rejected_ids_.insert(command_id);
      Reply(std::move(identity), Ack(command_id, AckStatus::Rejected, "", "simulated business rejection"), now_ns);
      return;
    }
    // Post.
    ErpPosting p;
    p.posted_at_ns = WallNowNs();
    p.document_id = "DOC-" + std::to_string(++document_counter_);
    p.command_id = command_id;
    p.order_id = std::string(View(c->order_id()));
    p.order_cmd_seq = c->order_cmd_seq();
    p.kind = c->kind();
    p.target = std::string(View(c->target()));
    p.company_code = std::string(View(c->company_code()));
    p.currency = std::string(View(c->currency()));
    if (c->lines() != nullptr) {
      for (const Line* l : *c->lines()) {
        p.quantity += l->qty();
        p.amount_minor += l->qty() * l->unit_price_minor();
      }
    }
    documents_[command_id] = p.document_id;
    ++summary_.postings;
    if (c->event_occurred_at_ns() > 0) event_to_post_us_.Record((p.posted_at_ns - c->event_occurred_at_ns()) / 1000);
    OrderSeq& seq = order_seq_[p.order_id];
    if (p.order_cmd_seq < seq.max_seq) {
      ++summary_.out_of_order_arrivals;
    } else if (p.order_cmd_seq > seq.max_seq + 1) {
      ++summary_.sequence_gaps;
    }
    seq.max_seq = std::max(seq.max_seq, p.order_cmd_seq);
    if (ledger_file_.is_open()) {
      ledger_file_ << p.posted_at_ns << '\t' << p.document_id << '\t' << p.command_id << '\t' << p.order_id << '\t'
                   << p.order_cmd_seq << '\t' << EnumNameCommandKind(p.kind) << '\t' << p.target << '\n';
    }
    const std::string document = p.document_id;
    ledger_.push_back(std::move(p));
    if (Chance(options_.ambiguous_rate)) {
      ++summary_.ambiguous_injected;
      return;
    }
    Reply(std::move(identity), Ack(command_id, AckStatus::Posted, document, ""), now_ns);
  }

  void HandleControl() {
    zmq::message_t msg;
    if (!control_.recv(msg, zmq::recv_flags::dontwait)) return;
    nlohmann::json reply;
    try {
      const nlohmann::json req = nlohmann::json::parse(msg.to_string());
      const std::string cmd = req.value("cmd", "");
      if (cmd == "summary") {
        reply = nlohmann::json::parse(SummaryJson());
      } else if (cmd == "flush") {
        Status s = Flush();
        reply = {{"ok", s.ok()}};
      } else if (cmd == "forget" || cmd == "duplicate") {
        const auto ids = req.at("command_ids").get<std::vector<std::string>>();
        const size_t n = cmd == "forget" ? Forget(ids) : Duplicate(ids);
        reply = {{"ok", true}, {cmd == "forget" ? "forgotten" : "duplicated", n}};
      } else if (cmd == "export") {
        Status s = WriteErpExportFile(Documents(), req.at("path").get<std::string>());
        reply = s.ok() ? nlohmann::json{{"ok", true}} : nlohmann::json{{"ok", false}, {"error", s.ToString()}};
      } else if (cmd == "set") {
        std::lock_guard<std::mutex> lock(mu_);
        if (req.contains("rejections")) rejections_enabled_ = req["rejections"].get<bool>();
        if (req.contains("reject_rate")) options_.reject_rate = req["reject_rate"].get<double>();
        if (req.contains("transient_error_rate")) options_.transient_error_rate = req["transient_error_rate"].get<double>();
        if (req.contains("timeout_rate")) options_.timeout_rate = req["timeout_rate"].get<double>();
        if (req.contains("ambiguous_rate")) options_.ambiguous_rate = req["ambiguous_rate"].get<double>();
        if (req.contains("outage")) forced_outage_ = req["outage"].get<bool>();
        reply = {{"ok", true}};
      } else {
        reply = {{"ok", false},
                 {"error", "unknown cmd '" + cmd + "' (summary, flush, set, forget, duplicate, export)"}};
      }
    } catch (const std::exception& e) {
      reply = {{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
    }
    control_.send(zmq::buffer(reply.dump()), zmq::send_flags::none);
  }

  void Run() {
    std::vector<zmq::pollitem_t> items{{router_.handle(), 0, ZMQ_POLLIN, 0}};
    if (control_.handle() != nullptr) items.push_back({control_.handle(), 0, ZMQ_POLLIN, 0});
    int64_t last_flush = SteadyNowNs();
    while (!stop_.load()) {
      int64_t now = SteadyNowNs();
      int64_t wait_ns = 10'000'000;
      {
        std::lock_guard<std::mutex> lock(mu_);
        while (!replies_.empty() && replies_.top().due_ns <= now) {
          const PendingReply& r = replies_.top();
          try {
            router_.send(zmq::buffer(r.identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            router_.send(zmq::buffer(r.ack), zmq::send_flags::dontwait);
          } catch (const zmq::error_t&) {
            // The peer went away (EHOSTUNREACH is off by default: dropped silently).
          }
          replies_.pop();
        }
        if (!replies_.empty()) wait_ns = std::min<int64_t>(wait_ns, replies_.top().due_ns - now);
        if (now - last_flush > 200'000'000 && ledger_file_.is_open()) {
          ledger_file_.flush();
          last_flush = now;
        }
      }
      try {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(std::max<int64_t>(0, wait_ns / 1'000'000)));
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) spdlog::error("erp-sim: poll: {}", e.what());
        continue;
      }
      if (items[0].revents & ZMQ_POLLIN) {
        zmq::message_t identity, body;
        for (int i = 0; i < 4096; ++i) {
          if (!router_.recv(identity, zmq::recv_flags::dontwait)) break;
          std::vector<zmq::message_t> frames;
          bool more = identity.more();
          while (more) {
            frames.emplace_back();
            if (!router_.recv(frames.back(), zmq::recv_flags::none)) break;
            more = frames.back().more();
          }
          if (frames.empty()) continue;
          std::lock_guard<std::mutex> lock(mu_);
          const int64_t at = SteadyNowNs();
          // One frame per command; extra frames (a REQ-style empty delimiter) are skipped.
          for (auto& f : frames) {
            if (f.size() == 0) continue;
            Handle(identity.to_string(), std::string_view(static_cast<const char*>(f.data()), f.size()), at);
          }
        }
      }
      if (items.size() > 1 && (items[1].revents & ZMQ_POLLIN)) HandleControl();
    }
  }

  ErpSimOptions options_;
  zmq::context_t ctx_{1};
  zmq::socket_t router_{ctx_, zmq::socket_type::router};
  zmq::socket_t control_;
  std::string endpoint_;
  std::string control_endpoint_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  int64_t started_ns_ = 0;

  mutable std::mutex mu_;
  std::mt19937_64 rng_;                           // GUARDED_BY(mu_)
  bool rejections_enabled_ = true;                // GUARDED_BY(mu_)
  bool forced_outage_ = false;                    // GUARDED_BY(mu_)
  ErpSimSummary summary_;                         // GUARDED_BY(mu_)
  LatencyHistogram event_to_post_us_;             // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::string> documents_;  // command_id -> document
  std::unordered_map<std::string, OrderSeq> order_seq_;
  std::set<std::string> rejected_ids_;
  std::vector<ErpPosting> ledger_;
  std::unordered_set<std::string> forgotten_;  // document ids lost by the ERP (Forget)
  std::ofstream ledger_file_;
  uint64_t document_counter_ = 0;
  std::priority_queue<PendingReply, std::vector<PendingReply>, std::greater<PendingReply>> replies_;
  uint64_t reply_counter_ = 0;
  flatbuffers::FlatBufferBuilder fbb_{256};
};

ErpSimulator::ErpSimulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ErpSimulator::~ErpSimulator() { Stop(); }

Result<std::unique_ptr<ErpSimulator>> ErpSimulator::Start(const ErpSimOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  ORDERSYNC_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<ErpSimulator>(new ErpSimulator(std::move(impl)));
}

void ErpSimulator::Stop() { impl_->Stop(); }
const std::string& ErpSimulator::endpoint() const { return impl_->endpoint(); }
const std::string& ErpSimulator::control_endpoint() const { return impl_->control_endpoint(); }
void ErpSimulator::SetRejectionsEnabled(bool enabled) { impl_->SetRejectionsEnabled(enabled); }
void ErpSimulator::SetRejectRate(double rate) { impl_->SetRejectRate(rate); }
void ErpSimulator::SetRejectOrders(std::vector<std::string> orders) { impl_->SetRejectOrders(std::move(orders)); }
void ErpSimulator::SetRejectCommandIds(std::vector<std::string> ids) { impl_->SetRejectCommandIds(std::move(ids)); }
void ErpSimulator::SetTransientOrders(std::vector<std::string> orders) { impl_->SetTransientOrders(std::move(orders)); }
void ErpSimulator::SetTransientErrorRate(double rate) { impl_->SetTransientErrorRate(rate); }
void ErpSimulator::SetTimeoutRate(double rate) { impl_->SetTimeoutRate(rate); }
void ErpSimulator::SetAmbiguousRate(double rate) { impl_->SetAmbiguousRate(rate); }
void ErpSimulator::ForceOutage(bool down) { impl_->ForceOutage(down); }
ErpSimSummary ErpSimulator::Summary() const { return impl_->Summary(); }
std::string ErpSimulator::SummaryJson() const { return impl_->SummaryJson(); }
std::vector<ErpPosting> ErpSimulator::Ledger() const { return impl_->Ledger(); }
std::vector<std::string> ErpSimulator::RejectedCommandIds() const { return impl_->RejectedCommandIds(); }
std::vector<ErpPosting> ErpSimulator::Documents() const { return impl_->Documents(); }
size_t ErpSimulator::Forget(const std::vector<std::string>& command_ids) { return impl_->Forget(command_ids); }
size_t ErpSimulator::Duplicate(const std::vector<std::string>& command_ids) { return impl_->Duplicate(command_ids); }
Status ErpSimulator::Flush() { return impl_->Flush(); }

}  // namespace ordersync
