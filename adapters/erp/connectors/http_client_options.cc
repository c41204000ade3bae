#include "adapters/erp/connectors/http_client_options.h"

#include "adapters/erp/connectors/secret_file.h"

namespace ordersync {

Result<HttpClientOptions> ClientOptionsOf(const HttpTransportOptions& t, const std::string& where) {
  HttpClientOptions o;
  o.ca_file = t.ca_file;
  o.client_cert_file = t.client_cert_file;
  if (!t.client_key_file.empty()) {
    auto key = ReadSecretFile(t.client_key_file, where + ".http.client_key_file", true);
    if (!key.ok()) return key.status();
    o.client_key_pem = std::move(*key);
  }
  o.connect_timeout_ms = t.connect_timeout_ms;
  o.http2 = t.http2;
  return o;
}

}  // namespace ordersync
