// TargetChannel: how the dispatcher reaches one ERP target — the transport behind a
// [erp.targets.<name>] table. The dispatcher owns the policy (per-order sequencing, rate
// limits, the in-flight window, timeouts, retries, the circuit breaker, dead letters);
// a channel only moves one attempt out and answers back:
//
//   channel->Send(command_id, erp_command)   // one attempt; false: not sent now
//   poll(channel->PollItem(), ...)           // the dispatcher's loop waits on it
//   channel->Receive(on_answer)              // answers that arrived, without blocking
//
// An answer names the command by command_id; answers for commands no longer waiting
// (late, duplicated) are the dispatcher's to ignore. The ZeroMQ channel
// (zmq_target_channel.h) speaks ErpCommand/ErpAck frames to a target adapter's ROUTER.
//
// Thread-safety: a channel belongs to the dispatcher thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "engine/status.h"
#include "erp_ack_generated.h"

namespace ordersync {

// One answer of the ERP to an attempt. Views are valid during the callback.
struct ErpAnswer {
  std::string_view command_id;
  AckStatus status = AckStatus::Posted;
  std::string_view message;
  std::string_view erp_document_id;
};

class TargetChannel {
 public:
  virtual ~TargetChannel() = default;
  // Connects (or prepares to); errors are configuration errors.
  virtual Status Open() = 0;
  // What the dispatcher's zmq::poll waits on for answers (a socket, or an fd).
  virtual zmq::pollitem_t PollItem() = 0;
  // Starts one attempt of `erp_command` (an ErpCommand buffer). False when it could not
  // go out now (not connected, the transport's own queue is full): not an attempt.
  virtual bool Send(std::string_view command_id, std::string_view erp_command) = 0;
  // Calls on_answer for every answer that arrived; returns how many. Unreadable answers
  // are counted in `unreadable` and skipped.
  virtual size_t Receive(const std::function<void(const ErpAnswer&)>& on_answer, uint64_t* unreadable) = 0;
  // Where the channel sends to, for logs and stats.
  virtual const std::string& endpoint() const = 0;
};

}  // namespace ordersync
