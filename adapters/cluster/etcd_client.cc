#include "adapters/cluster/etcd_client.h"

#include <curl/curl.h>

#include <array>
#include <mutex>

#include <nlohmann/json.hpp>

namespace ordersync {
namespace {

using nlohmann::json;
using etcd::Base64Decode;
using etcd::Base64Encode;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// gRPC status codes the gateway reports in {"error", "code", "message"}.
constexpr int kGrpcDeadlineExceeded = 4;
constexpr int kGrpcNotFound = 5;
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcFailedPrecondition = 9;
constexpr int kGrpcUnavailable = 14;

std::once_flag curl_global_once;

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// The gateway sends int64 fields as JSON strings and leaves out zero values.
int64_t Int64Field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    try {
      return std::stoll(it->get<std::string>());
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

std::string DecodedField(const json& j, const char* name) {
  auto it = j.find(name);
  std::string out;
  if (it != j.end() && it->is_string()) Base64Decode(it->get<std::string>(), &out);
  return out;
}

std::vector<EtcdKeyValue> ParseKvs(const json& j) {
  std::vector<EtcdKeyValue> kvs;
  auto it = j.find("kvs");
  if (it == j.end() || !it->is_array()) return kvs;
  for (const json& kv : *it) {
    EtcdKeyValue x;
    x.key = DecodedField(kv, "key");
    x.value = DecodedField(kv, "value");
    x.create_revision = Int64Field(kv, "create_revision");
    x.mod_revision = Int64Field(kv, "mod_revision");
    x.version = Int64Field(kv, "version");
    x.lease = Int64Field(kv, "lease");
    kvs.push_back(std::move(x));
  }
  return kvs;
}

int64_t HeaderRevision(const json& j) {
  auto it = j.find("header");
  return it != j.end() && it->is_object() ? Int64Field(*it, "revision") : 0;
}

Result<json> Parse(const std::string& text, std::string_view what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("etcd " + std::string(what) + ": answer is not a JSON object: " +
                              text.substr(0, 200));
  }
  return j;
}

// The failure branch of our txns reads the key: responses[0].response_range.kvs.
std::vector<EtcdKeyValue> TxnRangeKvs(const json& j) {
  auto it = j.find("responses");
  if (it == j.end() || !it->is_array() || it->empty()) return {};
  const json& first = (*it)[0];
  auto r = first.find("response_range");
  if (r == first.end()) return {};
  return ParseKvs(*r);
}

}  // namespace

namespace etcd {

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  out->clear();
  if (text.size() % 4 != 0) return false;
  std::array<int, 256> value;
  value.fill(-1);
  for (size_t i = 0; i < kBase64Alphabet.size(); ++i) value[uint8_t(kBase64Alphabet[i])] = int(i);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;
      v[k] = value[uint8_t(c)];
      if (v[k] < 0) return false;
    }
    const uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out->push_back(char((n >> 16) & 0xff));
    if (pad < 2) out->push_back(char((n >> 8) & 0xff));
    if (pad < 1) out->push_back(char(n & 0xff));
  }
  return true;
}

}  // namespace etcd

