#include "adapters/metrics/cluster_collector.h"

#include <chrono>
#include <set>
#include <string>

#include "adapters/metrics/metric_families.h"

namespace ordersync {

ClusterCollector::ClusterCollector(const ClusterNode* node, JetStreamLog* log, uint32_t partitions,
                                   ClusterCollectorOptions options)
    : node_(node), log_(log), partitions_(partitions), options_(options) {}

ClusterCollector::~ClusterCollector() { Stop(); }

void ClusterCollector::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = false;
  }
  thread_ = std::thread([this] { SampleLoop(); });
}

void ClusterCollector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClusterCollector::SampleLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!quit_) {
    lock.unlock();
    SampleOnce().PermitUncheckedError();  // counted in ordersync_cluster_lag_sample_errors_total
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(options_.lag_sample_interval_ms), [this] { return quit_; });
  }
}

Status ClusterCollector::SampleOnce() {
  std::lock_guard<std::mutex> one(sample_mu_);
  std::map<uint32_t, uint64_t> lag;
  Status failed;
  // The applied sequence is read before the log's last one: a record applied in between
  // can only make the lag look larger, never hide one.
  for (const ClusterNode::PartitionInfo& info : node_->Partitions()) {
    Result<uint64_t> last = log_->LastSequence(info.partition);
    if (!last.ok()) {
      failed = last.status();
      break;
    }
    lag[info.partition] = *last > info.applied_sequence ? *last - info.applied_sequence : 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!failed.ok()) {
    ++sample_errors_;
    return failed;
  }
  lag_ = std::move(lag);
  sample_unix_s_ =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return Status::OK();
}

std::vector<prometheus::MetricFamily> ClusterCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const ClusterNode::Stats s = node_->GetStats();
  const std::vector<ClusterNode::PartitionInfo> owned = node_->Partitions();
  const OwnershipManager::Snapshot lease = node_->ownership().GetSnapshot();
  auto D = [](auto v) { return static_cast<double>(v); };
  auto one = [&](const char* name, const char* help, MetricType type, double v) {
    AddSample(&AddFamily(&out, name, help, type), v);
  };

  one("ordersync_cluster_registered",
      "1 while this node holds its etcd lease and the lease is not at risk of expiring; 0: it runs no partition.",
      MetricType::Gauge, lease.registered ? 1 : 0);
  double valid_s = 0;
  if (lease.registered) {
    valid_s = std::chrono::duration<double>(lease.valid_until - std::chrono::steady_clock::now()).count();
    if (valid_s < 0) valid_s = 0;
  }
  one("ordersync_cluster_lease_valid_seconds",
      "Seconds until the etcd lease could expire at the server unless renewed (last renewal's send time + TTL); "
      "0 when not registered.",
      MetricType::Gauge, valid_s);
  one("ordersync_cluster_lease_renewals_total", "Successful keep-alives of the node's etcd lease.",
      MetricType::Counter, D(lease.lease_renewals));
  one("ordersync_cluster_leases_abandoned_total",
      "Leases given up because they could not be renewed in time (every partition stopped).", MetricType::Counter,
      D(lease.leases_abandoned));
  one("ordersync_cluster_nats_connected", "1 while the node's NATS connection (the replicated log) is up.",
      MetricType::Gauge, log_->connection()->connected() ? 1 : 0);
  one("ordersync_cluster_partitions", "Logical partitions of the cluster ([engine] partitions).", MetricType::Gauge,
      D(partitions_));
  size_t dispatching = 0;
  for (const auto& p : owned) dispatching += p.dispatching ? 1 : 0;
  one("ordersync_cluster_partitions_owned", "Partitions this node owns now (restoring or running).",
      MetricType::Gauge, D(owned.size()));
  one("ordersync_cluster_partitions_dispatching",
      "Owned partitions restored, caught up and handed to the ERP dispatcher.", MetricType::Gauge, D(dispatching));
  {
    auto& f = AddFamily(&out, "ordersync_cluster_ownership_changes_total",
                        "Ownership changes of this node's partitions: acquired, stopped (any reason), and fenced "
                        "(stopped because a newer owner refused our writes).",
                        MetricType::Counter);
    AddSample(&f, D(s.partitions_acquired), {{"change", "acquired"}});
    AddSample(&f, D(s.partitions_stopped), {{"change", "stopped"}});
    AddSample(&f, D(s.partitions_fenced), {{"change", "fenced"}});
  }
  one("ordersync_cluster_restore_last_seconds",
      "Time from acquiring a partition to restored and caught up with the log, last restore.", MetricType::Gauge,
      D(s.last_restore_ms) / 1000.0);
  one("ordersync_cluster_restore_max_seconds", "The longest restore since the node started.", MetricType::Gauge,
      D(s.max_restore_ms) / 1000.0);
  {
    auto& f = AddFamily(&out, "ordersync_cluster_restore_failures_total",
                        "Partition restores that failed (adopt: checkpoint or log unreadable) or were restarted "
                        "after an apply error (apply); each is retried.",
                        MetricType::Counter);
    AddSample(&f, D(s.adopt_failures), {{"stage", "adopt"}});
    AddSample(&f, D(s.apply_failures), {{"stage", "apply"}});
  }
  one("ordersync_cluster_records_applied_total", "Log records applied by this node's partitions.",
      MetricType::Counter, D(s.records_applied));
  {
    auto& f = AddFamily(&out, "ordersync_cluster_checkpoints_total",
                        "Partition checkpoints written to the checkpoint store, by result.", MetricType::Counter);
    AddSample(&f, D(s.checkpoints_stored), {{"result", "stored"}});
    AddSample(&f, D(s.checkpoint_failures), {{"result", "failed"}});
  }
  {
    auto& f = AddFamily(&out, "ordersync_cluster_notes_total",
                        "ERP answers logged as owner inputs (logged), or dropped because the partition is no longer "
                        "owned here (the next owner sends the command again).",
                        MetricType::Counter);
    AddSample(&f, D(s.notes_logged), {{"result", "logged"}});
    AddSample(&f, D(s.notes_dropped), {{"result", "dropped"}});
  }

  std::map<uint32_t, uint64_t> lag;
  double sample_unix_s = 0;
  uint64_t sample_errors = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lag = lag_;
    sample_unix_s = sample_unix_s_;
    sample_errors = sample_errors_;
  }
  {
    auto& f = AddFamily(&out, "ordersync_cluster_log_lag_messages",
                        "Per owned partition, at the last lag sample: log stream sequence of the partition's last "
                        "message minus the last one applied (0 = caught up; an upper bound of the partition's "
                        "records still to apply, the stream being shared by all partitions).",
                        MetricType::Gauge);
    std::set<uint32_t> now;
    for (const auto& p : owned) now.insert(p.partition);
    for (const auto& [p, v] : lag) {
      if (now.count(p) == 0) continue;  // moved away since the sample: its new owner reports it
      const std::string label = std::to_string(p);
      AddSample(&f, D(v), {{"partition", label}});
    }
  }
  one("ordersync_cluster_lag_sample_timestamp_seconds",
      "Unix time of the last complete log lag sample (0: none yet); old means the lag gauges are stale.",
      MetricType::Gauge, sample_unix_s);
  one("ordersync_cluster_lag_sample_errors_total", "Log lag samples that failed (NATS unreachable or erroring).",
      MetricType::Counter, D(sample_errors));
  return out;
}

}  // namespace ordersync
