#include "adapters/ingress/ingress_server.h"

#include "adapters/ingress/ingress_server_impl.h"

namespace ordersync {

using ingress_internal::kLingerMs;
using ingress_internal::kMessagesPerTurn;
using ingress_internal::kStopReplyTimeout;

Status IngressServer::Impl::Open(std::string* ack_endpoint, std::string* pull_endpoint) {
  if (quarantine_ == nullptr) {
    Result<std::unique_ptr<QuarantineWriter>> q =
        QuarantineWriter::Open(store_, options_.quarantine, intake_->durability());
    if (!q.ok()) return q.status();
    owned_quarantine_ = std::move(q).value();
    quarantine_ = owned_quarantine_.get();
  }

  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status::IOError(std::string("ingress: eventfd: ") + std::strerror(errno));

  const bool curve = !options_.curve_secret_key_file.empty();
  std::string secret;
  if (curve) {
    if (options_.curve_authorized_keys_dir.empty()) {
      return Status::InvalidArgument(
          "ingress.curve_authorized_keys_dir must be set when ingress.curve_secret_key_file is");
    }
    Result<std::string> key = ReadCurveKeyFile(options_.curve_secret_key_file);
    if (!key.ok()) return key.status();
    secret = *key;
    Result<std::map<std::string, std::string>> keys = LoadAuthorizedKeys(options_.curve_authorized_keys_dir);
    if (!keys.ok()) return keys.status();
    if (keys->empty()) {
      spdlog::warn("ingress: no *.pub keys in {}: every producer will be refused",
                   options_.curve_authorized_keys_dir);
    }
    try {
      zap_ = std::make_unique<ZapHandler>(context_, std::move(keys).value(), &counters_);
    } catch (const zmq::error_t& e) {
      return Status::IOError(std::string("ingress: cannot bind the ZAP handler: ") + e.what());
    }
  }
  const int64_t max_frame = std::max<int64_t>(int64_t{1} << 20, int64_t{4} * validation_.max_message_bytes);
  auto make = [&](zmq::socket_type type, const std::string& endpoint, const char* what,
                  std::unique_ptr<zmq::socket_t>* out, std::string* bound) -> Status {
    if (endpoint.empty()) return Status::OK();
    try {
      auto s = std::make_unique<zmq::socket_t>(context_, type);
      s->set(zmq::sockopt::linger, kLingerMs);
      s->set(zmq::sockopt::rcvhwm, static_cast<int>(options_.high_water_mark));
      s->set(zmq::sockopt::sndhwm, static_cast<int>(options_.high_water_mark));
      s->set(zmq::sockopt::maxmsgsize, max_frame);
      if (type == zmq::socket_type::router) s->set(zmq::sockopt::router_mandatory, 1);
      if (curve) {
        s->set(zmq::sockopt::zap_domain, "ordersync");
        s->set(zmq::sockopt::curve_server, 1);
        s->set(zmq::sockopt::curve_secretkey, secret);
      }
      s->bind(endpoint);
      *bound = s->get(zmq::sockopt::last_endpoint);
      *out = std::move(s);
      return Status::OK();
    } catch (const zmq::error_t& e) {
      return Status::IOError(std::string("ingress: cannot bind the ") + what + " endpoint '" + endpoint +
                             "': " + e.what());
    }
  };
  ORDERSYNC_RETURN_IF_ERROR(make(zmq::socket_type::router, options_.ack_endpoint, "ack", &router_, ack_endpoint));
  ORDERSYNC_RETURN_IF_ERROR(make(zmq::socket_type::pull, options_.pull_endpoint, "pull", &pull_, pull_endpoint));
  return Status::OK();
}

void IngressServer::Impl::HandleAck(Batch* b) {
  counters_.batches_received.fetch_add(1, std::memory_order_relaxed);
  Prepare(b);
  uint32_t unused = 0;
  for (size_t i = 0; i < b->frame_count; ++i) ProcessFrame(b, i, &unused);
  FinishBuilding(b);
}

void IngressServer::Impl::HandlePull(Batch* b) {
  counters_.pull_batches_received.fetch_add(1, std::memory_order_relaxed);
  Prepare(b);
  b->next = 0;
  pull_current_ = b;
  ContinuePull();
}

void IngressServer::Impl::ContinuePull() {
  Batch* b = pull_current_;
  while (b->next < b->frame_count) {
    uint32_t retry_after_ms = 0;
    if (ProcessFrame(b, b->next, &retry_after_ms) == FrameOutcome::kRetry) {
      FlushQuarantine();
      pull_retry_at_ = SteadyClock::now() + std::chrono::milliseconds(std::max<uint32_t>(1, retry_after_ms));
      return;  // stalled: the pull socket is not read until this frame is taken
    }
    ++b->next;
  }
  pull_current_ = nullptr;
  FinishBuilding(b);
}

void IngressServer::Impl::SendAck(Batch* b) {
  encoder_.Begin();
  for (size_t i = 0; i < b->frame_count; ++i) {
    const Slot& s = b->slots[i];
    encoder_.Add(std::string_view(b->ids.data() + s.id_offset, s.id_len), s.status, s.reason, s.retry_after_ms);
  }
  const std::string_view ack = encoder_.Finish();
  try {
    // ROUTER_MANDATORY: an unroutable peer (gone, or its queue full) is an error, not a
    // silent drop, so it can be counted. The producer resends what it did not hear of.
    if (!router_->send(b->routing_id, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      counters_.acks_undeliverable.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    for (zmq::message_t& part : b->prefix) router_->send(part, zmq::send_flags::sndmore);
    router_->send(zmq::message_t(ack.data(), ack.size()), zmq::send_flags::none);
    counters_.acks_sent.fetch_add(1, std::memory_order_relaxed);
    counters_.ack_latency_ns.Record(std::max<int64_t>(0, clock_->NowNanos() - b->received_at_ns));
  } catch (const zmq::error_t& e) {
    counters_.acks_undeliverable.fetch_add(1, std::memory_order_relaxed);
  }
}

void IngressServer::Impl::DrainCompletions() {
  Batch* b = nullptr;
  while (completed_.try_dequeue(b)) {
    --outstanding_batches_;
    if (b->ack) {
      pending_ack_batches_published_.store(--pending_ack_batches_, std::memory_order_relaxed);
      SendAck(b);
    }
    Recycle(b);
  }
}

void IngressServer::Impl::ApplyReload() {
  if (!reload_pending_.exchange(false, std::memory_order_acq_rel)) return;
  std::optional<RateLimitOptions> limits;
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    limits.swap(reload_);
  }
  if (!limits) return;
  limiter_.Update(*limits);
  counters_.rate_limit_reloads.fetch_add(1, std::memory_order_relaxed);
}

void IngressServer::Impl::Run() {
  bool stopping = false;
  bool pull_drained = false;  // stopping: the pull socket had nothing more queued
  SteadyClock::time_point reply_deadline{};
  std::vector<zmq::pollitem_t> items;
  while (true) {
    items.clear();
    items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
    const int zap_at = zap_ ? static_cast<int>(items.size()) : -1;
    if (zap_) items.push_back({zap_->socket().handle(), 0, ZMQ_POLLIN, 0});
    const int router_at = router_ && !stopping ? static_cast<int>(items.size()) : -1;
    if (router_at >= 0) items.push_back({router_->handle(), 0, ZMQ_POLLIN, 0});
    // Stopping still drains what the pull socket holds (fire-and-forget producers were
    // told nothing), until it is empty or the deadline passes.
    const int pull_at =
        pull_ && pull_current_ == nullptr && !(stopping && pull_drained) ? static_cast<int>(items.size()) : -1;
    if (pull_at >= 0) items.push_back({pull_->handle(), 0, ZMQ_POLLIN, 0});

    long timeout_ms = -1;
    if (pull_current_ != nullptr) {
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(pull_retry_at_ - SteadyClock::now()).count();
      timeout_ms = std::max<long>(0, wait);
    }
    if (stopping) timeout_ms = timeout_ms < 0 ? 100 : std::min<long>(timeout_ms, 100);
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(timeout_ms));

    if (items[0].revents & ZMQ_POLLIN) {
      uint64_t value = 0;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &value, sizeof(value));
      wake_flag_.store(false);
    }
    DrainCompletions();
    ApplyReload();
    if (zap_at >= 0 && (items[zap_at].revents & ZMQ_POLLIN)) zap_->HandleRequest();
    if (router_at >= 0 && (items[router_at].revents & ZMQ_POLLIN)) {
      for (int k = 0; k < kMessagesPerTurn; ++k) {
        Batch* b = NewBatch();
        b->ack = true;
        if (!ReadMessage(*router_, b)) {
          Recycle(b);
          break;
        }
        HandleAck(b);
      }
    }
    if (pull_current_ != nullptr && SteadyClock::now() >= pull_retry_at_) ContinuePull();
    if (pull_at >= 0 && (items[pull_at].revents & ZMQ_POLLIN)) {
      for (int k = 0; k < kMessagesPerTurn && pull_current_ == nullptr; ++k) {
        Batch* b = NewBatch();
        b->ack = false;
        if (!ReadMessage(*pull_, b)) {
          Recycle(b);
          break;
        }
        HandlePull(b);
      }
    }

    if (!stopping && stop_requested_.load(std::memory_order_acquire)) {
      stopping = true;
      reply_deadline = SteadyClock::now() + kStopReplyTimeout;
    }
    if (stopping) {
      if (SteadyClock::now() >= reply_deadline) {
        pull_drained = true;  // late: read no more
      } else if (pull_current_ == nullptr && (pull_at < 0 || !(items[pull_at].revents & ZMQ_POLLIN))) {
        pull_drained = true;
      }
      if (pull_current_ != nullptr && SteadyClock::now() >= reply_deadline) {
        // The engine kept refusing; the remaining frames of this pull batch are dropped.
        Batch* b = pull_current_;
        counters_.pull_dropped_on_stop.fetch_add(b->frame_count - b->next, std::memory_order_relaxed);
        spdlog::warn("ingress: stopping with {} pull events the engine did not take", b->frame_count - b->next);
        b->frame_count = b->next;  // never reply-built; frames beyond are released by Recycle
        pull_current_ = nullptr;
        FinishBuilding(b);
      }
      // Every submitted event gets exactly one result, and the engine still runs: wait
      // for all of them (the engine holds views of the batches' frames).
      if (outstanding_batches_ == 0 && pull_current_ == nullptr && (pull_ == nullptr || pull_drained)) break;
      if (SteadyClock::now() >= reply_deadline + std::chrono::seconds(5)) {
        reply_deadline = SteadyClock::now();
        spdlog::warn("ingress: stopping: still waiting for the engine's results of {} batches", outstanding_batches_);
      }
    }
  }
  router_.reset();
  pull_.reset();
  zap_.reset();
}

