// OwnershipManager (ownership_manager.h): start and stop, the control loop that turns the
// assignment into acquisitions and releases, and the listener plumbing. The lease side
// (keep-alive, guard, re-registration) is in ownership_lease.cc.
#include "adapters/cluster/ownership_manager.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "adapters/cluster/partition_assignment.h"
#include "engine/failpoint.h"

namespace ordersync {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t WallMs() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

EtcdClientOptions ClientOptions(const ClusterOptions& c) {
  EtcdClientOptions o;
  o.endpoints = c.etcd_endpoints;
  o.request_timeout_ms = c.request_timeout_ms;
  o.connect_timeout_ms = std::min<uint32_t>(c.request_timeout_ms, 300);
  return o;
}

}  // namespace

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kReassigned: return "reassigned";
    case StopReason::kDraining: return "draining";
    case StopReason::kLeaseAtRisk: return "lease_at_risk";
    case StopReason::kLeaseLost: return "lease_lost";
    case StopReason::kOwnerKeyLost: return "owner_key_lost";
    case StopReason::kShutdown: return "shutdown";
  }
  return "unknown";
}

OwnershipManager::OwnershipManager(OwnershipManagerOptions options, OwnershipListener* listener)
    : options_(std::move(options)),
      keys_(options_.cluster.name),
      listener_(listener),
      margin_(options_.cluster.safety_margin_ms),
      client_(ClientOptions(options_.cluster)),
      keepalive_client_(ClientOptions(options_.cluster)) {}

OwnershipManager::~OwnershipManager() { Stop(); }

Status OwnershipManager::Unreachable(std::string_view what) {
  return Status::Unavailable("etcd " + std::string(what) + ": unreachable (failpoint cluster.etcd_request)");
}

bool OwnershipManager::Blocked(std::string_view what) const {
  EtcdRequestFailpoint fp{options_.cluster.node_id, what, false};
  ORDERSYNC_FAILPOINT_ARG("cluster.etcd_request", &fp);
  return fp.fail;
}

Status OwnershipManager::Start() {
  const ClusterOptions& c = options_.cluster;
  if (!ValidClusterName(c.name)) {
    return Status::InvalidArgument("cluster.name '" + c.name + "': use letters, digits, '-', '_', '.' (1..128)");
  }
  if (!ValidClusterName(c.node_id)) {
    return Status::InvalidArgument("cluster.node_id '" + c.node_id +
                                   "': required to join a cluster; letters, digits, '-', '_', '.' (1..128)");
  }
  if (c.etcd_endpoints.empty()) return Status::InvalidArgument("cluster.etcd_endpoints: empty");
  if (options_.partitions == 0) return Status::InvalidArgument("ownership: partitions must be > 0");
  if (c.lease_ttl_s < 2) return Status::InvalidArgument("cluster.lease_ttl_s: at least 2");
  if (uint64_t{c.safety_margin_ms} * 2 > uint64_t{c.lease_ttl_s} * 1000) {
    return Status::InvalidArgument("cluster.safety_margin_ms: at most half of lease_ttl_s");
  }
  if (listener_ == nullptr) return Status::InvalidArgument("ownership: no listener");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) return Status::InvalidArgument("ownership manager already started");
    slots_.assign(options_.partitions, Slot{});
    stopping_ = threads_stop_ = false;
  }
  ORDERSYNC_RETURN_IF_ERROR(Register(/*wait_for_previous=*/true));
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  keepalive_thread_ = std::thread([this] { KeepAliveLoop(); });
  guard_thread_ = std::thread([this] { GuardLoop(); });
  control_thread_ = std::thread([this] { ControlLoop(); });
  return Status::OK();
}

