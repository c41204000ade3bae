#include "adapters/erp/connectors/http_auth.h"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/erp_dialect.h"
#include "adapters/erp/connectors/secret_file.h"

namespace ordersync {

Result<std::unique_ptr<HttpAuth>> HttpAuth::Create(const HttpAuthOptions& options, const std::string& what) {
  std::unique_ptr<HttpAuth> auth(new HttpAuth());
  auth->options_ = options;
  if (options.method == "basic") {
    auto password = ReadSecretFile(options.password_file, what + ".password_file");
    if (!password.ok()) return password.status();
    auth->basic_value_ = "Basic " + Base64Encode(options.username + ":" + *password);
  } else if (options.method == "oauth2_client_secret") {
    auth->oauth_ = true;
    auto secret = ReadSecretFile(options.client_secret_file, what + ".client_secret_file");
    if (!secret.ok()) return secret.status();
    auth->client_secret_ = std::move(*secret);
  } else if (options.method == "oauth2_jwt") {
    auth->oauth_ = true;
    auto pem = ReadSecretFile(options.private_key_file, what + ".private_key_file", true);
    if (!pem.ok()) return pem.status();
    auto key = LoadPrivateKeyPem(*pem);
    if (!key.ok()) return Status::InvalidArgument(what + ".private_key_file: " + key.status().message());
    auth->private_key_ = std::move(*key);
  } else if (options.method != "none") {
    return Status::InvalidArgument(what + ".method: unknown method '" + options.method + "'");
  }
  return auth;
}

bool HttpAuth::Ready(int64_t now_ms) const {
  if (!oauth_) return true;
  // Refresh ahead by refresh_before_expiry_s, or half the lifetime of a short-lived token.
  const int64_t margin = std::min<int64_t>(int64_t{options_.refresh_before_expiry_s} * 1000, token_lifetime_ms_ / 2);
  return !token_.empty() && now_ms + margin < token_expires_ms_;
}

std::string HttpAuth::AuthorizationValue() const {
  if (oauth_) return token_.empty() ? "" : "Bearer " + token_;
  return basic_value_;
}

void HttpAuth::Invalidate(uint64_t generation) {
  if (generation == generation_) token_.clear();
}

Result<HttpRequest> HttpAuth::BuildTokenRequest(int64_t now_ms, uint32_t timeout_ms) {
  HttpRequest r;
  r.method = "POST";
  r.url = options_.token_url;
  r.timeout_ms = timeout_ms;
  r.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
  std::string form = "grant_type=client_credentials";
  if (!options_.scope.empty()) form += "&scope=" + UrlEncode(options_.scope);
  if (options_.method == "oauth2_client_secret") {
    form += "&client_id=" + UrlEncode(options_.client_id) + "&client_secret=" + UrlEncode(client_secret_);
  } else {
    const int64_t now_s = now_ms / 1000;
    nlohmann::json header = {{"typ", "JWT"}};
    if (!options_.jwt_key_id.empty()) header["kid"] = options_.jwt_key_id;
    if (!options_.jwt_x5t.empty()) header["x5t"] = options_.jwt_x5t;
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    nlohmann::json claims = {{"iss", options_.client_id},
                             {"sub", options_.client_id},
                             {"aud", options_.token_url},
                             {"iat", now_s},
                             {"nbf", now_s},
                             {"exp", now_s + 300},
                             {"jti", std::to_string(rng()) + "-" + std::to_string(++jti_counter_)}};
    if (!options_.scope.empty()) claims["scope"] = options_.scope;
    auto jwt = SignJwt(header, claims, private_key_.get(), options_.jwt_algorithm);
    if (!jwt.ok()) return jwt.status();
    form += "&client_id=" + UrlEncode(options_.client_id) +
            "&client_assertion_type=" + UrlEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
            "&client_assertion=" + *jwt;
  }
  r.body = std::move(form);
  return r;
}

Status HttpAuth::OnTokenResponse(const HttpResponse& response, int64_t now_ms) {
  if (response.status == 0) return Status::Unavailable("token endpoint: " + response.error);
  const nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status != 200 || !j.is_object() || !j.contains("access_token") || !j["access_token"].is_string()) {
    std::string why = j.is_object() ? j.value("error_description", j.value("error", "")) : "";
    if (why.empty()) why = BodyExcerpt(response.body);
    return Status::Unavailable("token endpoint answered " + std::to_string(response.status) + ": " + why);
  }
  token_ = j["access_token"].get<std::string>();
  int64_t expires_in = 3600;
  if (j.contains("expires_in")) {
    if (j["expires_in"].is_number()) expires_in = j["expires_in"].get<int64_t>();
    else if (j["expires_in"].is_string()) expires_in = std::atoll(j["expires_in"].get<std::string>().c_str());
  }
  token_expires_ms_ = now_ms + expires_in * 1000;
  token_lifetime_ms_ = expires_in * 1000;
  ++generation_;
  return Status::OK();
}

}  // namespace ordersync
