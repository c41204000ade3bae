#include "adapters/erp/connectors/sim/erp_http_simulator.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/odata_batch.h"
#include "adapters/erp/connectors/sim/sim_internal.h"

namespace ordersync {
namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    const size_t eq = kv.find('=');
    out[UrlDecode(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : UrlDecode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string RandomHex(std::mt19937_64& rng) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

ErpHttpSimulator::Impl::Impl(const ErpHttpSimOptions& o) : o_(o), rng_(o.seed) {}
ErpHttpSimulator::Impl::~Impl() { Stop(); }

SimAnswer ErpHttpSimulator::Impl::Json(int status, const std::string& body) {
  SimAnswer a;
  a.status = status;
  a.body = body;
  return a;
}

std::string ErpHttpSimulator::Impl::TokenPath() const {
  if (o_.api == "netsuite") return "/services/rest/auth/oauth2/v1/token";
  if (o_.api == "d365_bc") return "/common/oauth2/v2.0/token";
  if (o_.api == "oracle_fusion") return "/oauth2/v1/token";
  if (o_.api == "sap_s4") return "/sap/bc/sec/oauth2/token";
  return "/oauth2/token";
}

Status ErpHttpSimulator::Impl::Start() {
  static const std::vector<std::string> apis = {"netsuite", "sap_s4", "d365_bc", "oracle_fusion", "webhook"};
  if (std::find(apis.begin(), apis.end(), o_.api) == apis.end()) {
    return Status::InvalidArgument("erp-sim: unknown --api '" + o_.api +
                                   "' (netsuite, sap_s4, d365_bc, oracle_fusion, webhook)");
  }
  if (!o_.jwt_public_key_pem.empty()) {
    auto key = LoadPublicKeyPem(o_.jwt_public_key_pem);
    if (!key.ok()) return Status::InvalidArgument("erp-sim: JWT public key: " + key.status().message());
    jwt_key_ = std::move(*key);
  }
  if (!o_.cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(o_.cert_file.c_str(), o_.key_file.c_str());
    if (!ssl->is_valid()) return Status::InvalidArgument("erp-sim: cannot load TLS cert/key " + o_.cert_file);
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  const int threads = std::max(2, o_.threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server_->set_keep_alive_max_count(100000);
  server_->set_keep_alive_timeout(2);
  server_->set_tcp_nodelay(true);  // headers and body go in two writes: no Nagle + delayed-ACK stall
  server_->set_read_timeout(5, 0);
  server_->set_payload_max_length(64 * 1024 * 1024);
  auto handler = [this](const httplib::Request& hr, httplib::Response& res) {
    SimRequest req;
    req.method = hr.method;
    req.path = hr.path;
    for (const auto& [k, v] : hr.params) req.params[k] = v;
    for (const auto& [k, v] : hr.headers) req.headers[Lower(k)] = v;
    req.body = hr.body;
    SimAnswer a = HandleHttp(req);
    res.status = a.status;
    for (const auto& [k, v] : a.headers) res.set_header(k, v);
    if (!a.body.empty() || a.status != 204) res.set_content(a.body, a.content_type);
  };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
  port_ = o_.port == 0 ? server_->bind_to_any_port(o_.host) : (server_->bind_to_port(o_.host, o_.port) ? o_.port : -1);
  if (port_ <= 0) return Status::InvalidArgument("erp-sim: cannot bind " + o_.host + ":" + std::to_string(o_.port));
  if (!o_.ledger_path.empty()) {
    ledger_file_.open(o_.ledger_path, std::ios::out | std::ios::trunc);
    if (!ledger_file_.is_open()) return Status::IOError("erp-sim: cannot write ledger " + o_.ledger_path);
  }
  started_ns_ = SteadyNs();
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::OK();
}

void ErpHttpSimulator::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (ledger_file_.is_open()) ledger_file_.flush();
}

std::string ErpHttpSimulator::Impl::NextId(const std::string& prefix, uint64_t start) {
  uint64_t& c = counters_[prefix];
  if (c == 0) c = start;
  return prefix + std::to_string(c++);
}

bool ErpHttpSimulator::Impl::Rejects(const SimRequest& req) {
  if (!rejections_enabled_) return false;
  const std::string* cmd = req.Header("x-ordersync-command-id");
  const std::string* order = req.Header("x-ordersync-order-id");
  const std::string id = cmd != nullptr ? *cmd : "";
  bool reject = false;
  if (!id.empty() &&
      std::find(o_.reject_command_ids.begin(), o_.reject_command_ids.end(), id) != o_.reject_command_ids.end()) {
    reject = true;
  }
  if (order != nullptr &&
      std::find(o_.reject_orders.begin(), o_.reject_orders.end(), *order) != o_.reject_orders.end()) {
    reject = true;
  }
  for (const std::string& sku : o_.reject_skus) {
    if (req.body.find("\"" + sku + "\"") != std::string::npos) reject = true;
  }
  if (!reject && o_.reject_rate > 0 && !id.empty()) {
    const uint64_t h = std::hash<std::string>{}(id) ^ (o_.seed * 0x9e3779b97f4a7c15ULL);
    reject = static_cast<double>(h % 1000000) / 1e6 < o_.reject_rate;
  }
  if (reject) {
    ++summary_.base.rejections;
    if (!id.empty()) rejected_ids_.insert(id);
  }
  return reject;
}

std::optional<SimAnswer> ErpHttpSimulator::Impl::PostingFaults(const SimRequest& req) {
  ++summary_.base.received;
  std::uniform_real_distribution<double> u(0, 1);
  const std::string* order = req.Header("x-ordersync-order-id");
  const bool transient_order = order != nullptr && std::find(o_.transient_orders.begin(), o_.transient_orders.end(),
                                                             *order) != o_.transient_orders.end();
  if (o_.timeout_rate > 0 && u(rng_) < o_.timeout_rate) {
    ++summary_.base.timeouts_injected;
    SimAnswer a;
    a.withhold = true;
    return a;
  }
  const bool every_nth = o_.transient_error_every > 0 && summary_.base.received % o_.transient_error_every == 0;
  if (transient_order || every_nth || (o_.transient_error_rate > 0 && u(rng_) < o_.transient_error_rate)) {
    ++summary_.base.transient_errors;
    return Json(503, R"j({"error":{"code":"503","message":"Service temporarily unavailable (simulated)"}})j");
  }
  return std::nullopt;
}

bool ErpHttpSimulator::Impl::LoseReply() {
  if (o_.ambiguous_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < o_.ambiguous_rate) {
    ++summary_.base.ambiguous_injected;
    return true;
  }
  return false;
}

std::vector<const SimDocument*> ErpHttpSimulator::Impl::Find(const std::string& collection,
                                                             const std::string& reference) const {
  std::vector<const SimDocument*> out;
  auto it = documents_.find(collection);
  if (it == documents_.end()) return out;
  for (const SimDocument& d : it->second) {
    if (d.reference == reference) out.push_back(&d);
  }
  return out;
}

SimDocument* ErpHttpSimulator::Impl::FindById(const std::string& collection, const std::string& id) {
  auto it = documents_.find(collection);
  if (it == documents_.end()) return nullptr;
  for (SimDocument& d : it->second) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

SimDocument& ErpHttpSimulator::Impl::Post(const SimRequest& req, const std::string& collection,
                                          const std::string& reference, bool unique_reference,
                                          const std::string& kind, std::string id, std::string number) {
  if (!unique_reference && !Find(collection, reference).empty()) ++summary_.duplicate_postings;
  const std::string* cmd = req.Header("x-ordersync-command-id");
  const std::string* order = req.Header("x-ordersync-order-id");
  const std::string* seq = req.Header("x-ordersync-order-seq");
  SimDocument d;
  d.id = std::move(id);
  d.number = number.empty() ? d.id : std::move(number);
  d.reference = reference;
  d.command_id = cmd != nullptr ? *cmd : reference;
  d.collection = collection;
  d.body = req.body;
  d.created_ns = WallNs();
  if (!posted_command_ids_.insert(d.command_id).second) ++summary_.base.duplicates_received;
  ErpPosting p;
  p.posted_at_ns = WallNs();
  p.document_id = d.number;
  p.command_id = d.command_id;
  p.order_id = order != nullptr ? *order : "";
  p.order_cmd_seq = seq != nullptr ? std::strtoull(seq->c_str(), nullptr, 10) : 0;
  CommandKind k = CommandKind::CreateSalesOrder;
  for (CommandKind v : EnumValuesCommandKind()) {
    if (kind == EnumNameCommandKind(v)) k = v;
  }
  p.kind = k;
  p.target = o_.api;
  ++summary_.base.postings;
  if (!p.order_id.empty()) {
    uint64_t& max_seq = order_max_seq_[p.order_id];
    if (p.order_cmd_seq < max_seq) ++summary_.base.out_of_order_arrivals;
    else if (p.order_cmd_seq > max_seq + 1) ++summary_.base.sequence_gaps;
    max_seq = std::max(max_seq, p.order_cmd_seq);
  }
  if (ledger_file_.is_open()) {
    ledger_file_ << p.posted_at_ns << '\t' << p.document_id << '\t' << p.command_id << '\t' << p.order_id << '\t'
                 << p.order_cmd_seq << '\t' << kind << '\t' << p.target << '\n';
  }
  ledger_.push_back(std::move(p));
  std::vector<SimDocument>& docs = documents_[collection];
  docs.push_back(std::move(d));
  return docs.back();
}

SimAnswer ErpHttpSimulator::Impl::HandleHttp(SimRequest& req) {
  int64_t delay_us = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++summary_.http_requests;
    if (const std::string* epoch = req.Header("ordersync-epoch"); epoch != nullptr) {
      ++summary_.requests_by_epoch[std::strtoull(epoch->c_str(), nullptr, 10)];
    }
    if (o_.latency_us > 0) {
      if (o_.latency == "uniform") {
        delay_us = std::uniform_int_distribution<int64_t>(0, 2 * int64_t{o_.latency_us})(rng_);
      } else if (o_.latency == "exponential") {
        delay_us = static_cast<int64_t>(std::exponential_distribution<double>(1.0 / o_.latency_us)(rng_));
      } else {
        delay_us = o_.latency_us;
      }
    }
  }
  auto wait = [this](int64_t us) {
    std::unique_lock<std::mutex> lock(mu_);
    stop_cv_.wait_for(lock, std::chrono::microseconds(us), [this] { return stopping_; });
  };
  if (delay_us > 0) wait(delay_us);
  SimAnswer a = [&]() -> SimAnswer {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Json(503, R"j({"error":"shutting down"})j");
    const int64_t now = SteadyNs();
    // Token endpoint.
    if (req.method == "POST" && req.path == TokenPath()) {
      const auto form = ParseQuery(req.body);
      auto get = [&](const char* k) { auto it = form.find(k); return it == form.end() ? std::string() : it->second; };
      auto refuse = [](const std::string& why) {
        return Json(401, nlohmann::json{{"error", "invalid_client"}, {"error_description", why}}.dump());
      };
      if (o_.auth != "oauth2") return Json(404, R"j({"error":"no OAuth on this simulator"})j");
      if (get("grant_type") != "client_credentials") {
        return Json(400, R"j({"error":"unsupported_grant_type"})j");
      }
      if (!get("client_assertion").empty()) {
        if (jwt_key_ == nullptr) return refuse("client assertions are not configured");
        if (get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
          return refuse("bad client_assertion_type");
        }
        auto claims = VerifyJwt(get("client_assertion"), jwt_key_.get());
        if (!claims.ok()) return refuse(claims.status().message());
        const int64_t wall_s = WallNs() / 1'000'000'000;
        if (claims->value("iss", "") != o_.client_id || claims->value("exp", int64_t{0}) < wall_s ||
            claims->value("aud", "").empty()) {
          return refuse("assertion claims (iss/exp/aud) not accepted");
        }
      } else if (get("client_id") != o_.client_id || get("client_secret") != o_.client_secret) {
        return refuse("client id or secret wrong");
      }
      const std::string token = RandomHex(rng_);
      tokens_[token] = now + int64_t{o_.token_ttl_s} * 1'000'000'000;
      ++summary_.tokens_issued;
      return Json(200, nlohmann::json{{"access_token", token}, {"token_type", "Bearer"},
                                      {"expires_in", o_.token_ttl_s}}.dump());
    }
    // Authentication.
    const std::string* authz = req.Header("authorization");
    if (o_.auth == "basic") {
      if (authz == nullptr || *authz != "Basic " + Base64Encode(o_.username + ":" + o_.password)) {
        ++summary_.unauthorized;
        SimAnswer x = Json(401, R"j({"error":{"code":"401","message":"Unauthorized"}})j");
        x.headers.emplace_back("WWW-Authenticate", "Basic realm=\"SAP NetWeaver Application Server\"");
        return x;
      }
    } else if (o_.auth == "oauth2") {
      auto it = authz != nullptr && authz->rfind("Bearer ", 0) == 0 ? tokens_.find(authz->substr(7)) : tokens_.end();
      if (it == tokens_.end() || it->second < now) {
        ++summary_.unauthorized;
        SimAnswer x = Json(401, R"j({"error":{"code":"401","message":"Invalid or expired access token"}})j");
        x.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return x;
      }
    }
    // Outages and throttling.
    const int64_t since_s = (now - started_ns_) / 1'000'000'000;
    auto in_window = [&](uint32_t at, uint32_t length, uint32_t every) {
      if (length == 0 || since_s < at) return false;
      const int64_t offset = since_s - at;
      return every == 0 ? offset < length : offset % every < length;
    };
    if (forced_outage_ || in_window(o_.outage_at_s, o_.outage_for_s, o_.outage_every_s)) {
      if (o_.outage_answers_errors) {
        ++summary_.base.transient_errors;
        SimAnswer x = Json(503, R"j({"error":{"code":"503","message":"Service Unavailable (simulated outage)"}})j");
        x.headers.emplace_back("Retry-After", std::to_string(o_.retry_after_s));
        return x;
      }
      ++summary_.base.outage_drops;
      SimAnswer x;
      x.withhold = true;
      return x;
    }
    if (forced_storm_ || in_window(o_.storm_at_s, o_.storm_for_s, o_.storm_every_s) ||
        (o_.throttle_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < o_.throttle_rate)) {
      ++summary_.throttled;
      SimAnswer x = Json(429, R"j({"error":{"code":"429","message":"Too Many Requests (simulated)"}})j");
      x.headers.emplace_back("Retry-After", std::to_string(o_.retry_after_s));
      return x;
    }
    // SAP CSRF protocol.
    if (o_.api == "sap_s4") {
      const std::string* cookie = req.Header("cookie");
      std::string session;
      if (cookie != nullptr) {
        const size_t p = cookie->find("SAP_SESSIONID_OS=");
        if (p != std::string::npos) session = cookie->substr(p + 17, cookie->find(';', p) - p - 17);
      }
      const std::string* fetch = req.Header("x-csrf-token");
      if (req.method == "GET" && fetch != nullptr && Lower(*fetch) == "fetch") {
        if (session.empty() || csrf_sessions_.count(session) == 0) session = RandomHex(rng_);
        CsrfSession& s = csrf_sessions_[session];
        s.token = Base64Encode(RandomHex(rng_)).substr(0, 24);
        s.issued_ns = now;
        ++summary_.csrf_tokens_issued;
        SimAnswer x = Json(200, R"j({"d":{"EntitySets":["A_SalesOrder"]}})j");
        x.headers.emplace_back("x-csrf-token", s.token);
        x.headers.emplace_back("Set-Cookie", "SAP_SESSIONID_OS=" + session + "; path=/; HttpOnly");
        return x;
      }
      if (req.method != "GET") {
        auto it = csrf_sessions_.find(session);
        const bool valid = it != csrf_sessions_.end() && fetch != nullptr && *fetch == it->second.token &&
                           (o_.csrf_ttl_s == 0 || now - it->second.issued_ns < int64_t{o_.csrf_ttl_s} * 1'000'000'000);
        if (!valid) {
          ++summary_.csrf_refused;
          SimAnswer x = Json(403, R"j({"error":{"code":"403","message":{"lang":"en","value":"CSRF token validation failed"}}})j");
          x.headers.emplace_back("x-csrf-token", "Required");
          return x;
        }
      }
    }
    if (req.method == "GET") ++summary_.lookups;
    // $batch.
    if (req.method == "POST" && req.path.size() > 7 && req.path.ends_with("/$batch")) {
      const std::string root = req.path.substr(0, req.path.size() - 7);
      std::vector<BatchRequestPart> parts;
      const bool json = o_.api == "d365_bc";
      if (json) {
        const nlohmann::json doc = nlohmann::json::parse(req.body, nullptr, false);
        if (!doc.is_object() || !doc.contains("requests")) return Json(400, R"j({"error":{"code":"BadRequest","message":"malformed $batch"}})j");
        for (const nlohmann::json& r : doc["requests"]) {
          BatchRequestPart p;
          p.method = r.value("method", "");
          p.url = r.value("url", "");
          if (r.contains("headers")) {
            for (const auto& [k, v] : r["headers"].items()) p.headers.emplace_back(k, v.get<std::string>());
          }
          if (r.contains("body")) p.body = r["body"].dump();
          parts.push_back(std::move(p));
        }
      } else {
        const std::string* ct = req.Header("content-type");
        auto decoded = DecodeMultipartBatchRequest(req.body, ct != nullptr ? *ct : "");
        if (!decoded.ok()) {
          return Json(400, nlohmann::json{{"error", {{"code", "/IWBEP/CM_MGW_RT/000"},
                                                     {"message", {{"lang", "en"}, {"value", decoded.status().message()}}}}}}.dump());
        }
        parts = std::move(*decoded);
      }
      ++summary_.batches;
      summary_.batch_parts += parts.size();
      std::vector<BatchResponsePart> answers;
      bool withhold = false;
      for (BatchRequestPart& p : parts) {
        SimRequest sub;
        sub.method = p.method;
        const size_t q = p.url.find('?');
        sub.path = root + "/" + UrlDecode(p.url.substr(0, q));
        if (q != std::string::npos) sub.params = ParseQuery(std::string_view(p.url).substr(q + 1));
        for (const auto& [k, v] : p.headers) sub.headers[Lower(k)] = v;
        sub.body = p.body;
        SimAnswer pa = o_.api == "sap_s4" ? HandleSap(sub) : HandleBc(sub);
        withhold = withhold || pa.withhold;
        BatchResponsePart r;
        r.status = pa.withhold ? 200 : pa.status;
        r.headers = pa.headers;
        r.headers.emplace_back("Content-Type", pa.content_type);
        r.body = pa.body;
        answers.push_back(std::move(r));
      }
      SimAnswer x;
      x.withhold = withhold;
      if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (size_t i = 0; i < answers.size(); ++i) {
          nlohmann::json h = nlohmann::json::object();
          for (const auto& [k, v] : answers[i].headers) h[k] = v;
          nlohmann::json r = {{"id", std::to_string(i + 1)}, {"status", answers[i].status}, {"headers", h}};
          const nlohmann::json body = nlohmann::json::parse(answers[i].body, nullptr, false);
          if (!body.is_discarded()) r["body"] = body;
          list.push_back(std::move(r));
        }
        x.status = 200;
        x.body = nlohmann::json{{"responses", list}}.dump();
      } else {
        x.status = 202;
        x.body = EncodeMultipartBatchResponse(answers, "batchresponse_" + RandomHex(rng_).substr(0, 12), &x.content_type);
      }
      return x;
    }
    if (o_.api == "netsuite") return HandleNetSuite(req);
    if (o_.api == "sap_s4") return HandleSap(req);
    if (o_.api == "d365_bc") return HandleBc(req);
    if (o_.api == "oracle_fusion") return HandleOracle(req);
    return HandleWebhook(req);
  }();
  if (a.withhold) {
    wait(int64_t{o_.withhold_ms} * 1000);
    return Json(504, R"j({"error":"reply withheld (simulated lost reply)"})j");
  }
  return a;
}

}  // namespace ordersync
