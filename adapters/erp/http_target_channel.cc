#include "adapters/erp/http_target_channel.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

namespace ordersync {

HttpTargetChannel::HttpTargetChannel(const ErpTargetOptions& options)
    : options_(options), endpoint_(options.http.transport.base_url) {}

HttpTargetChannel::~HttpTargetChannel() {
  if (connector_ != nullptr) connector_->Stop();
}

Status HttpTargetChannel::Open() {
  Result<std::unique_ptr<ErpConnector>> connector = CreateErpConnector(options_);
  if (!connector.ok()) return connector.status();
  connector_ = std::move(connector).value();
  return Status::OK();
}

zmq::pollitem_t HttpTargetChannel::PollItem() {
  return zmq::pollitem_t{nullptr, connector_->wake_fd(), ZMQ_POLLIN, 0};
}

void HttpTargetChannel::WakeSelf() {
  // The wake fd is an eventfd: one more count makes the dispatcher's poll return and call
  // Receive, which hands out the answers made here (Poll clears the count).
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(connector_->wake_fd(), &one, sizeof one);
}

bool HttpTargetChannel::Send(std::string_view command_id, std::string_view erp_command, bool maybe_posted_before,
                             uint64_t epoch) {
  auto [it, fresh] = in_connector_.emplace(command_id);
  if (!fresh) return false;  // the previous attempt has not ended yet
  const Status s = connector_->Post(erp_command, next_tag_++, PostOptions{maybe_posted_before, epoch});
  if (s.ok()) return true;
  in_connector_.erase(it);
  if (s.IsBusy() || s.code() == Status::Code::kUnavailable) return false;
  // The connector will never take this command: answer Rejected, so it is dead-lettered
  // with the reason rather than retried forever.
  spdlog::error("erp target {}: command {} refused by the {} connector: {}", options_.name, command_id,
                options_.kind, s.message());
  ErpCompletion c;
  c.command_id = std::string(command_id);
  c.status = AckStatus::Rejected;
  c.failure = ErpFailureClass::kBusiness;
  c.message = "not sent: " + s.message();
  refused_.push_back(std::move(c));
  WakeSelf();
  return true;
}

size_t HttpTargetChannel::Receive(const std::function<void(const ErpAnswer&)>& on_answer, uint64_t*) {
  completions_.clear();
  connector_->Poll(&completions_, 0);
  while (!refused_.empty()) {
    completions_.push_back(std::move(refused_.front()));
    refused_.pop_front();
  }
  for (const ErpCompletion& c : completions_) {
    in_connector_.erase(c.command_id);
    ErpAnswer a;
    a.command_id = c.command_id;
    a.status = c.status;
    a.message = c.message;
    a.erp_document_id = c.erp_document_id;
    a.failure = c.failure;
    a.retry_after_ms = c.retry_after_ms;
    a.http_status = c.http_status;
    on_answer(a);
  }
  return completions_.size();
}

bool HttpTargetChannel::TransportStats(ErpConnectorStats* out) const {
  if (connector_ == nullptr) return false;
  *out = connector_->Stats();
  return true;
}

}  // namespace ordersync
