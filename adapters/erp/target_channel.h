// TargetChannel: how the dispatcher reaches one ERP target — the transport behind a
// [erp.targets.<name>] table. The dispatcher owns the policy (per-order sequencing, rate
// limits, the in-flight window, timeouts, retries, the circuit breaker, dead letters);
// a channel only moves one attempt out and answers back:
//
//   channel->Send(command_id, erp_command, maybe_posted_before, epoch)   // one attempt
//   poll(channel->PollItem(), ...)           // the dispatcher's loop waits on it
//   channel->Receive(on_answer)              // answers that arrived, without blocking
//
// An answer names the command by command_id; answers for commands no longer waiting
// (late, duplicated) are the dispatcher's to ignore. Two channels exist, chosen by the
// target's kind:
//  - zmq (zmq_target_channel.h): ErpCommand/ErpAck frames to a target adapter's ROUTER.
//    An attempt may go unanswered: the dispatcher times it out (timeout_ms).
//  - netsuite, sap_s4, d365_bc, oracle_fusion, webhook (http_target_channel.h): the ERP's
//    own HTTPS API through an ErpConnector (connectors/erp_connector.h). Every attempt
//    ends with exactly one answer (the connector times requests out itself), so the
//    dispatcher sets no timeout of its own and never starts a second attempt of a
//    command while the first may still be on its way.
//
// Thread-safety: a channel belongs to the dispatcher thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "adapters/erp/connectors/erp_connector.h"
#include "engine/status.h"
#include "erp_ack_generated.h"

namespace ordersync {

// One answer of the ERP to an attempt. Views are valid during the callback.
struct ErpAnswer {
  std::string_view command_id;
  AckStatus status = AckStatus::Posted;
  std::string_view message;
  std::string_view erp_document_id;
  // HTTP channels only (zmq answers leave the defaults): why a TransientError or
  // Rejected happened (kAuth opens the circuit instead of counting towards it), how long
  // the ERP asked us to wait (429 / 503 Retry-After; 0 = it did not say), and the HTTP
  // status of the attempt's last answer (0 = none: zmq, or no HTTP answer at all).
  ErpFailureClass failure = ErpFailureClass::kNone;
  uint32_t retry_after_ms = 0;
  int http_status = 0;
};

class TargetChannel {
 public:
  virtual ~TargetChannel() = default;
  // Connects (or prepares to); errors are configuration errors.
  virtual Status Open() = 0;
  // What the dispatcher's zmq::poll waits on for answers (a socket, or an fd).
  virtual zmq::pollitem_t PollItem() = 0;
  // Starts one attempt of `erp_command` (an ErpCommand buffer). maybe_posted_before: an
  // earlier attempt may have reached the ERP (a retry, or the first attempt after a
  // restart of a command the outbox still held); HTTP channels then look the command up
  // in the ERP before posting where the ERP has no idempotent create. False when it
  // could not go out now (not connected, the transport's own queue is full): not an
  // attempt. epoch: the cluster owner's fencing epoch of the command's partition (0 on a
  // single node); HTTP channels send it as the Ordersync-Epoch header of every request
  // of the attempt; the zmq channel cannot carry it (the ErpCommand frame has no field
  // for it and is sent as the outbox holds it), so it stays in the journal and logs.
  virtual bool Send(std::string_view command_id, std::string_view erp_command, bool maybe_posted_before,
                    uint64_t epoch) = 0;
  // Calls on_answer for every answer that arrived; returns how many. Unreadable answers
  // are counted in `unreadable` and skipped.
  virtual size_t Receive(const std::function<void(const ErpAnswer&)>& on_answer, uint64_t* unreadable) = 0;
  // Where the channel sends to, for logs and stats.
  virtual const std::string& endpoint() const = 0;
  // True when every successful Send is followed by exactly one answer (see above): the
  // dispatcher then arms no timeout for the attempt.
  virtual bool AnswersEveryAttempt() const { return false; }
  // The transport's own counters (HTTP channels: the connector's); false when it has none.
  virtual bool TransportStats(ErpConnectorStats* out) const {
    (void)out;
    return false;
  }
};

}  // namespace ordersync
