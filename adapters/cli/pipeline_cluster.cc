// Pipeline's cluster mode ([cluster] enabled): the ClusterRuntime in place of the engine.
#include <spdlog/spdlog.h>

#include "adapters/cli/pipeline.h"
#include "adapters/metrics/cluster_collector.h"

namespace ordersync {

namespace {

// The node's partition changes, as the dispatcher takes them.
class DispatcherPartitionHost final : public PartitionHost {
 public:
  explicit DispatcherPartitionHost(OutboxDispatcher* dispatcher) : dispatcher_(dispatcher) {}
  Status OnPartitionAdopted(uint32_t partition, int64_t epoch) override {
    return dispatcher_->AdoptPartition(partition, static_cast<uint64_t>(epoch));
  }
  void OnPartitionReleased(uint32_t partition) override {
    if (Status s = dispatcher_->ReleasePartition(partition); !s.ok()) {
      spdlog::warn("cluster: the dispatcher did not release partition {}: {}", partition, s.ToString());
    }
  }

 private:
  OutboxDispatcher* dispatcher_;
};

}  // namespace

EventIntake* Pipeline::intake() {
  if (engine_ != nullptr) return engine_.get();
  return cluster_ != nullptr ? cluster_->front_door() : nullptr;
}

DispatcherHost* Pipeline::dispatcher_host() {
  if (engine_ != nullptr) return engine_.get();
  return cluster_.get();
}

Status Pipeline::OpenCluster(const AppConfig& config) {
  auto rt = ClusterRuntime::Open(config.cluster, config.engine, store_.get(), master_data_.get(),
                                 config.ingress.ack_endpoint, config.admin.endpoint);
  if (!rt.ok()) {
    spdlog::error("cannot start the cluster node: {}", rt.status().ToString());
    return rt.status();
  }
  cluster_ = std::move(rt).value();
  return Status::OK();
}


Status Pipeline::JoinCluster(const AppConfig& config) {
  partition_host_ = std::make_unique<DispatcherPartitionHost>(erp_->dispatcher());
  if (Status s = cluster_->Join(erp_->listener(), partition_host_.get()); !s.ok()) {
    spdlog::error("cannot join cluster {} through etcd: {}", config.cluster.name, s.ToString());
    return s;
  }
  spdlog::info("cluster: node {} joined cluster {} (etcd {}); partitions arrive as etcd assigns them",
               config.cluster.node_id, config.cluster.name, config.cluster.etcd_endpoints.front());
  // The ordersync_cluster_* families (docs/cluster.md "Metrics"); its lag sampler runs
  // until StopIntake, before the node leaves.
  cluster_metrics_ = std::make_shared<ClusterCollector>(cluster_->node(), cluster_->log(), config.engine.partitions);
  cluster_metrics_->Start();
  observability_->AddCollector(cluster_metrics_);
  return Status::OK();
}

}  // namespace ordersync
