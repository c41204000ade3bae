// The lease side of OwnershipManager (ownership_manager.h): renewing it, the guard that
// stops every partition at valid_until - safety_margin, abandoning it, and registering
// again once the application confirmed every stop.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "adapters/cluster/ownership_manager.h"

namespace ordersync {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

void OwnershipManager::KeepAliveLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  Clock::time_point last_attempt = last_renew_sent_;
  int64_t attempted_lease = lease_id_;
  bool failing = false;
  while (!threads_stop_) {
    if (!lease_valid_) {
      cv_.wait(lock);
      continue;
    }
    if (attempted_lease != lease_id_) {  // a new registration: count from its grant
      attempted_lease = lease_id_;
      last_attempt = last_renew_sent_;
      failing = false;
    }
    const milliseconds interval(std::max<int64_t>(lease_ttl_s_ * 1000 / 3, 100));
    const Clock::time_point next = last_attempt + (failing ? std::min(interval, milliseconds(250)) : interval);
    if (Clock::now() < next) {
      cv_.wait_until(lock, next);
      continue;
    }
    const int64_t id = lease_id_;
    lock.unlock();
    const Clock::time_point sent = Clock::now();
    Result<EtcdLease> renewed = Blocked("keepalive") ? Result<EtcdLease>(Unreachable("keepalive"))
                                                     : keepalive_client_.KeepAlive(id);
    if (!renewed.ok() && renewed.status().IsNotFound()) {
      spdlog::error("cluster: lease {:x} is gone at the server ({}); stopping every partition", id,
                    renewed.status().ToString());
      AbandonLease(StopReason::kLeaseLost, id);
    }
    lock.lock();
    last_attempt = sent;
    if (id != lease_id_ || !lease_valid_) continue;
    if (renewed.ok()) {
      valid_until_ = std::max(valid_until_, sent + std::chrono::seconds(renewed->ttl_s));
      last_renew_sent_ = sent;
      ++lease_renewals_;
      if (failing) spdlog::info("cluster: lease {:x} renewed again", id);
      failing = false;
      cv_.notify_all();
    } else if (!failing) {
      failing = true;
      spdlog::warn("cluster: lease {:x} keep-alive failed: {}", id, renewed.status().ToString());
    }
  }
}

void OwnershipManager::GuardLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!threads_stop_) {
    if (!lease_valid_) {
      cv_.wait(lock);
      continue;
    }
    const Clock::time_point deadline = valid_until_ - margin_;
    if (Clock::now() >= deadline) {
      const int64_t id = lease_id_;
      lock.unlock();
      AbandonLease(StopReason::kLeaseAtRisk, id);
      lock.lock();
      continue;
    }
    cv_.wait_until(lock, deadline);
  }
}

void OwnershipManager::AbandonLease(StopReason reason, int64_t lease_id) {
  std::lock_guard<std::mutex> callbacks(callback_mu_);
  std::vector<Callback> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!lease_valid_ || lease_id_ != lease_id) return;
    if (reason == StopReason::kLeaseAtRisk && Clock::now() < valid_until_ - margin_) return;  // renewed meanwhile
    lease_valid_ = false;
    abandoned_lease_ = lease_id_;
    ++leases_abandoned_;
    StopAllLocked(reason, &calls);
    for (Slot& s : slots_) s.release = false;  // the keys go with the lease
    wake_control_ = true;
    cv_.notify_all();
  }
  if (reason == StopReason::kLeaseAtRisk) {
    spdlog::error("cluster: lease {:x} not renewed; {} ms before it could expire at the server, "
                  "stopping {} partition(s)", lease_id, margin_.count(), calls.size());
  }
  Fire(calls);
}

void OwnershipManager::Recover() {
  int64_t old_lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot& s : slots_) {
      if (s.state == SlotState::kStopping && !s.confirmed) return;  // the app still runs it
    }
    for (Slot& s : slots_) s = Slot{};
    old_lease = abandoned_lease_;
  }
  if (old_lease != 0) {
    // Every partition is stopped: revoking lets others take over at once.
    Status revoked = Blocked("revoke") ? Unreachable("revoke") : client_.RevokeLease(old_lease);
    if (!revoked.ok() && !revoked.IsNotFound()) return;  // unreachable: try again next pass
    std::lock_guard<std::mutex> lock(mu_);
    abandoned_lease_ = 0;
  }
  Status registered = Register(/*wait_for_previous=*/false);
  if (!registered.ok()) {
    spdlog::warn("cluster: cannot register again: {}", registered.ToString());
  }
}

}  // namespace ordersync
