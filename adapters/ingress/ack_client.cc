#include "adapters/ingress/ack_client.h"

#include <algorithm>
#include <cstring>

#include "ingress_generated.h"

namespace ordersync {
namespace {
// A DEALER with no usable connection (e.g. the server refused the CURVE handshake)
// blocks in send once its queue is full; bounded, the client keeps its timers running.
constexpr int kSendTimeoutMs = 100;
}  // namespace

AckClient::AckClient(zmq::context_t& context, AckClientOptions options)
    : context_(context), options_(std::move(options)) {
  Connect();
}

void AckClient::Connect() {
  socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  socket_->set(zmq::sockopt::linger, 0);
  socket_->set(zmq::sockopt::sndhwm, options_.high_water_mark);
  socket_->set(zmq::sockopt::rcvhwm, options_.high_water_mark);
  socket_->set(zmq::sockopt::sndtimeo, kSendTimeoutMs);
  if (!options_.curve_server_public_z85.empty()) {
    socket_->set(zmq::sockopt::curve_serverkey, options_.curve_server_public_z85);
    socket_->set(zmq::sockopt::curve_publickey, options_.curve_public_z85);
    socket_->set(zmq::sockopt::curve_secretkey, options_.curve_secret_z85);
  }
  socket_->connect(options_.endpoint);
}

void AckClient::Reconnect(const std::string& endpoint) {
  options_.endpoint = endpoint;
  Connect();
  ++stats_.reconnects;
  timeouts_in_a_row_ = 0;
  for (auto& [id, batch] : in_flight_) {
    batch.sent_at = Clock::now();
    Send(id, batch);
    ++stats_.batches_resent;
  }
}

void AckClient::Enqueue(std::string frame, uint64_t cookie) { queued_.push_back(Event{std::move(frame), cookie}); }

bool AckClient::Send(uint64_t request_id, const InFlight& batch) {
  // [request id][empty][envelope]...; the HWM is far above the window, so this blocks only
  // without a usable connection. Once the first part is queued, the rest are too.
  char id[8];
  std::memcpy(id, &request_id, sizeof(id));
  if (!socket_->send(zmq::buffer(id, sizeof(id)), zmq::send_flags::sndmore)) {
    ++stats_.send_timeouts;
    return false;
  }
  socket_->send(zmq::message_t(), batch.events.empty() ? zmq::send_flags::none : zmq::send_flags::sndmore);
  for (size_t i = 0; i < batch.events.size(); ++i) {
    socket_->send(zmq::buffer(batch.events[i].frame),
                  i + 1 < batch.events.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  return true;
}

void AckClient::SendNewBatches() {
  const Clock::time_point now = Clock::now();
  while (!retry_.empty() && retry_.begin()->first <= now) {
    queued_.push_front(std::move(retry_.begin()->second));
    retry_.erase(retry_.begin());
    --retry_count_;
  }
  while (!queued_.empty() && in_flight_.size() < options_.max_in_flight_batches) {
    InFlight batch;
    const size_t n = std::min(options_.batch_events, queued_.size());
    batch.events.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      batch.events.push_back(std::move(queued_.front()));
      queued_.pop_front();
    }
    batch.sent_at = now;
    const uint64_t id = next_request_id_++;
    Send(id, batch);
    in_flight_events_ += n;
    in_flight_.emplace(id, std::move(batch));
    ++stats_.batches_sent;
  }
}

size_t AckClient::HandleReply(const OnFinal& on_final) {
  std::vector<zmq::message_t> parts;
  zmq::message_t part;
  if (!socket_->recv(part, zmq::recv_flags::dontwait)) return 0;
  bool more = part.more();
  parts.push_back(std::move(part));
  while (more) {
    zmq::message_t next;
    if (!socket_->recv(next, zmq::recv_flags::none)) break;
    more = next.more();
    parts.push_back(std::move(next));
  }
  if (parts.size() != 3 || parts[0].size() != 8 || parts[1].size() != 0) {
    ++stats_.bad_acks;
    return 0;
  }
  uint64_t request_id = 0;
  std::memcpy(&request_id, parts[0].data(), sizeof(request_id));
  auto it = in_flight_.find(request_id);
  if (it == in_flight_.end()) {
    ++stats_.stale_acks;
    return 0;
  }
  // Aligned copy: FlatBuffers reads scalars in place.
  std::string ack_bytes = parts[2].to_string();
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(ack_bytes.data()), ack_bytes.size());
  const IngressAck* ack = VerifyIngressAckBuffer(verifier) ? GetIngressAck(ack_bytes.data()) : nullptr;
  InFlight& batch = it->second;
  if (ack == nullptr || ack->results() == nullptr || ack->results()->size() != batch.events.size()) {
    ++stats_.bad_acks;
    return 0;  // resent when it times out
  }
  const Clock::time_point now = Clock::now();
  timeouts_in_a_row_ = 0;
  ++stats_.acks_received;
  stats_.ack_latency_us.push_back(static_cast<uint32_t>(
      std::min<int64_t>(UINT32_MAX, std::chrono::duration_cast<std::chrono::microseconds>(now - batch.sent_at).count())));
  size_t finals = 0;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    const EventResult* r = ack->results()->Get(i);
    if (r->status() == EventStatus::Busy || r->status() == EventStatus::Throttled) {
      if (r->status() == EventStatus::Busy) {
        ++stats_.busy_retries;
        stats_.busy_retry_after.Record(r->retry_after_ms());
      } else {
        ++stats_.throttled_retries;
      }
      retry_.emplace(now + std::chrono::milliseconds(std::max<uint32_t>(1, r->retry_after_ms())),
                     std::move(batch.events[i]));
      ++retry_count_;
      continue;
    }
    FinalResult f;
    f.cookie = batch.events[i].cookie;
    f.status = static_cast<IngressVerdict>(r->status());
    if (r->event_id()) f.event_id = r->event_id()->string_view();
    if (r->reason()) f.reason = r->reason()->string_view();
    on_final(f);
    ++finals;
  }
  in_flight_events_ -= batch.events.size();
  in_flight_.erase(it);
  return finals;
}

