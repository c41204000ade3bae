// ErpHttpSimulator: an ERP's HTTP API on loopback, for tests, benchmarks and demos
// (`ordersync erp-sim --api netsuite|sap_s4|d365_bc|oracle_fusion|webhook`). It serves
// the paths, auth, CSRF protocol, duplicate answers and $batch of the real system
// (sim_apis.cc has each API; docs/erp-connectors.md the shapes) over HTTPS
// (cpp-httplib with OpenSSL), and keeps the same ledger and summary as the ZeroMQ
// simulator (adapters/erp/erp_simulator.h):
//  - a posting is a new document; a second document for the same reference (possible
//    where the real ERP allows it: SAP, BC) is counted in duplicate_postings, the number
//    an exactly-once connector must keep at 0;
//  - the ledger line (posted_at_ns, document_id, command_id, order_id, order_cmd_seq,
//    kind, api) takes command id, order and sequence from the X-Ordersync-* trace headers
//    the connector sends; they feed out_of_order_arrivals / sequence_gaps and never an
//    idempotency decision (that rests on the document fields, as in the real ERP).
// Auth: none, basic, or oauth2 (token endpoint at the API's token path; client secret or
// a JWT client assertion checked against jwt_public_key_pem); tokens expire after
// token_ttl_s and ExpireTokens() revokes them all (401 invalid_token). SAP: CSRF tokens
// per session cookie, expiring after csrf_ttl_s or at ExpireCsrfTokens() (403
// x-csrf-token: Required).
// Document queries: each API also answers the query a reconcile sends for the documents
// created in a period, with the real system's shape and paging (sim_queries.cc).
// Faults (per request, seeded): latency; 429 + Retry-After (throttle_rate, and storms:
// every request for storm_for_s seconds starting at storm_at_s, every storm_every_s);
// 503 (transient_error_rate, transient_error_every); rejections (400 with the ERP's error body; by rate per
// command id, SKU, order, command id); timeouts (reply withheld, nothing posted);
// lost replies (posted, reply withheld: ambiguous_rate); outages (silent or 503 +
// Retry-After). A withheld reply is held for withhold_ms (past the client's timeout).
//
// Thread-safety: the server runs its own threads; every public method may be called from
// any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/erp/erp_simulator.h"
#include "engine/status.h"

namespace ordersync {

struct ErpHttpSimOptions {
  // netsuite | sap_s4 | d365_bc | oracle_fusion | webhook
  std::string api = "netsuite";
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = ephemeral (see port())
  // TLS certificate chain and key (PEM); both empty = plain HTTP.
  std::string cert_file;
  std::string key_file;
  // Server threads; each keep-alive connection holds one. Default: 64.
  int threads = 64;
  // Auth: "none", "basic" (username/password) or "oauth2" (client_id + client_secret or
  // a JWT assertion verifiable with jwt_public_key_pem).
  std::string auth = "none";
  std::string username, password;
  std::string client_id, client_secret;
  std::string jwt_public_key_pem;
  uint32_t token_ttl_s = 3600;
  uint32_t csrf_ttl_s = 0;  // 0 = until ExpireCsrfTokens()
  // Faults.
  std::string latency = "fixed";  // fixed | uniform | exponential
  uint32_t latency_us = 0;
  double transient_error_rate = 0;  // 503 without Retry-After
  uint32_t transient_error_every = 0;  // also 503 for every Nth posting request (0: never)
  double throttle_rate = 0;         // 429 + Retry-After
  uint32_t retry_after_s = 1;
  uint32_t storm_at_s = 0, storm_for_s = 0, storm_every_s = 0;
  double reject_rate = 0;
  std::vector<std::string> reject_skus, reject_orders, reject_command_ids, transient_orders;
  double timeout_rate = 0;    // reply withheld, not posted
  double ambiguous_rate = 0;  // posted, reply withheld (a lost reply)
  uint32_t withhold_ms = 30000;
  uint32_t outage_at_s = 0, outage_for_s = 0, outage_every_s = 0;
  bool outage_answers_errors = false;  // 503 + Retry-After while down; else silence
  uint64_t seed = 42;
  std::string ledger_path, rejected_path;
  // Document queries (docs/erp-connectors.md, "Document queries"): most documents in one
  // answer, whatever the client asks for (the real systems cap pages too: SuiteQL 1000,
  // Oracle 500, SAP and BC by server settings); beyond it the answer links the next page.
  // Default: 1000.
  uint32_t query_page_max = 1000;
};

struct ErpHttpSimSummary {
  ErpSimSummary base;  // received = posting requests (batch parts count one each)
  uint64_t http_requests = 0;
  uint64_t duplicate_postings = 0;  // second documents for one reference: must stay 0
  uint64_t throttled = 0;           // 429 answers
  uint64_t unauthorized = 0;        // 401 answers
  uint64_t csrf_refused = 0;        // 403 CSRF answers
  uint64_t tokens_issued = 0;
  uint64_t csrf_tokens_issued = 0;
  uint64_t lookups = 0;             // GET requests on documents
  uint64_t batches = 0;
  uint64_t batch_parts = 0;
  uint64_t replayed = 0;            // webhook Idempotency-Key replays
  // Requests carrying an Ordersync-Epoch header (a cluster owner's fencing epoch), by its
  // value; a request ($batch: the whole request) counts once. Never an idempotency input.
  std::map<uint64_t, uint64_t> requests_by_epoch;
};

class ErpHttpSimulator {
 public:
  static Result<std::unique_ptr<ErpHttpSimulator>> Start(const ErpHttpSimOptions& options);
  ~ErpHttpSimulator();
  ErpHttpSimulator(const ErpHttpSimulator&) = delete;
  ErpHttpSimulator& operator=(const ErpHttpSimulator&) = delete;

  void Stop();
  int port() const;
  // "https://127.0.0.1:<port>" (http:// without TLS).
  std::string base_url() const;
  // The token endpoint URL of this API (oauth2).
  std::string token_url() const;

  void SetRejectionsEnabled(bool enabled);
  void SetRejectCommandIds(std::vector<std::string> ids);
  void SetRejectRate(double rate);
  void SetTransientErrorRate(double rate);
  void SetThrottleRate(double rate);
  void SetTimeoutRate(double rate);
  void SetAmbiguousRate(double rate);
  void ForceOutage(bool down);
  void ForceStorm(bool on);
  void ExpireTokens();
  void ExpireCsrfTokens();
  // Removes the documents carrying `command_id` (as a restore from an old backup would);
  // the ledger keeps the posting. Returns how many went.
  size_t DeleteDocuments(const std::string& command_id);
  // Spoils the answers of document queries: "" (none), "truncated" (the JSON body cut in
  // half) or "no_number" (the document number left out of every document).
  void SetQueryFault(std::string fault);

  ErpHttpSimSummary Summary() const;
  std::string SummaryJson() const;
  std::vector<ErpPosting> Ledger() const;
  std::vector<std::string> RejectedCommandIds() const;
  Status Flush();

  class Impl;

 private:
  explicit ErpHttpSimulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordersync
