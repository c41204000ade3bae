#include "adapters/cluster/cluster_runtime.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <utility>

namespace ordersync {

namespace {

// JetStream may not answer yet when a node starts with the servers (no meta leader
// elected, a stream leader moving, a loaded machine): opening the log and the checkpoint
// store is retried for up to this long while the error is Unavailable (timeouts, no
// responders); other errors (a stream with another configuration) fail at once.
constexpr int64_t kJetStreamStartupWaitMs = 60000;
constexpr int64_t kJetStreamStartupRetryMs = 1000;

template <typename Open>
auto OpenPatiently(const char* what, Open open) -> decltype(open()) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kJetStreamStartupWaitMs);
  for (;;) {
    auto opened = open();
    if (opened.ok() || opened.status().code() != Status::Code::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return opened;
    }
    spdlog::warn("cluster: opening the {} failed: {}; retrying (for up to {} s from the first attempt)", what,
                 opened.status().ToString(), kJetStreamStartupWaitMs / 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds(kJetStreamStartupRetryMs));
  }
}

}  // namespace

Result<std::unique_ptr<ClusterRuntime>> ClusterRuntime::Open(const ClusterOptions& cluster,
                                                             const EngineOptions& engine, StateStore* store,
                                                             const MasterDataSource* master_data,
                                                             std::string ingress_endpoint,
                                                             std::string admin_endpoint) {
  if (cluster.node_id.empty()) return Status::InvalidArgument("cluster.node_id: required in cluster mode");
  std::unique_ptr<ClusterRuntime> rt(new ClusterRuntime());
  rt->cluster_ = cluster;
  rt->engine_ = engine;
  rt->store_ = store;
  rt->ingress_endpoint_ = std::move(ingress_endpoint);
  rt->admin_endpoint_ = std::move(admin_endpoint);

  NatsOptions no;
  no.urls = cluster.nats_urls;
  no.name = "ordersync-" + cluster.node_id;
  auto conn = NatsConnection::Connect(no);
  if (!conn.ok()) return conn.status();
  rt->conn_ = std::move(conn).value();

  JetStreamLogOptions lo;
  lo.stream = cluster.stream;
  lo.prefix = cluster.subject_prefix;
  lo.partitions = engine.partitions;
  lo.replicas = static_cast<int>(cluster.replicas);
  auto log = OpenPatiently("event log stream", [&] { return JetStreamLog::Open(rt->conn_.get(), lo); });
  if (!log.ok()) return log.status();
  rt->log_ = std::move(log).value();

  JetStreamCheckpointStoreOptions co;
  co.prefix = cluster.subject_prefix;
  co.chunk_stream = CheckpointStreamOf(cluster);
  co.bucket = CheckpointBucketOf(cluster);
  co.replicas = static_cast<int>(cluster.replicas);
  auto checkpoints =
      OpenPatiently("checkpoint store", [&] { return JetStreamCheckpointStore::Open(rt->conn_.get(), co); });
  if (!checkpoints.ok()) return checkpoints.status();
  rt->checkpoints_ = std::move(checkpoints).value();

  ClusterFrontDoorOptions fo;
  fo.master_data = engine.master_data;
  fo.durability = engine.durability;
  auto front_door = ClusterFrontDoor::Create(rt->log_.get(), fo, master_data);
  if (!front_door.ok()) return front_door.status();
  rt->front_door_ = std::move(front_door).value();
  spdlog::info("cluster: node {} on NATS {} (stream {}, {} replica(s), {} partitions)", cluster.node_id,
               rt->conn_->connected_url(), cluster.stream, cluster.replicas, engine.partitions);
  return rt;
}

ClusterRuntime::~ClusterRuntime() {
  StopFrontDoor();
  Leave();
}

Status ClusterRuntime::Join(OutboxListener* commands, PartitionHost* host) {
  if (node_ != nullptr) return Status::InvalidArgument("cluster node already joined");
  ClusterNodeOptions o;
  o.engine = engine_;
  o.ownership.cluster = cluster_;
  o.ownership.partitions = engine_.partitions;
  o.ownership.ingress = ingress_endpoint_;
  o.ownership.admin = admin_endpoint_;
  o.checkpoint_interval_ms = cluster_.checkpoint_interval_ms;
  node_ = std::make_unique<ClusterNode>(o, store_, log_.get(), checkpoints_.get(), commands, host);
  Status s = node_->Start();
  if (!s.ok()) node_.reset();
  return s;
}

void ClusterRuntime::StopFrontDoor() {
  if (front_door_ == nullptr) return;
  if (Status s = front_door_->Stop(2 * conn_->options().request_timeout_ms); !s.ok()) {
    spdlog::warn("cluster: front door stopped with publishes unanswered: {}", s.ToString());
  }
}

void ClusterRuntime::Leave() {
  if (node_ != nullptr) node_->Stop();
}

Status ClusterRuntime::SubmitNotes(std::vector<CommandNote>&& notes) {
  if (node_ == nullptr) return Status::Unavailable("cluster node not joined");
  return node_->SubmitNotes(std::move(notes));
}

Status ClusterRuntime::SubmitTask(uint32_t partition, std::unique_ptr<PartitionTask>) {
  return Status::InvalidArgument("dead-letter replay of partition " + std::to_string(partition) +
                               " is not available in cluster mode yet (docs/cluster-running.md \"Not yet in cluster mode\")");
}

void ClusterRuntime::SetTargetBlocked(std::string_view target, bool blocked, uint32_t retry_after_ms) {
  // The front door does not route events to targets; the owner's dispatcher bounds its own
  // backlog (read-ahead window), and the log absorbs the rest.
  if (!target_blocked_logged_.exchange(true, std::memory_order_relaxed)) {
    spdlog::info("cluster: ERP target {} {} (hint {} ms); the front door keeps accepting — the log holds the "
                 "backlog (docs/cluster.md)",
                 target, blocked ? "backlogged" : "drained", retry_after_ms);
  }
}

}  // namespace ordersync
