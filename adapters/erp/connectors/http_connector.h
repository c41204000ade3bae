// HttpConnector: the ErpConnector (erp_connector.h) of the HTTP kinds. Generic over an
// ErpDialect (erp_dialect.h: the ERP's API table); this file holds what all ERPs share:
//  - one I/O thread running an HttpClient (libcurl multi; keep-alive, HTTP/2, proxies);
//  - auth (http_auth.h): Basic, or an OAuth 2.0 token fetched before the first request,
//    refreshed before expiry, and re-fetched once on a 401 (the request is sent again);
//  - SAP's CSRF protocol: a token fetched with X-CSRF-Token: Fetch on the session cookie
//    before the first modifying request, re-fetched once on a 403 that says
//    "x-csrf-token: Required" (the request is sent again);
//  - at most HttpTransportOptions::max_requests requests in flight; a 429, or a 503 with
//    Retry-After, pauses the target for that long and halves the limit, which grows back
//    by one per max_requests successful answers (adaptive, gradual);
//  - the attempt's steps: look-up first when the outcome of an earlier attempt is unknown
//    and the post is not idempotent; the dialect's prepare step (e.g. an internal id);
//    the post, alone or in an OData $batch (one changeset per command, at most one
//    command per order per batch); classification of the answer (see erp_connector.h).
//
// Thread-safety: as ErpConnector. The I/O thread owns the HttpClient, the auth state and
// every job; Post hands jobs over through a mutex-protected inbox.
#pragma once

#include <memory>

#include "adapters/erp/connectors/erp_connector.h"

namespace ordersync {

[[nodiscard]] Result<std::unique_ptr<ErpConnector>> CreateHttpConnector(const ErpTargetOptions& target);

}  // namespace ordersync
