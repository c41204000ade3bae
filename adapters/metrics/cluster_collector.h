// ClusterCollector: the Prometheus families of one cluster-mode node (a ClusterNode and
// the JetStreamLog it applies from; docs/cluster.md "Metrics"). Counters, gauges of
// ownership and the lease are read from ClusterNode::GetStats()/Partitions() and
// OwnershipManager::GetSnapshot() at scrape time; the per-partition log lag needs NATS
// requests, so a sampler thread of the collector measures it every
// lag_sample_interval_ms and a scrape only reads the last sample (a scrape never waits
// for NATS). Families:
//
//   ordersync_cluster_registered                  1 while the node holds a lease not at risk
//   ordersync_cluster_lease_valid_seconds         time left until the node must stop (>= 0)
//   ordersync_cluster_lease_renewals_total, ordersync_cluster_leases_abandoned_total
//   ordersync_cluster_nats_connected              1 while the NATS connection is up
//   ordersync_cluster_partitions                  [engine] partitions (constant)
//   ordersync_cluster_partitions_owned            partitions this node runs now
//   ordersync_cluster_partitions_dispatching      ... restored and handed to the dispatcher
//   ordersync_cluster_ownership_changes_total{change=acquired|stopped|fenced}
//   ordersync_cluster_restore_last_seconds, ordersync_cluster_restore_max_seconds
//   ordersync_cluster_restore_failures_total{stage=adopt|apply}
//   ordersync_cluster_records_applied_total
//   ordersync_cluster_checkpoints_total{result=stored|failed}
//   ordersync_cluster_notes_total{result=logged|dropped}
//   ordersync_cluster_log_lag_messages{partition}  per owned partition, last sample:
//       log stream sequence of the partition's last message - the last one applied
//       (0 = caught up; the stream is shared by all partitions, so this is an upper bound
//       of the partition's own records still to apply)
//   ordersync_cluster_lag_sample_timestamp_seconds  unix time of the last complete sample
//   ordersync_cluster_lag_sample_errors_total       samples that failed (NATS errors)
//
//   auto c = std::make_shared<ClusterCollector>(&node, &log, partitions, {});
//   c->Start();                        // the sampler thread
//   observability->AddCollector(c);
//   ...
//   c->Stop();                         // before the node and the log go away
//
// Thread-safety: Collect and SampleOnce from any thread; Start/Stop from one controlling
// thread. The node and the log must outlive the collector (or its Stop()).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "adapters/cluster/cluster_node.h"
#include "adapters/cluster/jetstream_log.h"
#include "engine/status.h"

namespace ordersync {

struct ClusterCollectorOptions {
  // How often the sampler thread reads each owned partition's last log sequence (two
  // JetStream requests per partition). Shorter = fresher lag, more requests; keep it at or
  // below the Prometheus scrape interval. Default: 5000 ms.
  int64_t lag_sample_interval_ms = 5000;
};

class ClusterCollector final : public prometheus::Collectable {
 public:
  ClusterCollector(const ClusterNode* node, JetStreamLog* log, uint32_t partitions,
                   ClusterCollectorOptions options = {});
  ~ClusterCollector() override;  // Stop()
  ClusterCollector(const ClusterCollector&) = delete;
  ClusterCollector& operator=(const ClusterCollector&) = delete;

  // Samples at once, then every lag_sample_interval_ms on a thread, until Stop().
  void Start();
  void Stop();  // idempotent
  // One lag sample now (the sampler thread's step; tests call it directly). An error
  // (NATS unreachable) keeps the previous sample and counts a failed sample.
  Status SampleOnce();

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  void SampleLoop();

  const ClusterNode* const node_;
  JetStreamLog* const log_;
  const uint32_t partitions_;
  const ClusterCollectorOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool quit_ = false;                  // guarded by mu_
  std::map<uint32_t, uint64_t> lag_;   // guarded by mu_: partition -> lag, last sample
  double sample_unix_s_ = 0;           // guarded by mu_: 0 = no sample yet
  uint64_t sample_errors_ = 0;         // guarded by mu_
  std::mutex sample_mu_;               // one SampleOnce at a time
  std::thread thread_;
};

}  // namespace ordersync