std::string PrefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (uint8_t(end.back()) < 0xff) {
      end.back() = char(uint8_t(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(EtcdClientOptions options) : options_(std::move(options)) {
  std::call_once(curl_global_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

EtcdClient::~EtcdClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::string> EtcdClient::Call(std::string_view path, const std::string& body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.endpoints.empty()) return Status::InvalidArgument("etcd: no endpoints configured");
  if (curl_ == nullptr) return Status::Internal("etcd: curl_easy_init failed");
  CURL* curl = static_cast<CURL*>(curl_);
  std::string errors;  // one clause per endpoint that failed
  const size_t n = options_.endpoints.size();
  for (size_t attempt = 0; attempt < n; ++attempt) {
    const size_t index = (current_endpoint_ + attempt) % n;
    const std::string& endpoint = options_.endpoints[index];
    std::string url = endpoint;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += path;
    std::string answer;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(options_.request_timeout_ms));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     long(std::min(options_.connect_timeout_ms, options_.request_timeout_ms)));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    struct curl_slist* headers = nullptr;
    if (!body.empty() || path != "/health") {
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, long(body.size()));
      headers = curl_slist_append(headers, "Content-Type: application/json");
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    }
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      errors += (errors.empty() ? "" : "; ") + endpoint + ": " + curl_easy_strerror(rc);
      continue;
    }
    long http_status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
    // An etcd error: {"error": "...", "code": N, "message": "..."}; streaming endpoints
    // (keepalive) wrap it: {"error": {"grpc_code": N, "message": "..."}}.
    json j = json::parse(answer, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error")) {
      const json& e = j["error"];
      int code = j.value("code", 0);
      std::string message = j.value("message", e.is_string() ? e.get<std::string>() : std::string());
      if (e.is_object()) {
        code = e.value("grpc_code", e.value("code", 0));
        message = e.value("message", std::string());
      }
      if (code == kGrpcUnavailable || code == kGrpcDeadlineExceeded) {
        errors += (errors.empty() ? "" : "; ") + endpoint + ": " + message;
        continue;
      }
      const std::string text = "etcd " + endpoint + std::string(path) + ": " + message +
                               " (gRPC code " + std::to_string(code) + ")";
      current_endpoint_ = index;
      if (code == kGrpcNotFound) return Status::NotFound(text);
      if (code == kGrpcInvalidArgument || code == kGrpcFailedPrecondition) {
        return Status::InvalidArgument(text);
      }
      return Status::Unavailable(text);
    }
    if (http_status >= 500) {
      errors += (errors.empty() ? "" : "; ") + endpoint + ": HTTP " + std::to_string(http_status);
      continue;
    }
    if (http_status != 200) {
      current_endpoint_ = index;
      return Status::Unavailable("etcd " + endpoint + std::string(path) + ": HTTP " +
                                 std::to_string(http_status) + ": " + answer.substr(0, 200));
    }
    current_endpoint_ = index;
    return answer;
  }
  return Status::Unavailable("etcd unreachable (" + std::string(path) + ", " + std::to_string(n) +
                             " endpoint(s), " + std::to_string(options_.request_timeout_ms) +
                             " ms each): " + errors);
}

Result<EtcdRangeResult> EtcdClient::Range(const json& body) {
  Result<std::string> answer = Call("/v3/kv/range", body.dump());
  if (!answer.ok()) return answer.status();
  Result<json> j = Parse(*answer, "range");
  if (!j.ok()) return j.status();
  EtcdRangeResult out;
  out.revision = HeaderRevision(*j);
  out.kvs = ParseKvs(*j);
  return out;
}

Result<EtcdRangeResult> EtcdClient::RangePrefix(std::string_view prefix) {
  json body = {{"key", Base64Encode(prefix.empty() ? std::string_view("\0", 1) : prefix)},
               {"range_end", Base64Encode(PrefixRangeEnd(prefix))}};
  return Range(body);
}

Result<EtcdRangeResult> EtcdClient::Get(std::string_view key) {
  json body = {{"key", Base64Encode(key)}};
  return Range(body);
}

