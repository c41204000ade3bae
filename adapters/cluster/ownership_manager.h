// OwnershipManager: makes this node a member of the cluster in etcd and tells the
// application which logical partitions it owns, with the fencing epoch of each
// (docs/cluster.md "Ownership"). Keys and values: ownership_keys.h.
//
//  - Start() grants a lease (ClusterOptions::lease_ttl_s) and creates members/<node_id>
//    on it (only if absent: a live twin with the same node id is refused); a keep-alive
//    thread renews it every ttl/3 (ownership_lease.cc). The node also owns nothing
//    until it sees itself in the member list.
//  - A control thread polls the cluster prefix every poll_interval_ms (one range read:
//    members, draining flags, owners), computes the rendezvous assignment over live,
//    non-draining members (partition_assignment.h) and
//      * acquires owners/<p> for each partition assigned here whose key is free (txn:
//        create_revision == 0, on this node's lease) -> OnAcquired(p, epoch), epoch =
//        the key's create_revision;
//      * for a partition owned here but assigned elsewhere (a join, a drain of this node)
//        -> OnMustStop(p, kReassigned / kDraining); once the application calls
//        ConfirmStopped(p), it releases the key (txn: delete only if the value is still
//        this node's), and the new owner can create it.
//  - Safety: valid_until = send time of the last successful keep-alive (or of the grant)
//    + the TTL the server granted. The server cannot expire the lease before that instant
//    (it counts the TTL from when it received the request, which is later). A guard
//    thread fires at valid_until - safety_margin if no renewal moved it: every owned
//    partition gets OnMustStop(p, kLeaseAtRisk) at once, and the lease is abandoned.
//    Once the application confirmed every stop, the manager revokes the old lease (if
//    etcd answers; otherwise it expires) and registers again with a new lease; the
//    partitions are then acquired afresh, with new, larger epochs. The same happens when
//    a keep-alive answers that the lease is gone (kLeaseLost).
//  - Stop(): OnMustStop(p, kShutdown) for every owned partition, waits (until the lease
//    would be at risk) for the confirmations, releases the confirmed partitions and
//    revokes the lease when all were confirmed, so others take over at once.
//
// The application must stop applying and dispatching a partition before OnMustStop
// returns or very soon after (within the safety margin), and must not use a partition's
// epoch after it confirmed the stop.
//
// Test hook: every etcd request the manager makes first hits the failpoint
// "cluster.etcd_request" (engine/failpoint.h) with an EtcdRequestFailpoint*; a callback
// that sets `fail` makes the request fail as if etcd were unreachable from this node
// (a network partition of one node, keyed by node_id; `what` names the request:
// "keepalive", "grant", "register", "range", "acquire", "release", "revoke").
//
// Thread-safety: Start/Stop from one controlling thread. ConfirmStopped and Snapshot from
// any thread, including from inside a listener callback. Listener callbacks are made from
// the manager's threads, one at a time, never with the manager's state lock held; they
// must be quick and must not call Start or Stop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/cluster/cluster_options.h"
#include "adapters/cluster/etcd_client.h"
#include "adapters/cluster/ownership_keys.h"
#include "engine/status.h"

namespace ordersync {

enum class StopReason : uint8_t {
  kReassigned,   // the assignment moved the partition to another member (a join)
  kDraining,     // this node is draining
  kLeaseAtRisk,  // no renewal: the lease could expire at the server within the margin
  kLeaseLost,    // etcd says the lease is gone
  kOwnerKeyLost, // owners/<p> no longer holds this node's value (deleted by hand)
  kShutdown,     // Stop()
};
std::string_view StopReasonName(StopReason reason);

class OwnershipListener {
 public:
  virtual ~OwnershipListener() = default;
  // This node now owns `partition`; stamp `epoch` on its checkpoints and ERP commands.
  virtual void OnAcquired(uint32_t partition, int64_t epoch) = 0;
  // Stop applying and dispatching `partition` (owned at `epoch`) now, then call
  // OwnershipManager::ConfirmStopped(partition) (may be called from inside this callback).
  virtual void OnMustStop(uint32_t partition, int64_t epoch, StopReason reason) = 0;
};

struct EtcdRequestFailpoint {
  std::string_view node_id;
  std::string_view what;  // "keepalive", "grant", "range", "acquire", "release", ...
  bool fail = false;
};

struct OwnershipManagerOptions {
  ClusterOptions cluster;
  // Number of logical partitions ([engine] partitions). Same on every node.
  uint32_t partitions = 64;
  // Informational, shown by `cluster status`.
  std::string ingress;
  std::string admin;
};

class OwnershipManager {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // `listener` must outlive the manager.
  OwnershipManager(OwnershipManagerOptions options, OwnershipListener* listener);
  ~OwnershipManager();  // Stop()
  OwnershipManager(const OwnershipManager&) = delete;
  OwnershipManager& operator=(const OwnershipManager&) = delete;