IngressServer::IngressServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<IngressServer>> IngressServer::Start(const IngressOptions& options,
                                                            const ValidatorOptions& validation, EventIntake* intake,
                                                            StateStore* store, const Clock* clock,
                                                            QuarantineWriter* shared_quarantine) {
  auto impl = std::make_unique<Impl>(options, validation, intake, store, clock, shared_quarantine);
  std::string ack, pull;
  ORDERSYNC_RETURN_IF_ERROR(impl->Open(&ack, &pull));
  std::unique_ptr<IngressServer> server(new IngressServer(std::move(impl)));
  server->ack_endpoint_ = std::move(ack);
  server->pull_endpoint_ = std::move(pull);
  // The sockets move to the ingress thread; starting a thread is a full memory barrier,
  // which is what ZeroMQ asks for when a socket changes threads.
  Impl* raw = server->impl_.get();
  server->thread_ = std::thread([raw] { raw->Run(); });
  return server;
}

IngressServer::~IngressServer() { Stop(); }

void IngressServer::Stop() {
  if (!thread_.joinable()) return;
  impl_->RequestStop();
  thread_.join();
}

void IngressServer::UpdateRateLimits(const RateLimitOptions& limits) { impl_->UpdateRateLimits(limits); }

IngressStats IngressServer::Stats() const {
  IngressStats s;
  const IngressCounters& c = impl_->counters();
#define ORDERSYNC_COPY(name) s.name = c.name.load(std::memory_order_relaxed);
  ORDERSYNC_INGRESS_COUNTERS(ORDERSYNC_COPY)
#undef ORDERSYNC_COPY
  s.pending_batches = impl_->pending_ack_batches();
  for (size_t i = 0; i < kIngressRejectReasons; ++i) {
    s.rejected_by_reason[i] = c.rejected_by_reason[i].load(std::memory_order_relaxed);
  }
  impl_->ReadThrottled(&s.throttled_by_source);
  c.ack_latency_ns.AddTo(&s.ack_latency_ns);
  return s;
}

}  // namespace ordersync