Result<int64_t> EtcdClient::Put(std::string_view key, std::string_view value, int64_t lease) {
  json body = {{"key", Base64Encode(key)}, {"value", Base64Encode(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  Result<std::string> answer = Call("/v3/kv/put", body.dump());
  if (!answer.ok()) return answer.status();
  Result<json> j = Parse(*answer, "put");
  if (!j.ok()) return j.status();
  return HeaderRevision(*j);
}

Result<int64_t> EtcdClient::Delete(std::string_view key) {
  json body = {{"key", Base64Encode(key)}};
  Result<std::string> answer = Call("/v3/kv/deleterange", body.dump());
  if (!answer.ok()) return answer.status();
  Result<json> j = Parse(*answer, "deleterange");
  if (!j.ok()) return j.status();
  return Int64Field(*j, "deleted");
}

Result<EtcdTxnResult> EtcdClient::Txn(const json& body) {
  Result<std::string> answer = Call("/v3/kv/txn", body.dump());
  if (!answer.ok()) return answer.status();
  Result<json> j = Parse(*answer, "txn");
  if (!j.ok()) return j.status();
  EtcdTxnResult out;
  out.succeeded = j->value("succeeded", false);
  out.revision = HeaderRevision(*j);
  if (!out.succeeded) out.current = TxnRangeKvs(*j);  // the failure branch reads the key
  return out;
}

Result<EtcdTxnResult> EtcdClient::PutIfAbsent(std::string_view key, std::string_view value,
                                              int64_t lease) {
  const std::string k = Base64Encode(key);
  json put = {{"key", k}, {"value", Base64Encode(value)}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  json body = {
      {"compare", json::array({{{"key", k}, {"target", "CREATE"}, {"result", "EQUAL"},
                                {"create_revision", "0"}}})},
      {"success", json::array({{{"request_put", put}}})},
      {"failure", json::array({{{"request_range", {{"key", k}}}}})}};
  return Txn(body);
}

Result<EtcdTxnResult> EtcdClient::DeleteIfValue(std::string_view key, std::string_view expected) {
  const std::string k = Base64Encode(key);
  json body = {
      {"compare", json::array({{{"key", k}, {"target", "VALUE"}, {"result", "EQUAL"},
                                {"value", Base64Encode(expected)}}})},
      {"success", json::array({{{"request_delete_range", {{"key", k}}}}})},
      {"failure", json::array({{{"request_range", {{"key", k}}}}})}};
  return Txn(body);
}

Result<EtcdLease> EtcdClient::GrantLease(int64_t ttl_s) {
  json body = {{"TTL", std::to_string(ttl_s)}};
  Result<std::string> answer = Call("/v3/lease/grant", body.dump());
  if (!answer.ok()) return answer.status();
  Result<json> j = Parse(*answer, "lease grant");
  if (!j.ok()) return j.status();
  EtcdLease lease{Int64Field(*j, "ID"), Int64Field(*j, "TTL")};
  if (lease.id == 0 || lease.ttl_s <= 0) {
    return Status::Unavailable("etcd lease grant: " + j->value("error", std::string("no lease in answer")));
  }
  return lease;
}

Result<EtcdLease> EtcdClient::KeepAlive(int64_t lease_id) {
  json body = {{"ID", std::to_string(lease_id)}};
  Result<std::string> answer = Call("/v3/lease/keepalive", body.dump());
  if (!answer.ok()) return answer.status();
  Result<json> j = Parse(*answer, "lease keepalive");
  if (!j.ok()) return j.status();
  // A stream endpoint: one {"result": {...}} per request.
  const json& r = j->contains("result") ? (*j)["result"] : *j;
  EtcdLease lease{Int64Field(r, "ID"), Int64Field(r, "TTL")};
  if (lease.ttl_s <= 0) {
    return Status::NotFound("etcd lease keepalive: lease " + std::to_string(lease_id) +
                            " not found (expired or revoked)");
  }
  return lease;
}

Status EtcdClient::RevokeLease(int64_t lease_id) {
  json body = {{"ID", std::to_string(lease_id)}};
  Result<std::string> answer = Call("/v3/lease/revoke", body.dump());
  return answer.status();
}

Result<EtcdLeaseTtl> EtcdClient::TimeToLive(int64_t lease_id) {
  json body = {{"ID", std::to_string(lease_id)}};
  Result<std::string> answer = Call("/v3/lease/timetolive", body.dump());
  if (!answer.ok()) return answer.status();
  Result<json> j = Parse(*answer, "lease timetolive");
  if (!j.ok()) return j.status();
  return EtcdLeaseTtl{Int64Field(*j, "TTL"), Int64Field(*j, "grantedTTL")};
}

Status EtcdClient::Health() {
  Result<std::string> answer = Call("/health", "");
  if (!answer.ok()) return answer.status();
  json j = json::parse(*answer, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("health", std::string()) != "true") {
    return Status::Unavailable("etcd /health: " + answer->substr(0, 200));
  }
  return Status::OK();
}

}  // namespace ordersync
