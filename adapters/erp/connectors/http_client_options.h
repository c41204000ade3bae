// ClientOptionsOf: the libcurl client settings of an HTTP ERP target's transport (TLS
// files, connect timeout, HTTP/2), shared by the connector that posts to the target and
// the reconcile source that queries it (adapters/reconcile/connector_query_source.h), so
// both reach the ERP the same way. The caller sets max_host_connections.
//
// Thread-safety: pure function (plus reading the client key file).
#pragma once

#include <string>

#include "adapters/erp/connectors/http_client.h"
#include "adapters/erp/connectors/http_target_options.h"
#include "engine/status.h"

namespace ordersync {

// `where` names the target in errors ("erp.targets.sap"); the client key file is read
// (and refused when group- or world-readable) here.
Result<HttpClientOptions> ClientOptionsOf(const HttpTransportOptions& transport, const std::string& where);

}  // namespace ordersync
