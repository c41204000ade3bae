#include "adapters/erp/connectors/jwt.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <array>

namespace ordersync {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

Result<std::string> DecodeWith(std::string_view text, bool url) {
  std::array<int, 256> rev;
  rev.fill(-1);
  for (int i = 0; i < 64; ++i) rev[static_cast<unsigned char>(kB64[i])] = i;
  if (url) {
    rev['-'] = 62;
    rev['_'] = 63;
  }
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    if (c == '\n' || c == '\r') continue;
    const int v = rev[static_cast<unsigned char>(c)];
    if (v < 0) return Status::InvalidArgument("not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
                       static_cast<unsigned char>(data[i + 2]);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  if (i + 1 == data.size()) {
    const uint32_t v = static_cast<unsigned char>(data[i]) << 16;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == data.size()) {
    const uint32_t v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::string Base64UrlEncode(std::string_view data) {
  std::string s = Base64Encode(data);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

Result<std::string> Base64UrlDecode(std::string_view text) { return DecodeWith(text, true); }
Result<std::string> Base64Decode(std::string_view text) { return DecodeWith(text, false); }

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : md) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Result<EvpPkeyPtr> LoadPrivateKeyPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return Status::InvalidArgument("not a PEM private key: " + OpenSslError());
  if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return Status::InvalidArgument("the private key is not an RSA key (RS256/PS256 need RSA)");
  }
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> LoadPublicKeyPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = nullptr;
  if (pem.find("CERTIFICATE") != std::string::npos) {
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (cert != nullptr) {
      key = X509_get_pubkey(cert);
      X509_free(cert);
    }
  } else {
    key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  if (key == nullptr) return Status::InvalidArgument("not a PEM public key or certificate: " + OpenSslError());
  return EvpPkeyPtr(key);
}

Result<std::string> SignJwt(nlohmann::json header, const nlohmann::json& claims, EVP_PKEY* key,
                            std::string_view alg) {
  if (alg != "RS256" && alg != "PS256") return Status::InvalidArgument("unsupported JWT alg " + std::string(alg));
  header["alg"] = std::string(alg);
  const std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key) != 1) {
    return Status::Internal("JWT signing: " + OpenSslError());
  }
  if (alg == "PS256") {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return Status::Internal("JWT signing (PSS): " + OpenSslError());
    }
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    return Status::Internal("JWT signing: " + OpenSslError());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return Status::Internal("JWT signing: " + OpenSslError());
  }
  sig.resize(len);
  return input + "." + Base64UrlEncode(sig);
}

Result<nlohmann::json> VerifyJwt(std::string_view token, EVP_PKEY* public_key) {
  const size_t a = token.find('.');
  const size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return Status::InvalidArgument("JWT: not three parts");
  auto header_json = Base64UrlDecode(token.substr(0, a));
  auto claims_json = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  auto sig = Base64UrlDecode(token.substr(b + 1));
  if (!header_json.ok() || !claims_json.ok() || !sig.ok()) return Status::InvalidArgument("JWT: bad base64url");
  nlohmann::json header = nlohmann::json::parse(*header_json, nullptr, false);
  nlohmann::json claims = nlohmann::json::parse(*claims_json, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return Status::InvalidArgument("JWT: header or claims not JSON");
  const std::string alg = header.value("alg", "");
  if (alg != "RS256" && alg != "PS256") return Status::InvalidArgument("JWT: unsupported alg '" + alg + "'");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, public_key) != 1) {
    return Status::Internal("JWT verify: " + OpenSslError());
  }
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  const std::string_view input = token.substr(0, b);
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("JWT: bad signature");
  }
  return claims;
}

}  // namespace ordersync
