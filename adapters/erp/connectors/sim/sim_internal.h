// Internals of ErpHttpSimulator shared by erp_http_simulator.cc (server, auth, CSRF,
// faults, ledger, $batch), sim_apis.cc (each ERP's posting resources), sim_queries.cc
// (each ERP's document queries) and sim_control.cc (the public methods). Not a public
// header.
//
// Thread-safety: server threads call Handle*; all state is GUARDED_BY(mu_).
#pragma once

#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "adapters/erp/connectors/jwt.h"
#include "adapters/erp/connectors/sim/erp_http_simulator.h"

namespace httplib {
class Server;
}

namespace ordersync {

// One request as the API handlers see it (a whole request, or one $batch part).
struct SimRequest {
  std::string method;
  std::string path;  // decoded, without query
  std::map<std::string, std::string> params;  // decoded query parameters
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  const std::string* Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct SimAnswer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
  bool withhold = false;  // send nothing (until withhold_ms): a lost reply
};

// A document the simulated ERP holds.
struct SimDocument {
  std::string id;      // internal id / document number
  std::string number;  // human-facing number where different
  std::string reference;
  std::string command_id;
  std::string state;   // e.g. delivery goods movement status
  std::string collection;
  std::string body;    // the posting request's body (the document's fields)
  std::string parent;  // NetSuite transforms: the sales order's internal id
  int64_t created_ns = 0;  // wall clock
};

class ErpHttpSimulator::Impl {
 public:
  explicit Impl(const ErpHttpSimOptions& o);
  ~Impl();
  Status Start();
  void Stop();

  // --- infrastructure (erp_http_simulator.cc) ---
  SimAnswer HandleHttp(SimRequest& req);
  // Faults and the common checks before a posting request; nullopt = go ahead.
  std::optional<SimAnswer> PostingFaults(const SimRequest& req);
  // Whether the posting of `req` is to be rejected (business error), by the fault options.
  bool Rejects(const SimRequest& req);
  // Records a new document: ledger, summary, duplicate check. Returns the document.
  SimDocument& Post(const SimRequest& req, const std::string& collection, const std::string& reference,
                    bool unique_reference, const std::string& kind, std::string id, std::string number = "");
  // Decides whether the reply to a posting that went through is lost.
  bool LoseReply();
  std::string NextId(const std::string& prefix, uint64_t start);
  static SimAnswer Json(int status, const std::string& body);

  // --- APIs (sim_apis.cc) ---
  SimAnswer HandleNetSuite(const SimRequest& req);
  SimAnswer HandleSap(const SimRequest& req);
  SimAnswer HandleBc(const SimRequest& req);
  SimAnswer HandleOracle(const SimRequest& req);
  SimAnswer HandleWebhook(const SimRequest& req);
  SimAnswer RejectAnswer(const std::string& what);

  // --- document queries (sim_queries.cc) ---
  // NetSuite SuiteQL: POST /services/rest/query/v1/suiteql.
  SimAnswer QueryNetSuite(const SimRequest& req);
  // SAP OData v2 GET <entity set>?$filter=CreationDate ge datetime'...' ...
  SimAnswer QuerySap(const SimRequest& req, const std::string& entity_set, const std::string& key_field);
  // Business Central GET companies(..)/<collection>?$filter=lastModifiedDateTime ge ...
  SimAnswer QueryBc(const SimRequest& req, const std::string& company, const std::string& collection);
  // Oracle GET <resource>?q=CreationDate >= '...' ...&limit=&offset=
  SimAnswer QueryOracle(const SimRequest& req, const std::string& resource);
  // The query fault (SetQueryFault) applied to an answer's body.
  void ApplyQueryFault(SimAnswer* a) const;
  std::string TokenPath() const;
  // "https://127.0.0.1:<port>" (http:// without TLS): where answers link to.
  std::string base_url() const {
    return std::string(o_.cert_file.empty() ? "http://" : "https://") + o_.host + ":" + std::to_string(port_);
  }

  // Finds documents of `collection` by reference.
  std::vector<const SimDocument*> Find(const std::string& collection, const std::string& reference) const;
  SimDocument* FindById(const std::string& collection, const std::string& id);

  ErpHttpSimOptions o_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  int64_t started_ns_ = 0;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;                                              // GUARDED_BY(mu_)
  std::mt19937_64 rng_;                                                // GUARDED_BY(mu_)
  bool rejections_enabled_ = true;                                     // GUARDED_BY(mu_)
  bool forced_outage_ = false, forced_storm_ = false;                  // GUARDED_BY(mu_)
  ErpHttpSimSummary summary_;                                          // GUARDED_BY(mu_)
  std::map<std::string, std::vector<SimDocument>> documents_;         // collection -> docs
  std::set<std::string> posted_command_ids_;
  std::unordered_map<std::string, uint64_t> order_max_seq_;
  std::set<std::string> rejected_ids_;
  std::vector<ErpPosting> ledger_;
  std::ofstream ledger_file_;
  std::map<std::string, uint64_t> counters_;
  std::map<std::string, int64_t> tokens_;                              // token -> expiry (steady ns)
  struct CsrfSession {
    std::string token;
    int64_t issued_ns = 0;
  };
  std::map<std::string, CsrfSession> csrf_sessions_;                   // session cookie -> token
  struct StoredAnswer {
    std::string body_hash;
    SimAnswer answer;
    bool done = false;
  };
  std::map<std::string, StoredAnswer> idempotency_;                    // webhook key -> first answer
  EvpPkeyPtr jwt_key_;
  std::string query_fault_;                                            // GUARDED_BY(mu_)
};

}  // namespace ordersync
