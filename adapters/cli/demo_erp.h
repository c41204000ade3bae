// DemoErp: the simulated ERP(s) `ordersync demo` posts to, and the ERP part of the demo's
// config. `--erp zmq` (the default): one ZeroMQ ERP simulator (adapters/erp/
// erp_simulator.h) that every configured target points at, as always. `--erp netsuite |
// sap_s4 | d365_bc | oracle_fusion | webhook`: the HTTP simulator of that ERP's API
// (adapters/erp/connectors/sim/erp_http_simulator.h; plain HTTP on a loopback ephemeral
// port) behind one target "erp" of that kind, with the API's usual auth (NetSuite and
// Business Central: OAuth 2.0 client credentials with 30 s tokens; SAP: Basic plus the
// CSRF protocol; Oracle: Basic; webhook: an Idempotency-Key, no auth; the secrets are
// files in <data dir>/demo-secrets, mode 0600), and the ZeroMQ simulator as target "wms"
// for the command kinds that ERP cannot take (e.g. allocations: routing rules send them
// there, as a real site would route them to its warehouse system). Both simulators share
// the fault schedule (the outage: 503 + Retry-After on HTTP) and the reject rate.
//
//   auto erp = DemoErp::Start("netsuite", faults, data_dir);
//   AppConfig c = erp->Configure(config);     // targets and routing at the simulators
//   ... erp->Summary(), erp->Ledger() ...
//   erp->Stop();
//
// Thread-safety: Start/Configure/Stop from one thread; Summary and Ledger from any.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapters/config/app_config.h"
#include "adapters/erp/connectors/sim/erp_http_simulator.h"
#include "adapters/erp/erp_simulator.h"
#include "engine/status.h"

namespace ordersync {

class DemoErp {
 public:
  // `api`: "zmq" or an HTTP kind (connectors/erp_kind.h). `faults`: the ZeroMQ
  // simulator's options (endpoint, outage, rejects, seed); the HTTP one gets the same.
  static Result<std::unique_ptr<DemoErp>> Start(const std::string& api, const ErpSimOptions& faults,
                                                const std::string& data_dir);

  // `config` with its ERP targets and routing pointed at the simulators (see above).
  AppConfig Configure(const AppConfig& config) const;

  // The simulators' figures added up. For the HTTP ERP `duplicates_received` is its
  // duplicate_postings (second documents for one command), the count that must stay 0;
  // a repeated request that the ERP recognised is no duplicate there.
  ErpSimSummary Summary() const;
  // Both ledgers, in posting time order.
  std::vector<ErpPosting> Ledger() const;
  // "simulated NetSuite REST API at http://127.0.0.1:41234 (OAuth 2.0 client credentials)
  // as target erp" and, when some kinds go elsewhere, "; <kinds> -> a ZeroMQ simulator at
  // tcp://... as target wms" on a second line.
  std::string Describe() const;
  bool http() const { return http_ != nullptr; }
  ErpHttpSimSummary HttpSummary() const { return http_ != nullptr ? http_->Summary() : ErpHttpSimSummary{}; }
  void Stop();

 private:
  DemoErp() = default;

  std::string api_;
  std::string auth_;          // the HTTP ERP's auth method, as configured for the target
  std::string secrets_dir_;
  std::unique_ptr<ErpSimulator> zmq_;
  std::unique_ptr<ErpHttpSimulator> http_;
};

}  // namespace ordersync
