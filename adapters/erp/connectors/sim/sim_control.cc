// The public face of ErpHttpSimulator (erp_http_simulator.h): start and stop, the run-time
// fault switches, and the summary, ledger and documents read by tests and `erp-sim`.
// Each method takes the simulator's lock (sim_internal.h); the server, auth and APIs are
// in erp_http_simulator.cc, sim_apis.cc and sim_queries.cc.
#include <fstream>

#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/sim/erp_http_simulator.h"
#include "adapters/erp/connectors/sim/sim_internal.h"

namespace ordersync {

ErpHttpSimulator::ErpHttpSimulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ErpHttpSimulator::~ErpHttpSimulator() { Stop(); }

Result<std::unique_ptr<ErpHttpSimulator>> ErpHttpSimulator::Start(const ErpHttpSimOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  ORDERSYNC_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<ErpHttpSimulator>(new ErpHttpSimulator(std::move(impl)));
}

void ErpHttpSimulator::Stop() {
  impl_->Stop();
  Flush().PermitUncheckedError();
}
int ErpHttpSimulator::port() const { return impl_->port_; }
std::string ErpHttpSimulator::base_url() const {
  return std::string(impl_->o_.cert_file.empty() ? "http://" : "https://") + impl_->o_.host + ":" +
         std::to_string(impl_->port_);
}
std::string ErpHttpSimulator::token_url() const { return base_url() + impl_->TokenPath(); }

#define ORDERSYNC_SIM_SET(stmt)                    \
  do {                                             \
    std::lock_guard<std::mutex> lock(impl_->mu_);  \
    stmt;                                          \
  } while (0)
void ErpHttpSimulator::SetRejectionsEnabled(bool enabled) { ORDERSYNC_SIM_SET(impl_->rejections_enabled_ = enabled); }
void ErpHttpSimulator::SetRejectCommandIds(std::vector<std::string> ids) {
  ORDERSYNC_SIM_SET(impl_->o_.reject_command_ids = std::move(ids));
}
void ErpHttpSimulator::SetRejectRate(double rate) { ORDERSYNC_SIM_SET(impl_->o_.reject_rate = rate); }
void ErpHttpSimulator::SetTransientErrorRate(double rate) { ORDERSYNC_SIM_SET(impl_->o_.transient_error_rate = rate); }
void ErpHttpSimulator::SetThrottleRate(double rate) { ORDERSYNC_SIM_SET(impl_->o_.throttle_rate = rate); }
void ErpHttpSimulator::SetTimeoutRate(double rate) { ORDERSYNC_SIM_SET(impl_->o_.timeout_rate = rate); }
void ErpHttpSimulator::SetAmbiguousRate(double rate) { ORDERSYNC_SIM_SET(impl_->o_.ambiguous_rate = rate); }
void ErpHttpSimulator::ForceOutage(bool down) { ORDERSYNC_SIM_SET(impl_->forced_outage_ = down); }
void ErpHttpSimulator::ForceStorm(bool on) { ORDERSYNC_SIM_SET(impl_->forced_storm_ = on); }
void ErpHttpSimulator::ExpireTokens() { ORDERSYNC_SIM_SET(impl_->tokens_.clear()); }
void ErpHttpSimulator::ExpireCsrfTokens() { ORDERSYNC_SIM_SET(impl_->csrf_sessions_.clear()); }
void ErpHttpSimulator::SetQueryFault(std::string fault) { ORDERSYNC_SIM_SET(impl_->query_fault_ = std::move(fault)); }

size_t ErpHttpSimulator::DeleteDocuments(const std::string& command_id) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  size_t n = 0;
  for (auto& [collection, docs] : impl_->documents_) {
    const size_t before = docs.size();
    std::erase_if(docs, [&](const SimDocument& d) { return d.command_id == command_id; });
    n += before - docs.size();
  }
  return n;
}
#undef ORDERSYNC_SIM_SET

ErpHttpSimSummary ErpHttpSimulator::Summary() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  ErpHttpSimSummary s = impl_->summary_;
  s.base.rejected_commands = impl_->rejected_ids_.size();
  s.base.orders = impl_->order_max_seq_.size();
  return s;
}

std::string ErpHttpSimulator::SummaryJson() const {
  const ErpHttpSimSummary s = Summary();
  const ErpSimSummary& b = s.base;
  nlohmann::json j = {{"api", impl_->o_.api},
                      {"endpoint", base_url()},
                      {"received", b.received},
                      {"postings", b.postings},
                      {"duplicates_received", b.duplicates_received},
                      {"duplicate_postings", s.duplicate_postings},
                      {"out_of_order_arrivals", b.out_of_order_arrivals},
                      {"sequence_gaps", b.sequence_gaps},
                      {"transient_errors", b.transient_errors},
                      {"rejections", b.rejections},
                      {"rejected_commands", b.rejected_commands},
                      {"timeouts_injected", b.timeouts_injected},
                      {"ambiguous_injected", b.ambiguous_injected},
                      {"outage_drops", b.outage_drops},
                      {"orders", b.orders},
                      {"http_requests", s.http_requests},
                      {"throttled", s.throttled},
                      {"unauthorized", s.unauthorized},
                      {"csrf_refused", s.csrf_refused},
                      {"tokens_issued", s.tokens_issued},
                      {"csrf_tokens_issued", s.csrf_tokens_issued},
                      {"lookups", s.lookups},
                      {"batches", s.batches},
                      {"batch_parts", s.batch_parts},
                      {"replayed", s.replayed}};
  if (!s.requests_by_epoch.empty()) {
    nlohmann::json epochs = nlohmann::json::object();
    for (const auto& [epoch, n] : s.requests_by_epoch) epochs[std::to_string(epoch)] = n;
    j["requests_by_epoch"] = std::move(epochs);
  }
  return j.dump(2);
}

std::vector<ErpPosting> ErpHttpSimulator::Ledger() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->ledger_;
}

std::vector<std::string> ErpHttpSimulator::RejectedCommandIds() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return std::vector<std::string>(impl_->rejected_ids_.begin(), impl_->rejected_ids_.end());
}

Status ErpHttpSimulator::Flush() {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  if (impl_->ledger_file_.is_open()) impl_->ledger_file_.flush();
  if (!impl_->o_.rejected_path.empty()) {
    std::ofstream out(impl_->o_.rejected_path, std::ios::out | std::ios::trunc);
    if (!out.is_open()) return Status::IOError("erp-sim: cannot write " + impl_->o_.rejected_path);
    for (const std::string& id : impl_->rejected_ids_) out << id << "\n";
  }
  return Status::OK();
}

}  // namespace ordersync
