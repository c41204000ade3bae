// HttpTargetOptions: how an ERP target of an HTTP kind (netsuite, sap_s4, d365_bc,
// oracle_fusion, webhook; see erp_kind.h) is reached and what its documents carry. The
// TOML sub-tables [erp.targets.<name>.http], .auth, .document and [[...companies]] map
// onto these structs field by field (adapters/config/config_loader.cc); configs/
// ordersync.toml documents every key with its default. None is reloadable.
//
// Secrets (password, client secret, private key) are never configured inline: each is a
// file path, read at start by ReadSecretFile (secret_file.h), which refuses files that
// group or others may read. Paths may appear in `config show`; contents never do.
//
// Thread-safety: plain values; copy freely, share read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ordersync {

// How requests are authenticated.
struct HttpAuthOptions {
  // "none"; "basic" (HTTP Basic: username + password_file; SAP communication users);
  // "oauth2_client_secret" (client credentials grant with client_id + client_secret_file);
  // "oauth2_jwt" (client credentials with a signed JWT client assertion: client_id +
  // private_key_file, RFC 7523; NetSuite machine-to-machine, Entra ID certificates).
  // Default: "none".
  std::string method = "none";
  // Basic: the user name. Default: "".
  std::string username;
  // Basic: file holding the password. Default: "".
  std::string password_file;
  // OAuth 2.0 token endpoint (full URL). Default: "".
  std::string token_url;
  // OAuth 2.0 client id (also the JWT's iss and sub). Default: "".
  std::string client_id;
  // oauth2_client_secret: file holding the client secret. Default: "".
  std::string client_secret_file;
  // oauth2_jwt: PEM private key (RSA) that signs the assertion. Default: "".
  std::string private_key_file;
  // oauth2_jwt: "RS256" or "PS256". NetSuite accepts PS256 (and RS256 until retired);
  // Entra ID takes RS256. Default: "RS256".
  std::string jwt_algorithm = "RS256";
  // oauth2_jwt: the JWT header's kid (NetSuite: the certificate id; Entra: the
  // certificate thumbprint goes in x5t, set it here as kid and jwt_x5t below). Default: "".
  std::string jwt_key_id;
  // oauth2_jwt: base64url SHA-1 thumbprint of the certificate for the x5t header (Entra
  // ID); "" = no x5t. Default: "".
  std::string jwt_x5t;
  // Requested scope ("" = none), e.g. "rest_webservices" (NetSuite) or
  // "https://api.businesscentral.dynamics.com/.default" (BC). Default: "".
  std::string scope;
  // Refresh a token this long before it expires, in s. Default: 60.
  uint32_t refresh_before_expiry_s = 60;
};

// The transport of one HTTP target.
struct HttpTransportOptions {
  // Base URL every API path is appended to, e.g.
  // "https://1234567.suitetalk.api.netsuite.com" (netsuite), "https://my-s4.example.com"
  // (sap_s4), "https://api.businesscentral.dynamics.com/v2.0/<tenant>/<env>" (d365_bc),
  // "https://fa-xxxx.oraclecloud.com" (oracle_fusion), or the full endpoint URL
  // (webhook). Required for HTTP kinds. Default: "".
  std::string base_url;
  // PEM file of the CA certificates to trust; "" = the system store. Default: "".
  std::string ca_file;
  // Client certificate (PEM) and its key for mutual TLS; "" = none. The key file is a
  // secret (mode 0600). Default: "".
  std::string client_cert_file;
  std::string client_key_file;
  // TCP + TLS handshake limit per new connection, in ms. Range 1..600000. Default: 5000.
  uint32_t connect_timeout_ms = 5000;
  // Most HTTP requests in flight at once (the ERP's concurrency governance: NetSuite and
  // BC answer 429 beyond their per-user limits). Each may carry a $batch of commands.
  // The target's max_in_flight bounds the commands. Range 1..1024. Default: 8.
  uint32_t max_requests = 8;
  // Offer HTTP/2 (ALPN) and use it where the server agrees; HTTP/1.1 with keep-alive
  // otherwise. Default: true.
  bool http2 = true;
  // Commands per OData $batch request (sap_s4, d365_bc; one changeset per command, at
  // most one command per order in a batch); 1 = no batching. Other kinds post one
  // command per request. Range 1..1000. Default: 20.
  uint32_t batch_size = 20;
  // Longest a command waits for others to fill a batch, in ms; 0 = send what is there
  // at once (commands handed over together still share a batch). Range 0..10000.
  // Default: 0.
  uint32_t batch_linger_ms = 0;
  // After an answer of 429, or 503 with Retry-After, the target sends nothing for that
  // long and halves its request concurrency, which then grows back by one request per
  // `max_requests` successful answers. Longest Retry-After honoured, in ms (longer ones
  // are capped). Range 1..3600000. Default: 120000.
  uint32_t max_retry_after_ms = 120000;
};

// ERP-specific values the documents need. Each ERP reads only its own keys (listed in
// docs/erp-connectors.md); the company map below overrides them per company_code.
struct ErpDocumentOptions {
  // --- sap_s4 ---
  // Sales area of created documents. Default: "1010", "10", "00".
  std::string sales_organization = "1010";
  std::string distribution_channel = "10";
  std::string division = "00";
  // Document types: sales order, billing, credit memo request. Default: "OR", "F2", "CR".
  std::string sales_order_type = "OR";
  std::string billing_type = "F2";
  std::string credit_memo_request_type = "CR";
  // Field of A_SalesOrder / A_CreditMemoRequest holding the command id (its lookup key):
  // "PurchaseOrderByCustomer" or an extension field such as "YY1_OrdersyncId_SDH".
  // Default: "PurchaseOrderByCustomer".
  std::string reference_field = "PurchaseOrderByCustomer";
  // Plant and storage location of goods movements (inventory adjustments). Default:
  // "1010", "101A".
  std::string plant = "1010";
  std::string storage_location = "101A";
  // --- netsuite ---
  // Internal ids of the subsidiary and location of created transactions. Default: "1", "".
  std::string subsidiary = "1";
  std::string location;
  // --- d365_bc ---
  // The company's id (GUID) in BC. Required for d365_bc unless every company_code maps.
  // Default: "".
  std::string company_id;
  // --- oracle_fusion ---
  // Business unit, source system of order hub orders, receivables transaction source and
  // type. Default: "US1 Business Unit", "ORDERSYNC", "Manual", "Invoice", "Credit Memo".
  std::string business_unit = "US1 Business Unit";
  std::string source_system = "ORDERSYNC";
  std::string transaction_source = "Manual";
  std::string invoice_type = "Invoice";
  std::string credit_memo_type = "Credit Memo";
  // --- all ERPs ---
  // Customer (sold-to / entity / bill-to account) of documents: ErpCommand carries no
  // customer yet, so it comes from here or the company map. Default: "".
  std::string customer;
};

// company_code (as in events and [routing]) -> the ERP's company/subsidiary and customer.
struct ErpCompanyMapping {
  std::string company_code;
  // SAP: sales organisation; NetSuite: subsidiary id; BC: company id (GUID); Oracle:
  // business unit. Default: "" (use the document default).
  std::string erp_company;
  // Overrides document.customer for this company. Default: "".
  std::string customer;
  // NetSuite location / SAP plant for this company. Default: "".
  std::string location;
};

struct HttpTargetOptions {
  HttpTransportOptions transport;
  HttpAuthOptions auth;
  ErpDocumentOptions document;
  std::vector<ErpCompanyMapping> companies;
};

}  // namespace ordersync
