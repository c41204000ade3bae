// HttpClient: many HTTP(S) requests in flight on libcurl's multi interface, run by one
// thread. Connections are kept alive and reused (one connection cache for all requests);
// HTTP/2 is offered over TLS (ALPN) and multiplexed where the server agrees; proxies come
// from the standard environment variables (https_proxy, http_proxy, no_proxy), which
// libcurl reads itself. Cookies are shared by all requests of one client (SAP sessions).
//
//   auto client = HttpClient::Create(options);
//   (*client)->Submit(std::move(request), [](HttpResponse&& r) { ... });  // owner thread
//   while (running) (*client)->Run(10);        // performs transfers, calls callbacks
//   (*client)->Wakeup();                       // from any thread: Run returns early
//
// Thread-safety: Submit and Run on the owning thread only (callbacks run inside Run and
// may Submit); Wakeup from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace ordersync {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  uint32_t timeout_ms = 5000;  // whole request, connect included
};

// Why a request got no HTTP answer.
enum class HttpTransportError : uint8_t {
  kNone = 0,      // an HTTP status was received
  kConnect,       // could not connect / resolve / handshake: the request was not sent
  kTimeout,       // no complete answer in time
  kConnectionLost,  // the connection broke while sending or before the answer was complete
  kTls,           // certificate or TLS failure (not sent)
  kOther,
};

struct HttpResponse {
  int status = 0;  // HTTP status; 0 when transport_error != kNone
  HttpTransportError transport_error = HttpTransportError::kNone;
  // Whether the request may have reached the server: false only when it certainly did
  // not (connection or TLS handshake failed, nothing sent).
  bool maybe_sent = true;
  std::string error;  // libcurl's reason when there was no answer
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  int64_t elapsed_us = 0;

  // The first header `lower_name`, or null.
  const std::string* Header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return &v;
    }
    return nullptr;
  }
};

struct HttpClientOptions {
  std::string ca_file;           // "" = system store
  std::string client_cert_file;  // PEM; "" = none
  std::string client_key_pem;    // the key itself (read by ReadSecretFile); "" = none
  uint32_t connect_timeout_ms = 5000;
  bool http2 = true;
  // Most connections to one host (HTTP/1.1: one request each; HTTP/2 multiplexes).
  uint32_t max_host_connections = 8;
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Create(const HttpClientOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void Submit(HttpRequest request, std::function<void(HttpResponse&&)> done);
  // Performs transfers, waiting up to timeout_ms for socket activity or Wakeup(); runs the
  // callbacks of finished requests.
  void Run(int timeout_ms);
  // Makes a waiting Run return now. Any thread.
  void Wakeup();
  // Requests submitted and not finished.
  size_t active() const;
  // Connections opened so far (keep-alive reuse shows as fewer connections than requests).
  uint64_t connections_opened() const;

 private:
  class Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes `s` for a URL path segment or query value (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view s);

}  // namespace ordersync
