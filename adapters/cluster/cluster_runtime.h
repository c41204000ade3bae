// ClusterRuntime: what `serve` runs instead of the single-node Engine when [cluster]
// enabled = true (docs/cluster.md "Running a cluster"): the connection to the NATS
// JetStream cluster, the replicated log and the checkpoint store on it, the front door
// the ingresses publish through (ClusterFrontDoor), and the node's partition runtime
// (ClusterNode, joined through etcd).
//
//   auto rt = ClusterRuntime::Open(config.cluster, config.engine, store, master_data, "tcp://...", "tcp://...");
//   dispatcher options: own_all_partitions = false
//   dispatcher->Start(rt.get());              // the runtime is the dispatcher's DispatcherHost
//   ingress on rt->front_door();              // events go to the log
//   rt->Join(dispatcher, host);               // partitions come: host->OnPartitionAdopted ...
//   ...
//   rt->StopFrontDoor();                      // after the ingresses stopped: answers sent
//   rt->Leave();                              // partitions handed over (checkpointed)
//   (dispatcher Stop), then the runtime is destroyed (closes NATS)
//
// As the dispatcher's DispatcherHost: SubmitNotes → ClusterNode::SubmitNotes (logged as
// the partition's owner inputs); SubmitTask (dead-letter replay) → InvalidArgument in
// cluster mode (docs/cluster-running.md "Not yet in cluster mode"); SetTargetBlocked →
// the front door is not told (it does not route; the owner's dispatcher window bounds its
// backlog); the first call is logged, to say so once.
//
// Thread-safety: Open/Join/StopFrontDoor/Leave from the controlling thread; the
// DispatcherHost methods from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/cluster/cluster_node.h"
#include "adapters/cluster/cluster_options.h"
#include "adapters/cluster/front_door.h"
#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/jetstream_log.h"
#include "adapters/cluster/nats_connection.h"
#include "engine/dispatcher_host.h"
#include "engine/engine_options.h"
#include "engine/master_data_gate.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

class ClusterRuntime final : public DispatcherHost {
 public:
  // Connects to NATS (cluster.nats_urls), opens (creating when missing) the log stream
  // and the checkpoint store, and sets up the front door and the node; joins nothing yet.
  // Unavailable with NATS's text when the servers cannot be reached; while JetStream
  // answers Unavailable (no leader yet, timeouts) opening is retried for up to 60 s.
  static Result<std::unique_ptr<ClusterRuntime>> Open(const ClusterOptions& cluster, const EngineOptions& engine,
                                                      StateStore* store, const MasterDataSource* master_data,
                                                      std::string ingress_endpoint, std::string admin_endpoint);
  ~ClusterRuntime() override;  // StopFrontDoor, Leave
  ClusterRuntime(const ClusterRuntime&) = delete;
  ClusterRuntime& operator=(const ClusterRuntime&) = delete;

  EventIntake* front_door() { return front_door_.get(); }
  ClusterNode* node() { return node_.get(); }  // null until Join
  JetStreamLog* log() { return log_.get(); }

  // Joins the cluster: commands of owned partitions go to `commands`, adoptions and
  // releases to `host`. Both must outlive Leave().
  Status Join(OutboxListener* commands, PartitionHost* host);
  // Refuses new events and waits for the answers of those in flight. Idempotent.
  void StopFrontDoor();
  // Hands the owned partitions over and leaves the cluster. Idempotent.
  void Leave();

  // DispatcherHost.
  Status SubmitNotes(std::vector<CommandNote>&& notes) override;
  Status SubmitTask(uint32_t partition, std::unique_ptr<PartitionTask> task) override;
  void SetTargetBlocked(std::string_view target, bool blocked, uint32_t retry_after_ms) override;

 private:
  ClusterRuntime() = default;

  ClusterOptions cluster_;
  EngineOptions engine_;
  StateStore* store_ = nullptr;
  std::string ingress_endpoint_;
  std::string admin_endpoint_;
  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<JetStreamLog> log_;
  std::unique_ptr<JetStreamCheckpointStore> checkpoints_;
  std::unique_ptr<ClusterFrontDoor> front_door_;
  std::unique_ptr<ClusterNode> node_;
  std::atomic<bool> target_blocked_logged_{false};
};

}  // namespace ordersync