void AckClient::ResendExpired() {
  const Clock::time_point now = Clock::now();
  const auto timeout = std::chrono::milliseconds(options_.ack_timeout_ms);
  bool any = false;
  for (auto& [id, batch] : in_flight_) {
    if (now - batch.sent_at < timeout) continue;
    any = true;
    batch.sent_at = now;
    Send(id, batch);
    ++stats_.batches_resent;
  }
  if (any && ++timeouts_in_a_row_ >= options_.reconnect_after_timeouts) {
    // Lazy Pirate: the connection may be dead in a way TCP has not noticed; start over.
    Reconnect(options_.endpoint);
  }
}

size_t AckClient::Poll(int timeout_ms, const OnFinal& on_final) {
  SendNewBatches();
  // Wait no longer than the next resend or retry is due.
  Clock::time_point due = Clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
  for (const auto& [id, batch] : in_flight_) {
    due = std::min(due, batch.sent_at + std::chrono::milliseconds(options_.ack_timeout_ms));
  }
  if (!retry_.empty()) due = std::min(due, retry_.begin()->first);
  const auto wait = std::max<int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(due - Clock::now()).count());
  zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(wait));
  size_t finals = 0;
  if (item.revents & ZMQ_POLLIN) {
    for (int k = 0; k < 256; ++k) {
      const size_t before = stats_.acks_received + stats_.stale_acks + stats_.bad_acks;
      finals += HandleReply(on_final);
      if (stats_.acks_received + stats_.stale_acks + stats_.bad_acks == before) break;  // nothing more to read
    }
  }
  ResendExpired();
  SendNewBatches();
  return finals;
}

}  // namespace ordersync
