// ZmqTargetChannel: the TargetChannel of kind "zmq" — a DEALER socket connected to the
// target adapter's ROUTER; one ErpCommand frame out per attempt, one ErpAck frame back.
// ZMQ_IMMEDIATE makes a send fail while no connection is up (instead of queueing), so
// the dispatcher's backoff and circuit breaker see an ERP that is not there.
//
// Thread-safety: belongs to the dispatcher thread.
#pragma once

#include <memory>
#include <string>

#include "adapters/erp/erp_options.h"
#include "adapters/erp/target_channel.h"

namespace ordersync {

class ZmqTargetChannel final : public TargetChannel {
 public:
  ZmqTargetChannel(zmq::context_t& context, const ErpTargetOptions& options);
  Status Open() override;
  zmq::pollitem_t PollItem() override { return zmq::pollitem_t{socket_.handle(), 0, ZMQ_POLLIN, 0}; }
  // The epoch is not sent: the ErpCommand frame has no field for it (schemas/erp.fbs).
  bool Send(std::string_view command_id, std::string_view erp_command, bool maybe_posted_before,
            uint64_t epoch) override;
  size_t Receive(const std::function<void(const ErpAnswer&)>& on_answer, uint64_t* unreadable) override;
  const std::string& endpoint() const override { return endpoint_; }

 private:
  const std::string name_;
  const std::string endpoint_;
  const uint32_t max_in_flight_;
  zmq::socket_t socket_;
  std::string aligned_;  // an answer copied for FlatBuffers' in-place reads
};

}  // namespace ordersync
