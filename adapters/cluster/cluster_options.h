// ClusterOptions: [cluster] — where the etcd cluster is, which ordersync cluster and node
// this process is, and the ownership lease timing (docs/cluster.md "Ownership").
// Read by `ordersync cluster ...` and by the ownership manager (ownership_manager.h).
// Not reloadable: a node changes identity or lease timing only by restarting.
//
// Thread-safety: plain values; copy freely, share read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ordersync {

struct ClusterOptions {
  // etcd client URLs (http://host:port), tried in order; a request that cannot reach one
  // (connection refused, timeout, "no leader") goes to the next. List every member of the
  // etcd cluster. Default: ["http://127.0.0.1:2379"].
  std::vector<std::string> etcd_endpoints = {"http://127.0.0.1:2379"};
  // Names this ordersync cluster: every key lives under /ordersync/<name>/, so several
  // clusters can share one etcd. Letters, digits, '-', '_'. Default: "default".
  std::string name = "default";
  // This node's identity in the cluster (members/<node_id>, owners/<p> values). Must be
  // unique among running nodes and stable across restarts. Letters, digits, '-', '_', '.'.
  // Required to join a cluster; `cluster status/drain` do not need it. Default: "".
  std::string node_id;
  // TTL of the node's etcd lease: how long after its last renewal a silent node's
  // partitions stay owned. Shorter = faster failover, more keep-alive traffic and more
  // risk of a GC pause or slow disk dropping ownership. Keep-alives go every ttl/3.
  // Range 2..600 (etcd grants at least ~2 s). Default: 6.
  uint32_t lease_ttl_s = 6;
  // The node stops all its partitions this long before its lease could expire at the
  // server (last successful keep-alive's send time + TTL - margin). Covers the guard
  // thread's wake-up delay and the rate difference of the two clocks over one TTL; it
  // must leave the keep-alives time to work: at most ttl*1000/2. Default: 1500.
  uint32_t safety_margin_ms = 1500;
  // Per-request timeout for etcd calls, per endpoint tried. Default: 1000.
  uint32_t request_timeout_ms = 1000;
  // How often the node re-reads membership, draining flags and owners (one range read
  // of the cluster prefix). Shorter = faster reaction to joins, leaves and drains.
  // Range 50..60000. Default: 500.
  uint32_t poll_interval_ms = 500;

  // --- Cluster mode of `serve` (docs/cluster.md "Running a cluster") ---
  // true: `serve` runs as a cluster node: its ingress publishes to the replicated log,
  // it owns the partitions etcd gives it, and dispatches only those. Needs node_id and
  // nats_urls. false: the single-node engine on the local log. Default: false.
  bool enabled = false;
  // NATS servers of the JetStream cluster holding the log (nats://host:port), tried in
  // order for the first connect; the client learns the others from the cluster.
  // Default: ["nats://127.0.0.1:4222"].
  std::vector<std::string> nats_urls = {"nats://127.0.0.1:4222"};
  // JetStream stream of the log and its subject prefix (<prefix>.ev.<p>, <prefix>.op.<p>).
  // Defaults: "ORDERSYNC", "ordersync".
  std::string stream = "ORDERSYNC";
  std::string subject_prefix = "ordersync";
  // Copies of the log and of the checkpoints (JetStream replicas, 1..5; 3 survives the
  // loss of one server). Default: 3.
  uint32_t replicas = 3;
  // A partition's checkpoint is stored this often (when it applied something since), and
  // the log before the previous one is purged. Shorter = faster restore on another node,
  // more checkpoint traffic. Range 100..3600000. Default: 5000.
  uint32_t checkpoint_interval_ms = 5000;
};

// Where a cluster keeps its partitions' checkpoints in JetStream, derived from [cluster]
// so that every node and every `ordersync cluster` command finds the same ones: the KV
// bucket of the pointers and the stream of the chunks (defaults: ordersync_checkpoints,
// ORDERSYNC_CKPT).
inline std::string CheckpointBucketOf(const ClusterOptions& c) { return c.subject_prefix + "_checkpoints"; }
inline std::string CheckpointStreamOf(const ClusterOptions& c) { return c.stream + "_CKPT"; }

}  // namespace ordersync
