#include "adapters/cli/demo_erp.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "adapters/erp/connectors/erp_kind.h"

namespace ordersync {
namespace {

constexpr const char* kClientId = "ordersync-demo";
constexpr const char* kUser = "ORDERSYNC";

std::string ApiTitle(const std::string& api) {
  if (api == "netsuite") return "NetSuite REST API";
  if (api == "sap_s4") return "SAP S/4HANA OData API";
  if (api == "d365_bc") return "Business Central API v2.0";
  if (api == "oracle_fusion") return "Oracle Fusion REST API";
  return "webhook";
}

Status WriteSecretFile(const std::string& path, const std::string& value) {
  std::ofstream out(path, std::ios::trunc);
  out << value << "\n";
  out.close();
  if (!out || ::chmod(path.c_str(), 0600) != 0) return Status::IOError("cannot write " + path);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<DemoErp>> DemoErp::Start(const std::string& api, const ErpSimOptions& faults,
                                                const std::string& data_dir) {
  std::unique_ptr<DemoErp> erp(new DemoErp());
  erp->api_ = api;
  const std::optional<ErpKind> kind = ErpKindFromName(api);
  if (!kind) return Status::InvalidArgument("--erp: unknown ERP '" + api + "'");
  auto zmq = ErpSimulator::Start(faults);
  if (!zmq.ok()) return zmq.status();
  erp->zmq_ = std::move(zmq).value();
  if (!IsHttpErpKind(*kind)) return erp;

  ErpHttpSimOptions h;
  h.api = api;
  h.threads = 32;
  h.latency = faults.latency;
  h.latency_us = faults.latency_us;
  h.reject_rate = faults.reject_rate;
  h.outage_at_s = faults.outage_at_s;
  h.outage_for_s = faults.outage_for_s;
  h.outage_answers_errors = faults.outage_answers_errors;  // 503 + Retry-After while down
  h.seed = faults.seed;
  erp->secrets_dir_ = data_dir + "/demo-secrets";
  std::error_code ec;
  std::filesystem::create_directories(erp->secrets_dir_, ec);
  if (ec) return Status::IOError("cannot create " + erp->secrets_dir_ + ": " + ec.message());
  ::chmod(erp->secrets_dir_.c_str(), 0700);
  if (api == "netsuite" || api == "d365_bc") {
    h.auth = "oauth2";
    h.client_id = kClientId;
    h.client_secret = "demo-client-secret";
    h.token_ttl_s = 30;  // a few refreshes in a demo run
    erp->auth_ = "oauth2_client_secret";
    ORDERSYNC_RETURN_IF_ERROR(WriteSecretFile(erp->secrets_dir_ + "/client_secret", h.client_secret));
  } else if (api == "sap_s4" || api == "oracle_fusion") {
    h.auth = "basic";
    h.username = kUser;
    h.password = "demo-password";
    erp->auth_ = "basic";
    ORDERSYNC_RETURN_IF_ERROR(WriteSecretFile(erp->secrets_dir_ + "/password", h.password));
  } else {
    erp->auth_ = "none";
  }
  auto http = ErpHttpSimulator::Start(h);
  if (!http.ok()) {
    erp->zmq_->Stop();
    return http.status();
  }
  erp->http_ = std::move(http).value();
  return erp;
}

AppConfig DemoErp::Configure(const AppConfig& config) const {
  AppConfig c = config;
  if (http_ == nullptr) {
    for (ErpTargetOptions& t : c.erp.targets) t.endpoint = zmq_->endpoint();
    return c;
  }
  // The policies (rate, window, retries, circuit breaker) of the config's first target.
  const ErpTargetOptions base = c.erp.targets.empty() ? ErpTargetOptions{} : c.erp.targets.front();
  ErpTargetOptions erp = base;
  erp.name = "erp";
  erp.kind = api_;
  erp.http = HttpTargetOptions{};
  erp.http.transport.base_url = http_->base_url() + (api_ == "webhook" ? "/hooks/ordersync" : "");
  erp.http.auth.method = auth_;
  if (auth_ == "oauth2_client_secret") {
    erp.http.auth.token_url = http_->token_url();
    erp.http.auth.client_id = kClientId;
    erp.http.auth.client_secret_file = secrets_dir_ + "/client_secret";
  } else if (auth_ == "basic") {
    erp.http.auth.username = kUser;
    erp.http.auth.password_file = secrets_dir_ + "/password";
  }
  erp.http.document.customer = "C-1000";
  erp.http.document.company_id = "6f1e7c1a-0000-4000-8000-000000000001";
  ErpTargetOptions wms = base;
  wms.name = "wms";
  wms.kind = "zmq";
  wms.endpoint = zmq_->endpoint();
  wms.http = HttpTargetOptions{};
  c.erp.targets = {erp, wms};
  // What the ERP cannot take goes to "wms" (the config loader's rule, kept by hand here).
  RoutingOptions routing;
  routing.default_target = "erp";
  const ErpKind kind = *ErpKindFromName(api_);
  for (CommandKind k : EnumValuesCommandKind()) {
    if (ErpKindSupports(kind, k)) continue;
    RouteRule rule;
    rule.company_code = "*";
    rule.match_kind = true;
    rule.kind = k;
    rule.target = "wms";
    routing.rules.push_back(std::move(rule));
  }
  c.engine.routing = std::move(routing);
  return c;
}

ErpSimSummary DemoErp::Summary() const {
  ErpSimSummary s = zmq_->Summary();
  if (http_ == nullptr) return s;
  const ErpHttpSimSummary h = http_->Summary();
  const ErpSimSummary& b = h.base;
  s.received += b.received;
  s.postings += b.postings;
  s.duplicates_received += h.duplicate_postings;
  s.out_of_order_arrivals += b.out_of_order_arrivals;
  s.sequence_gaps = 0;  // an order's commands are split over the two: gaps are expected
  s.transient_errors += b.transient_errors;
  s.rejections += b.rejections;
  s.rejected_commands += b.rejected_commands;
  s.timeouts_injected += b.timeouts_injected;
  s.ambiguous_injected += b.ambiguous_injected;
  s.outage_drops += b.outage_drops;
  s.malformed += b.malformed;
  s.orders = std::max(s.orders, b.orders);
  return s;
}

std::vector<ErpPosting> DemoErp::Ledger() const {
  std::vector<ErpPosting> all = zmq_->Ledger();
  if (http_ != nullptr) {
    for (ErpPosting& p : http_->Ledger()) all.push_back(std::move(p));
    std::stable_sort(all.begin(), all.end(),
                     [](const ErpPosting& a, const ErpPosting& b) { return a.posted_at_ns < b.posted_at_ns; });
  }
  return all;
}

std::string DemoErp::Describe() const {
  if (http_ == nullptr) return "simulated ERP at " + zmq_->endpoint();
  std::string d = "simulated " + ApiTitle(api_) + " at " + http_->base_url() + " (" +
                  (auth_ == "oauth2_client_secret" ? std::string("OAuth 2.0 client credentials")
                   : auth_ == "basic"              ? std::string(api_ == "sap_s4" ? "Basic + CSRF" : "Basic")
                                                   : std::string("Idempotency-Key")) +
                  ") as target erp";
  const ErpKind kind = *ErpKindFromName(api_);
  std::string others;
  for (CommandKind k : EnumValuesCommandKind()) {
    if (!ErpKindSupports(kind, k)) others += std::string(others.empty() ? "" : ", ") + EnumNameCommandKind(k);
  }
  if (!others.empty()) d += ";\n             " + others + " -> a ZeroMQ simulator at " + zmq_->endpoint() + " as target wms";
  return d;
}

void DemoErp::Stop() {
  if (http_ != nullptr) http_->Stop();
  if (zmq_ != nullptr) zmq_->Stop();
}

}  // namespace ordersync
