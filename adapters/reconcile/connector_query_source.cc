#include "adapters/reconcile/connector_query_source.h"

#include <chrono>
#include <thread>
#include <unordered_map>

#include "adapters/erp/connectors/http_client_options.h"

namespace ordersync {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Retryable(const HttpResponse& r) {
  return r.transport_error != HttpTransportError::kNone || r.status == 429 || r.status == 502 || r.status == 503 ||
         r.status == 504;
}

// The ERP's own words in a non-2xx answer.
std::string ErpMessage(const HttpResponse& r) {
  std::string m = ODataErrorMessage(r.body);
  if (m.empty()) m = OErrorDetailsMessage(r.body);
  if (m.empty()) m = BodyExcerpt(r.body);
  return m;
}

}  // namespace

ConnectorQuerySource::ConnectorQuerySource(ErpTargetOptions target, ConnectorQueryOptions options,
                                           std::unique_ptr<ErpDocumentQuery> query, std::unique_ptr<HttpAuth> auth,
                                           std::unique_ptr<HttpClient> client)
    : target_(std::move(target)),
      options_(options),
      query_(std::move(query)),
      auth_(std::move(auth)),
      client_(std::move(client)) {
  base_url_ = target_.http.transport.base_url;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Result<std::unique_ptr<ConnectorQuerySource>> ConnectorQuerySource::Create(const ErpTargetOptions& target,
                                                                           const ConnectorQueryOptions& options) {
  const std::string where = "erp.targets." + target.name;
  const std::optional<ErpKind> kind = ErpKindFromName(target.kind);
  if (!kind) return Status::InvalidArgument(where + ": unknown kind '" + target.kind + "'");
  auto query = CreateErpDocumentQuery(*kind, target.http);
  if (!query.ok()) return Status::InvalidArgument("target " + target.name + ": " + query.status().message());
  const HttpTransportOptions& t = target.http.transport;
  if (t.base_url.empty()) return Status::InvalidArgument(where + ".http.base_url: required");
  if (options.page_size == 0 || options.max_pages == 0 || options.max_documents == 0) {
    return Status::InvalidArgument("connector query: page_size, max_pages and max_documents must be > 0");
  }
  auto auth = HttpAuth::Create(target.http.auth, where + ".auth");
  if (!auth.ok()) return auth.status();
  auto options_of_transport = ClientOptionsOf(t, where);
  if (!options_of_transport.ok()) return options_of_transport.status();
  HttpClientOptions client_options = std::move(*options_of_transport);
  client_options.max_host_connections = 1;  // one request at a time
  auto client = HttpClient::Create(client_options);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ConnectorQuerySource>(new ConnectorQuerySource(
      target, options, std::move(query).value(), std::move(auth).value(), std::move(client).value()));
}

Result<std::unique_ptr<ErpDocumentSource>> MakeConnectorQuerySource(const ErpTargetOptions& target,
                                                                    const ConnectorQueryOptions& options) {
  auto source = ConnectorQuerySource::Create(target, options);
  if (!source.ok()) return source.status();
  return std::unique_ptr<ErpDocumentSource>(std::move(source).value());
}

std::string ConnectorQuerySource::Describe() const {
  return "api " + target_.name + " (" + target_.kind + " " + base_url_ + ")";
}

HttpResponse ConnectorQuerySource::Exchange(HttpRequest request) {
  ++stats_.requests;
  HttpResponse out;
  bool done = false;
  client_->Submit(std::move(request), [&](HttpResponse&& r) {
    out = std::move(r);
    done = true;
  });
  while (!done) client_->Run(100);
  return out;
}

Status ConnectorQuerySource::FetchToken() {
  Result<HttpRequest> req = auth_->BuildTokenRequest(WallMs(), options_.request_timeout_ms);
  if (!req.ok()) return req.status();
  HttpResponse r = Exchange(std::move(*req));
  Status s = auth_->OnTokenResponse(r, SteadyMs());
  if (!s.ok()) return Status::Unavailable("target " + target_.name + ": no access token: " + s.message());
  return Status::OK();
}

Result<HttpResponse> ConnectorQuerySource::Send(const HttpCall& call) {
  std::string url;
  if (call.path.rfind("http://", 0) == 0 || call.path.rfind("https://", 0) == 0) {
    // A link the ERP gave (next page): only ever to the configured host.
    if (call.path.rfind(base_url_ + "/", 0) != 0) {
      return Status::Corruption("target " + target_.name + ": the ERP linked the next page to " +
                                call.path.substr(0, 120) + ", outside " + base_url_ +
                                " (refused: credentials go to base_url only)");
    }
    url = call.path;
  } else {
    url = base_url_ + call.path;
  }
  bool auth_retried = false;
  for (uint32_t attempt = 0;; ++attempt) {
    if (auth_->uses_token() && !auth_->Ready(SteadyMs())) ORDERSYNC_RETURN_IF_ERROR(FetchToken());
    HttpRequest req;
    req.method = call.method;
    req.url = url;
    req.body = call.body;
    req.timeout_ms = options_.request_timeout_ms;
    if (!call.body.empty()) req.headers.push_back("Content-Type: " + call.content_type);
    bool accept = false;
    for (const auto& [k, v] : call.headers) {
      req.headers.push_back(k + ": " + v);
      accept = accept || k == "Accept";
    }
    if (!accept) req.headers.push_back("Accept: application/json");
    const std::string authorization = auth_->AuthorizationValue();
    if (!authorization.empty()) req.headers.push_back("Authorization: " + authorization);
    const uint64_t generation = auth_->generation();
    HttpResponse r = Exchange(std::move(req));
    if (r.status == 401 && auth_->uses_token() && !auth_retried) {
      auth_retried = true;
      auth_->Invalidate(generation);
      --attempt;
      continue;
    }
    if (!Retryable(r) || attempt >= options_.max_retries) {
      if (r.transport_error != HttpTransportError::kNone) {
        return Status::Unavailable("target " + target_.name + ": no answer from " + url.substr(0, 200) + " after " +
                                   std::to_string(attempt + 1) + " attempt(s): " + r.error);
      }
      return r;
    }
    uint64_t wait_ms = 1000ULL << std::min<uint32_t>(attempt, 5);
    if (const std::string* retry_after = r.Header("retry-after")) {
      char* end = nullptr;
      const unsigned long long s = std::strtoull(retry_after->c_str(), &end, 10);
      if (end != retry_after->c_str()) wait_ms = s * 1000;
    }
    wait_ms = std::min<uint64_t>(wait_ms, options_.max_retry_wait_ms);
    ++stats_.retries;
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }
}

Result<std::vector<ErpDocument>> ConnectorQuerySource::Fetch(const ReconcileWindow& window) {
  stats_ = ConnectorQueryStats{};
  DocumentQueryWindow w;
  w.from_ns = window.from_ns - window.margin_ns;
  w.to_ns = window.to_ns + window.margin_ns;
  w.page_size = options_.page_size;
  std::vector<ErpDocument> out;
  for (const DocumentQuery& q : query_->Queries(w)) {
    HttpCall call = q.first;
    uint64_t read = 0;
    std::optional<uint64_t> total;
    for (uint32_t page_no = 1;; ++page_no) {
      if (++stats_.pages > options_.max_pages) {
        return Status::Unavailable("target " + target_.name + ": more than " + std::to_string(options_.max_pages) +
                                   " pages of documents (at " + q.name + " page " + std::to_string(page_no) +
                                   "); ask for a shorter period");
      }
      Result<HttpResponse> r = Send(call);
      if (!r.ok()) return r.status();
      if (r->status != 200) {
        return Status::Unavailable("target " + target_.name + ": " + q.name + " page " + std::to_string(page_no) +
                                   " answered HTTP " + std::to_string(r->status) + ": " + ErpMessage(*r));
      }
      QueryPage page;
      page.read_before = read;
      Status s = query_->ParsePage(q, call, *r, options_.page_size, &page);
      if (!s.ok()) {
        return Status::Corruption("target " + target_.name + ": malformed answer (page " + std::to_string(page_no) +
                                  "): " + s.message());
      }
      read += page.documents.size();
      if (page.total) total = page.total;
      for (ErpDocument& d : page.documents) {
        if (!d.kind && q.kind) d.kind = q.kind;
        out.push_back(std::move(d));
      }
      if (out.size() > options_.max_documents) {
        return Status::Unavailable("target " + target_.name + ": more than " +
                                   std::to_string(options_.max_documents) + " documents in the period (at " + q.name +
                                   "); ask for a shorter period");
      }
      if (!page.next) break;
      call = std::move(*page.next);
    }
    if (total && *total != read) {
      return Status::Corruption("target " + target_.name + ": " + q.name + ": the ERP announced " +
                                std::to_string(*total) + " documents and " + std::to_string(read) +
                                " were read (changed during the read? run the reconcile again)");
    }
  }
  stats_.documents = out.size();
  return out;
}

void ConnectorQuerySource::ResolveExternalIds(const OrdersyncView& view, std::vector<ErpDocument>* documents) {
  std::unordered_map<size_t, std::unordered_map<std::string, std::string>> by_length;
  auto resolve = [&](ErpDocument& d) {
    const size_t n = d.external_id.size();
    auto [it, fresh] = by_length.try_emplace(n);
    if (fresh) {
      for (const auto& [id, c] : view.commands) {
        if (id.size() > n) it->second.emplace(ReferenceFor(id, n), id);
      }
      for (const auto& [id, t] : view.other_targets) {
        if (id.size() > n) it->second.emplace(ReferenceFor(id, n), id);
      }
    }
    auto found = it->second.find(d.external_id);
    if (found != it->second.end()) d.external_id = found->second;
  };
  for (ErpDocument& d : *documents) {
    if (d.external_id.rfind("OS-", 0) == 0) resolve(d);
  }
}

}  // namespace ordersync
