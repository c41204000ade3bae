#include "adapters/erp/connectors/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace ordersync {
namespace {

std::once_flag g_curl_init;

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpRequest request;
  HttpResponse response;
  std::function<void(HttpResponse&&)> done;
  std::chrono::steady_clock::time_point started;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->response.body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new response (after 100 Continue or a redirect)
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  t->response.headers.emplace_back(std::move(name), std::string(value));
  return size * n;
}

}  // namespace

class HttpClient::Impl {
 public:
  explicit Impl(const HttpClientOptions& options) : options_(options) {}

  ~Impl() {
    for (auto& [easy, t] : transfers_) {
      curl_multi_remove_handle(multi_, easy);
      Cleanup(t.get());
    }
    transfers_.clear();
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    if (share_ != nullptr) curl_share_cleanup(share_);
  }

  Status Init() {
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    share_ = curl_share_init();
    if (multi_ == nullptr || share_ == nullptr) return Status::Internal("libcurl: cannot create a multi handle");
    // One thread uses these handles: no lock callbacks needed.
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(options_.max_host_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_host_connections * 2 + 4));
    return Status::OK();
  }

  void Submit(HttpRequest request, std::function<void(HttpResponse&&)> done) {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->done = std::move(done);
    t->started = std::chrono::steady_clock::now();
    CURL* e = curl_easy_init();
    t->easy = e;
    const HttpRequest& r = t->request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_SHARE, share_);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");  // cookie engine on, nothing loaded
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     static_cast<long>(options_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // prefer multiplexing over a new connection
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    // Ask for gzip only: ERP answers are small, and some servers compress brotli at a
    // quality that costs more CPU than it saves.
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
    if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.client_cert_file.empty()) {
      curl_easy_setopt(e, CURLOPT_SSLCERT, options_.client_cert_file.c_str());
      curl_blob key{const_cast<char*>(options_.client_key_pem.data()), options_.client_key_pem.size(),
                    CURL_BLOB_NOCOPY};
      curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
    }
    for (const std::string& h : r.headers) t->headers = curl_slist_append(t->headers, h.c_str());
    // No "Expect: 100-continue" round trip for larger bodies.
    t->headers = curl_slist_append(t->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_multi_add_handle(multi_, e);
    transfers_.emplace(e, std::move(t));
  }

  void Run(int timeout_ms) {
    int running = 0;
    curl_multi_perform(multi_, &running);
    Harvest();
    int fds = 0;
    curl_multi_poll(multi_, nullptr, 0, timeout_ms, &fds);
    curl_multi_perform(multi_, &running);
    Harvest();
  }

  void Wakeup() { curl_multi_wakeup(multi_); }
  size_t active() const { return transfers_.size(); }
  uint64_t connections_opened() const { return connections_opened_; }

 private:
  static void Cleanup(Transfer* t) {
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
  }

  void Harvest() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      const CURLcode code = msg->data.result;
      auto it = transfers_.find(e);
      if (it == transfers_.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      transfers_.erase(it);
      curl_multi_remove_handle(multi_, e);
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      long connects = 0;
      curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
      connections_opened_ += static_cast<uint64_t>(connects);
      long request_size = 0;
      curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_size);
      HttpResponse& r = t->response;
      r.elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                            t->started).count();
      if (code == CURLE_OK) {
        r.status = static_cast<int>(status);
        r.maybe_sent = true;
      } else {
        r.status = 0;
        r.error = curl_easy_strerror(code);
        switch (code) {
          case CURLE_COULDNT_RESOLVE_HOST:
          case CURLE_COULDNT_RESOLVE_PROXY:
          case CURLE_COULDNT_CONNECT:
            r.transport_error = HttpTransportError::kConnect;
            r.maybe_sent = false;
            break;
          case CURLE_SSL_CONNECT_ERROR:
          case CURLE_PEER_FAILED_VERIFICATION:
          case CURLE_SSL_CERTPROBLEM:
          case CURLE_SSL_CACERT_BADFILE:
            r.transport_error = HttpTransportError::kTls;
            r.maybe_sent = request_size > 0;
            break;
          case CURLE_OPERATION_TIMEDOUT:
            r.transport_error = HttpTransportError::kTimeout;
            r.maybe_sent = request_size > 0;
            break;
          case CURLE_SEND_ERROR:
          case CURLE_RECV_ERROR:
          case CURLE_GOT_NOTHING:
          case CURLE_PARTIAL_FILE:
          case CURLE_HTTP2:
          case CURLE_HTTP2_STREAM:
            r.transport_error = HttpTransportError::kConnectionLost;
            r.maybe_sent = true;
            break;
          default:
            r.transport_error = HttpTransportError::kOther;
            r.maybe_sent = true;
            break;
        }
        r.headers.clear();
        r.body.clear();
      }
      Cleanup(t.get());
      auto done = std::move(t->done);
      done(std::move(r));
    }
  }

  HttpClientOptions options_;
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  uint64_t connections_opened_ = 0;
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpClientOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  ORDERSYNC_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

void HttpClient::Submit(HttpRequest request, std::function<void(HttpResponse&&)> done) {
  impl_->Submit(std::move(request), std::move(done));
}
void HttpClient::Run(int timeout_ms) { impl_->Run(timeout_ms); }
void HttpClient::Wakeup() { impl_->Wakeup(); }
size_t HttpClient::active() const { return impl_->active(); }
uint64_t HttpClient::connections_opened() const { return impl_->connections_opened(); }

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + 8);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace ordersync
