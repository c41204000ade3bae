// HttpTargetChannel: the TargetChannel of the HTTP kinds (netsuite, sap_s4, d365_bc,
// oracle_fusion, webhook) — one ErpConnector (connectors/erp_connector.h) per target,
// created at Open from the target's [erp.targets.<name>] tables (secret files are read
// then: a missing or world-readable one fails the dispatcher's start).
//
//  - PollItem: the connector's wake_fd (an eventfd, readable while completions wait).
//  - Send: ErpConnector::Post (the epoch becomes PostOptions::epoch: the Ordersync-Epoch
//    header). Refused (false, not an attempt) while the connector is at
//    capacity or still holds an attempt of the same command (a second attempt in
//    parallel could post twice on an ERP without idempotent create). A command the ERP
//    cannot take (its kind, or not an ErpCommand: Post's InvalidArgument) is answered
//    Rejected with the reason, so it is dead-lettered instead of retried forever (the
//    config check keeps such routes out; this covers commands from an older config).
//  - Receive: ErpConnector::Poll; each completion becomes an ErpAnswer carrying the
//    failure class, Retry-After and HTTP status.
//  - AnswersEveryAttempt: true (the connector ends every attempt itself).
//  - TransportStats: ErpConnector::Stats.
// The destructor stops the connector (attempts in flight end; their commands stay in the
// outbox).
//
// Thread-safety: belongs to the dispatcher thread (the connector runs its own I/O thread).
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "adapters/erp/connectors/erp_connector.h"
#include "adapters/erp/erp_options.h"
#include "adapters/erp/target_channel.h"

namespace ordersync {

class HttpTargetChannel final : public TargetChannel {
 public:
  explicit HttpTargetChannel(const ErpTargetOptions& options);
  ~HttpTargetChannel() override;

  Status Open() override;
  // REQUIRES: Open() succeeded.
  zmq::pollitem_t PollItem() override;
  bool Send(std::string_view command_id, std::string_view erp_command, bool maybe_posted_before,
            uint64_t epoch) override;
  size_t Receive(const std::function<void(const ErpAnswer&)>& on_answer, uint64_t* unreadable) override;
  const std::string& endpoint() const override { return endpoint_; }
  bool AnswersEveryAttempt() const override { return true; }
  bool TransportStats(ErpConnectorStats* out) const override;

 private:
  void WakeSelf();

  const ErpTargetOptions options_;
  const std::string endpoint_;
  std::unique_ptr<ErpConnector> connector_;
  uint64_t next_tag_ = 1;
  // Command ids with an attempt in the connector (one attempt per command at a time).
  std::unordered_set<std::string> in_connector_;
  std::vector<ErpCompletion> completions_;  // reused by Receive
  std::deque<ErpCompletion> refused_;       // Rejected answers made here (Post refused the command)
};

}  // namespace ordersync
