// HttpAuth: the credentials of one HTTP target. Basic builds a fixed Authorization
// header. OAuth 2.0 client credentials (RFC 6749 4.4) keeps an access token: it builds
// the token request (client secret in the form, or a JWT client assertion signed with
// the target's RSA key, RFC 7523, alg RS256 or PS256), reads the answer (access_token,
// expires_in), and reports the token stale refresh_before_expiry_s before it expires or
// after Invalidate() (a 401 with that token). Secrets are read at Create and never
// leave this object except inside the requests it builds.
//
// Thread-safety: not thread-safe; the connector's I/O thread owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "adapters/erp/connectors/http_client.h"
#include "adapters/erp/connectors/http_target_options.h"
#include "adapters/erp/connectors/jwt.h"
#include "engine/status.h"

namespace ordersync {

class HttpAuth {
 public:
  // `what` prefixes errors ("erp.targets.ns.auth").
  static Result<std::unique_ptr<HttpAuth>> Create(const HttpAuthOptions& options, const std::string& what);

  bool uses_token() const { return oauth_; }
  // A usable token is held (always true without OAuth).
  bool Ready(int64_t now_ms) const;
  // The Authorization header value ("Basic ...", "Bearer ..."), "" for method none.
  std::string AuthorizationValue() const;
  // Increments with every new token, so a 401 invalidates only the token it was sent with.
  uint64_t generation() const { return generation_; }
  void Invalidate(uint64_t generation);

  [[nodiscard]] Result<HttpRequest> BuildTokenRequest(int64_t now_ms, uint32_t timeout_ms);
  // Takes the token endpoint's answer. A non-OK status says why no token came.
  [[nodiscard]] Status OnTokenResponse(const HttpResponse& response, int64_t now_ms);

 private:
  HttpAuth() = default;

  HttpAuthOptions options_;
  bool oauth_ = false;
  std::string basic_value_;
  std::string client_secret_;
  EvpPkeyPtr private_key_;
  std::string token_;
  int64_t token_expires_ms_ = 0;
  int64_t token_lifetime_ms_ = 0;
  uint64_t generation_ = 0;
  uint64_t jti_counter_ = 0;
};

}  // namespace ordersync
