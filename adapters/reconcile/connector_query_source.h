// ConnectorQuerySource: the ERP's documents of a reconcile period asked from the ERP's
// own API (`ordersync reconcile --source api`), with the target's connector settings:
// its base URL, TLS (CA, client certificate), auth (Basic, OAuth 2.0 client secret or
// JWT assertion; a token refreshed once on a 401) and HTTP client (libcurl). The query
// of each ERP kind (erp_document_query.h) lists the documents created in the period
// (widened by the reconcile margin) that carry a reference, page by page to the end.
//
// Never a partial list: an answer that is not the documented shape, a missing field, a
// non-200 status after the retries, a next-page link to another host (credentials are
// only sent to base_url), more pages than max_pages or documents than max_documents, or
// a total the ERP announced that differs from what was read, fails the whole Fetch
// with the reason (collection, page, field).
//
//   auto source = MakeConnectorQuerySource(target_options);   // webhook / zmq: refused
//   auto run = RunReconcile(store, window, source->get(), now);
//
// Thread-safety: one Fetch at a time per object (it runs the HTTP client on the calling
// thread); distinct objects are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/erp/connectors/http_auth.h"
#include "adapters/erp/connectors/http_client.h"
#include "adapters/erp/erp_options.h"
#include "adapters/reconcile/erp_document_query.h"
#include "adapters/reconcile/reconcile_service.h"

namespace ordersync {

struct ConnectorQueryOptions {
  // Documents asked for per page (the ERP may answer fewer: SuiteQL and Oracle cap at
  // 1000 / 500). Larger means fewer requests and bigger answers. Default: 500.
  uint32_t page_size = 500;
  // Most pages one Fetch reads over all collections; beyond it the Fetch fails (ask for
  // a shorter period, or raise it). Default: 10000.
  uint32_t max_pages = 10000;
  // Most documents one Fetch holds; beyond it the Fetch fails. Default: 5000000.
  uint64_t max_documents = 5'000'000;
  // One request's limit (connect included), in ms. Default: 60000.
  uint32_t request_timeout_ms = 60000;
  // Attempts after a 429, a 503, a 502/504 or no answer, per request; the ERP's
  // Retry-After is honoured up to max_retry_wait_ms, else 1 s, 2 s, 4 s ... Default: 4.
  uint32_t max_retries = 4;
  uint32_t max_retry_wait_ms = 30000;
};

// What the last Fetch did.
struct ConnectorQueryStats {
  uint64_t requests = 0;  // HTTP requests (token fetches included)
  uint64_t pages = 0;
  uint64_t retries = 0;
  uint64_t documents = 0;
};

class ConnectorQuerySource final : public ErpDocumentSource {
 public:
  // InvalidArgument for kinds without a query API (webhook, zmq) or a target without
  // http.base_url; secret-file errors as the connector reports them.
  static Result<std::unique_ptr<ConnectorQuerySource>> Create(const ErpTargetOptions& target,
                                                              const ConnectorQueryOptions& options = {});

  Result<std::vector<ErpDocument>> Fetch(const ReconcileWindow& window) override;
  std::string Describe() const override;  // "api <target> (<kind> <base_url>)"
  // Maps shortened references ("OS-" + hash, erp_dialect.h ReferenceFor) back to the
  // command ids of `view`.
  void ResolveExternalIds(const OrdersyncView& view, std::vector<ErpDocument>* documents) override;

  const ConnectorQueryStats& stats() const { return stats_; }

 private:
  ConnectorQuerySource(ErpTargetOptions target, ConnectorQueryOptions options, std::unique_ptr<ErpDocumentQuery> query,
                       std::unique_ptr<HttpAuth> auth, std::unique_ptr<HttpClient> client);
  // One request with auth, retries and the base_url rule; the answer, 2xx or not.
  Result<HttpResponse> Send(const HttpCall& call);
  HttpResponse Exchange(HttpRequest request);
  Status FetchToken();

  ErpTargetOptions target_;
  ConnectorQueryOptions options_;
  std::string base_url_;  // without a trailing '/'
  std::unique_ptr<ErpDocumentQuery> query_;
  std::unique_ptr<HttpAuth> auth_;
  std::unique_ptr<HttpClient> client_;
  ConnectorQueryStats stats_;
};

// The source of `target` as a reconcile source, for serve's scheduled reconcile (a
// per-target factory) and the CLI.
Result<std::unique_ptr<ErpDocumentSource>> MakeConnectorQuerySource(const ErpTargetOptions& target,
                                                                    const ConnectorQueryOptions& options = {});

}  // namespace ordersync