Status OwnershipManager::Register(bool wait_for_previous) {
  const std::string member_key = keys_.Member(options_.cluster.node_id);
  const Clock::time_point give_up =
      Clock::now() + std::chrono::seconds(wait_for_previous ? options_.cluster.lease_ttl_s + 1 : 0);
  while (true) {
    if (Blocked("range")) return Unreachable("range");
    Result<EtcdRangeResult> previous = client_.Get(member_key);
    if (!previous.ok()) return previous.status();
    if (previous->kvs.empty()) break;
    if (Clock::now() >= give_up) {
      return Status::InvalidArgument(
          "cluster.node_id '" + options_.cluster.node_id + "' is registered by another live process (lease " +
          std::to_string(previous->kvs[0].lease) + ": " + previous->kvs[0].value +
          "); node ids must be unique in a cluster");
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  if (Blocked("grant")) return Unreachable("lease grant");
  const Clock::time_point sent = Clock::now();
  Result<EtcdLease> lease = client_.GrantLease(options_.cluster.lease_ttl_s);
  if (!lease.ok()) return lease.status();
  MemberInfo me;
  me.node_id = options_.cluster.node_id;
  me.ingress = options_.ingress;
  me.admin = options_.admin;
  me.started_at_ms = WallMs();
  me.lease = lease->id;
  Status put;
  if (Blocked("register")) {
    put = Unreachable("register");
  } else {
    Result<EtcdTxnResult> created = client_.PutIfAbsent(member_key, EncodeMemberInfo(me), lease->id);
    put = created.status();
    if (put.ok() && !created->succeeded && !(created->current.size() == 1 && created->current[0].lease == lease->id)) {
      put = Status::InvalidArgument("cluster.node_id '" + me.node_id +
                                    "' was registered by another process at the same moment; node ids must be "
                                    "unique in a cluster");
    }
  }
  if (!put.ok()) {
    if (!Blocked("revoke")) client_.RevokeLease(lease->id).PermitUncheckedError();
    return put;
  }
  std::lock_guard<std::mutex> lock(mu_);
  lease_valid_ = true;
  lease_id_ = lease->id;
  lease_ttl_s_ = lease->ttl_s;
  valid_until_ = sent + std::chrono::seconds(lease->ttl_s);
  last_renew_sent_ = sent;
  cv_.notify_all();
  spdlog::info("cluster: node {} registered in cluster {} with lease {:x} (TTL {} s)", me.node_id,
               options_.cluster.name, lease->id, lease->ttl_s);
  return Status::OK();
}

void OwnershipManager::StopAllLocked(StopReason reason, std::vector<Callback>* out) {
  for (uint32_t p = 0; p < slots_.size(); ++p) {
    Slot& s = slots_[p];
    if (s.state != SlotState::kOwned) continue;
    s.state = SlotState::kStopping;
    s.confirmed = false;
    s.release = true;
    out->push_back(Callback{false, p, s.epoch, reason});
  }
}

void OwnershipManager::Fire(const std::vector<Callback>& callbacks) {
  for (const Callback& c : callbacks) {
    if (c.acquired) {
      listener_->OnAcquired(c.partition, c.epoch);
    } else {
      listener_->OnMustStop(c.partition, c.epoch, c.reason);
    }
  }
}

void OwnershipManager::ConfirmStopped(uint32_t partition) {
  std::lock_guard<std::mutex> lock(mu_);
  if (partition >= slots_.size()) return;
  Slot& s = slots_[partition];
  if (s.state != SlotState::kStopping) return;
  s.confirmed = true;
  wake_control_ = true;
  cv_.notify_all();
}

void OwnershipManager::ControlLoop() {
  const milliseconds poll(options_.cluster.poll_interval_ms);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    ControlPass();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, poll, [&] { return stopping_ || wake_control_; });
    wake_control_ = false;
  }
}

void OwnershipManager::ControlPass() {
  bool valid = false;
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    valid = lease_valid_;
  }
  if (!valid) {
    Recover();
    std::lock_guard<std::mutex> lock(mu_);
    if (!lease_valid_) return;
  }
  Result<ClusterView> view = Blocked("range") ? Result<ClusterView>(Unreachable("range"))
                                              : ReadClusterView(&client_, keys_);
  if (!view.ok()) {
    spdlog::warn("cluster: cannot read the cluster state: {}", view.status().ToString());
    return;
  }
  const std::string& me = options_.cluster.node_id;
  std::vector<ClusterMember> members;
  bool listed = false;
  for (const MemberInfo& m : view->members) {
    members.push_back({m.node_id, view->draining.count(m.node_id) > 0});
    listed = listed || m.node_id == me;
  }
  const bool self_draining = view->draining.count(me) > 0;
  const std::vector<std::string> assignment = AssignPartitions(options_.partitions, members);

  std::vector<std::pair<uint32_t, std::string>> to_release;
  std::vector<uint32_t> to_acquire;
  {
    std::lock_guard<std::mutex> callbacks(callback_mu_);
    std::vector<Callback> calls;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!lease_valid_) return;
      lease = lease_id_;
      for (uint32_t p = 0; p < slots_.size(); ++p) {
        Slot& s = slots_[p];
        auto owner = view->owners.find(p);
        switch (s.state) {
          case SlotState::kOwned:
            if (owner == view->owners.end() || owner->second.value != s.value) {
              s.state = SlotState::kStopping;
              s.confirmed = false;
              s.release = false;
              calls.push_back(Callback{false, p, s.epoch, StopReason::kOwnerKeyLost});
            } else if (assignment[p] != me) {
              s.state = SlotState::kStopping;
              s.confirmed = false;
              s.release = true;
              calls.push_back(Callback{false, p, s.epoch,
                                       self_draining ? StopReason::kDraining : StopReason::kReassigned});
            }
            break;
          case SlotState::kStopping:
            if (!s.confirmed) break;
            if (s.release) {
              to_release.emplace_back(p, s.value);
            } else {
              s = Slot{};
            }
            break;
          case SlotState::kIdle:
            if (!listed || assignment[p] != me) break;
            if (owner == view->owners.end()) {
              to_acquire.push_back(p);
            } else if (owner->second.lease == lease_id_ && owner->second.node_id == me &&
                       Clock::now() < valid_until_ - margin_) {
              // Ours on this lease (an acquire whose answer was lost): adopt it.
              s.state = SlotState::kOwned;
              s.epoch = owner->second.epoch;
              s.value = owner->second.value;
              calls.push_back(Callback{true, p, s.epoch, StopReason::kReassigned});
            }
            break;
        }
      }
    }
    Fire(calls);
  }

  if (!listed) {  // our member key vanished (deleted by hand?) while the lease lives: put it back
    MemberInfo m{me, options_.ingress, options_.admin, WallMs(), lease};
    if (!Blocked("register")) {
      client_.PutIfAbsent(keys_.Member(me), EncodeMemberInfo(m), lease).status().PermitUncheckedError();
    }
  }

  for (const auto& [p, value] : to_release) {
    Status released = Blocked("release") ? Unreachable("release") : ReleasePartition(&client_, keys_, p, value);
    if (!released.ok() && released.code() != Status::Code::kInvalidArgument) {
      spdlog::warn("cluster: release of partition {} failed, will retry: {}", p, released.ToString());
      break;  // etcd trouble: the others would wait out the same timeout; next pass
    }
    if (!released.ok()) spdlog::warn("cluster: {}", released.ToString());
    std::lock_guard<std::mutex> lock(mu_);
    if (slots_[p].state == SlotState::kStopping && slots_[p].value == value) slots_[p] = Slot{};
  }

  for (uint32_t p : to_acquire) {
    const std::string value = EncodeOwnerValue(me, lease, WallMs());
    Result<AcquireResult> got = Blocked("acquire") ? Result<AcquireResult>(Unreachable("acquire"))
                                                   : TryAcquirePartition(&client_, keys_, p, value, lease);
    if (!got.ok()) {
      spdlog::warn("cluster: acquiring partition {} failed: {}", p, got.status().ToString());
      return;  // etcd trouble: the next pass tries again
    }
    if (!got->acquired) continue;
    std::lock_guard<std::mutex> callbacks(callback_mu_);
    Callback call{true, p, got->epoch, StopReason::kReassigned};
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Owned only while the lease it hangs on is valid; otherwise the key dies with it.
      if (!lease_valid_ || lease_id_ != lease || Clock::now() >= valid_until_ - margin_ ||
          slots_[p].state != SlotState::kIdle) {
        continue;
      }
      slots_[p].state = SlotState::kOwned;
      slots_[p].epoch = got->epoch;
      slots_[p].value = value;
    }
    Fire({call});
  }
}

void OwnershipManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  control_thread_.join();
  {
    std::lock_guard<std::mutex> callbacks(callback_mu_);
    std::vector<Callback> calls;
    {
      std::lock_guard<std::mutex> lock(mu_);
      StopAllLocked(StopReason::kShutdown, &calls);
    }
    Fire(calls);
  }
  std::vector<std::pair<uint32_t, std::string>> to_release;
  bool all_confirmed = true;
  int64_t lease = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto confirmed = [&] {
      return std::all_of(slots_.begin(), slots_.end(),
                         [](const Slot& s) { return s.state != SlotState::kStopping || s.confirmed; });
    };
    // Wait for the application while the lease still protects its partitions.
    while (!confirmed() && lease_valid_ && Clock::now() < valid_until_ - margin_) {
      cv_.wait_until(lock, valid_until_ - margin_);
    }
    for (uint32_t p = 0; p < slots_.size(); ++p) {
      const Slot& s = slots_[p];
      if (s.state != SlotState::kStopping) continue;
      if (!s.confirmed) {
        all_confirmed = false;
      } else if (s.release) {
        to_release.emplace_back(p, s.value);
      }
    }
    lease = lease_valid_ ? lease_id_ : abandoned_lease_;
  }
  for (const auto& [p, value] : to_release) {
    if (Blocked("release")) break;
    Status released = ReleasePartition(&client_, keys_, p, value);
    if (!released.ok()) spdlog::warn("cluster: release of partition {} at shutdown: {}", p, released.ToString());
    // Unreachable: do not wait out a timeout per partition; the keys go with the lease.
    if (!released.ok() && released.code() != Status::Code::kInvalidArgument) break;
  }
  // Revoking deletes members/<node_id> and any owner key left: only when nothing runs.
  if (all_confirmed && lease != 0 && !Blocked("revoke")) {
    Status revoked = client_.RevokeLease(lease);
    if (!revoked.ok() && !revoked.IsNotFound()) {
      spdlog::warn("cluster: revoking lease {:x} at shutdown: {} (it expires by itself)", lease, revoked.ToString());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads_stop_ = true;
    lease_valid_ = false;
    cv_.notify_all();
  }
  keepalive_thread_.join();
  guard_thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
  for (Slot& s : slots_) s = Slot{};
}

OwnershipManager::Snapshot OwnershipManager::GetSnapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  Snapshot out;
  out.registered = lease_valid_;
  out.lease_id = lease_id_;
  out.lease_ttl_s = lease_ttl_s_;
  out.valid_until = valid_until_;
  out.lease_renewals = lease_renewals_;
  out.leases_abandoned = leases_abandoned_;
  for (uint32_t p = 0; p < slots_.size(); ++p) {
    if (slots_[p].state == SlotState::kOwned) out.owned[p] = slots_[p].epoch;
  }
  return out;
}

}  // namespace ordersync