  // Registers the node and starts the threads. InvalidArgument for bad options or a
  // node_id another live process has registered (Start waits up to lease_ttl_s + 1 s for
  // a previous run's registration to expire first); Unavailable (with etcd's or curl's
  // text) when etcd cannot be reached. Nothing runs after an error.
  Status Start();
  // Graceful leave (see above). Idempotent.
  void Stop();

  // The application stopped `partition` after OnMustStop.
  void ConfirmStopped(uint32_t partition);

  struct Snapshot {
    bool registered = false;    // holds a lease that is not at risk
    int64_t lease_id = 0;
    int64_t lease_ttl_s = 0;    // as granted by the server
    SteadyTime valid_until{};   // last successful renewal's send time + TTL
    std::map<uint32_t, int64_t> owned;  // partition -> epoch (running, not stopping)
    uint64_t lease_renewals = 0;
    uint64_t leases_abandoned = 0;
  };
  Snapshot GetSnapshot() const;

 private:
  enum class SlotState : uint8_t { kIdle, kOwned, kStopping };
  struct Slot {
    SlotState state = SlotState::kIdle;
    int64_t epoch = 0;
    std::string value;       // owners/<p> bytes written
    bool confirmed = false;  // kStopping: the application confirmed
    bool release = true;     // kStopping: delete the key once confirmed
  };
  struct Callback {
    bool acquired;
    uint32_t partition;
    int64_t epoch;
    StopReason reason;
  };

  // The failpoint "cluster.etcd_request" for request `what`, and the error it makes.
  bool Blocked(std::string_view what) const;
  static Status Unreachable(std::string_view what);
  // Grants a lease and creates members/<node_id> on it (only if absent: node ids are
  // unique). With `wait_for_previous`, first waits up to one TTL (+1 s) for a previous
  // registration of this node id (a crashed run of this node) to expire.
  Status Register(bool wait_for_previous);
  void KeepAliveLoop();
  void GuardLoop();
  void ControlLoop();
  void ControlPass();
  void Recover();     // after the lease was abandoned
  // REQUIRES: mu_ held. Moves every owned slot to kStopping(reason).
  void StopAllLocked(StopReason reason, std::vector<Callback>* out);
  void Fire(const std::vector<Callback>& callbacks);
  // Abandons the lease (guard or keep-alive), firing OnMustStop for every owned slot.
  // Only if `lease_id` is still the current, valid lease (and, for kLeaseAtRisk, its
  // deadline has really passed).
  void AbandonLease(StopReason reason, int64_t lease_id);

  const OwnershipManagerOptions options_;
  const OwnershipKeys keys_;
  OwnershipListener* const listener_;
  const std::chrono::milliseconds margin_;
  EtcdClient client_;            // control thread, Start/Stop
  EtcdClient keepalive_client_;  // keep-alive thread only

  std::mutex callback_mu_;  // serializes listener callbacks (taken before mu_)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // GUARDED_BY(mu_) below.
  bool running_ = false;
  bool stopping_ = false;         // the control thread exits
  bool threads_stop_ = false;     // the keep-alive and guard threads exit
  bool wake_control_ = false;     // a stop was confirmed: the control thread runs now
  bool lease_valid_ = false;      // registered and not abandoned
  int64_t lease_id_ = 0;
  int64_t lease_ttl_s_ = 0;
  int64_t abandoned_lease_ = 0;   // to revoke once every stop is confirmed
  SteadyTime valid_until_{};
  SteadyTime last_renew_sent_{};
  std::vector<Slot> slots_;
  uint64_t lease_renewals_ = 0;
  uint64_t leases_abandoned_ = 0;

  std::thread keepalive_thread_;
  std::thread guard_thread_;
  std::thread control_thread_;
};

}  // namespace ordersync
