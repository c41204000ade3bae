// JSON Web Tokens signed with RSA (RS256: PKCS#1 v1.5, PS256: PSS with a 32-byte salt),
// via OpenSSL; for OAuth 2.0 client assertions (RFC 7523) and, in the ERP simulators,
// checking them. Also the encodings they need (base64, base64url) and SHA-256.
//
//   auto key = LoadPrivateKeyPem(pem);                       // PEM from ReadSecretFile
//   auto jwt = SignJwt({{"alg","PS256"},{"typ","JWT"}}, claims, key->get(), "PS256");
//   auto claims = VerifyJwt(*jwt, public_key.get());         // header alg must match
//
// Thread-safety: reentrant; an EVP_PKEY may be shared read-only between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "engine/status.h"

namespace ordersync {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

std::string Base64Encode(std::string_view data);
std::string Base64UrlEncode(std::string_view data);  // no padding
Result<std::string> Base64UrlDecode(std::string_view text);
Result<std::string> Base64Decode(std::string_view text);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// A private key (PKCS#8 or traditional RSA PEM).
Result<EvpPkeyPtr> LoadPrivateKeyPem(const std::string& pem);
// A public key from a PEM public key or an X.509 certificate.
Result<EvpPkeyPtr> LoadPublicKeyPem(const std::string& pem);

// header.claims.signature, with `alg` ("RS256" or "PS256") set in the header.
Result<std::string> SignJwt(nlohmann::json header, const nlohmann::json& claims, EVP_PKEY* key,
                            std::string_view alg);
// Checks the signature (RS256 or PS256, as the header says) and returns the claims. Does
// not check exp/aud: the caller does.
Result<nlohmann::json> VerifyJwt(std::string_view token, EVP_PKEY* public_key);

}  // namespace ordersync
