// Failpoints: named points in the commit protocol where a crash test can stop the
// process, in the manner of RocksDB's SyncPoint. Production code marks a point with
//
//   ORDERSYNC_FAILPOINT("worker.after_log_append");
//   ORDERSYNC_FAILPOINT_ARG("log.after_sync", &synced);   // callbacks get the argument
//
// and nothing happens unless a test armed it. Two ways to arm:
//  - in-process: Failpoints::Arm("name", callback) / Failpoints::Clear();
//  - in a child process, through the environment, read once at the first hit of any
//    point: ORDERSYNC_FAILPOINTS="name=crash@N,other=crash" kills the process with
//    SIGKILL at the N-th hit of `name` (N defaults to 1), as `kill -9` would.
// The cost of an unarmed point is one relaxed atomic load.
//
// Points and where they sit (docs/architecture.md "Commit protocol"):
//   log.mid_append            half a record written to the segment file (torn tail)
//   log.after_sync            a record is durable per the durability mode; arg = LogSynced*
//   worker.after_log_append   the group commit's record is durable, no result reported
//   worker.after_results      results reported, commands not yet handed to the dispatcher
//   checkpoint.before_write   a checkpoint is cut but not written
//   checkpoint.before_truncate a checkpoint is durable, the log not yet truncated
//   acks.after_append         a batch of ERP acknowledgements is in the log, not applied
// Cluster mode (adapters/cluster):
//   cluster.etcd_request      an etcd request of a node; arg = EtcdRequestFailpoint* (fail it)
//   cluster.checkpoint_put    a node's apply thread is about to store a checkpoint;
//                             arg = ClusterWriteFailpoint* (block there)
//
// Thread-safety: Hit may be called from any thread. Arm/Clear from a test's controlling
// thread while no armed point can be hit concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace ordersync {

// Argument of "log.after_sync": a log file and how many of its bytes are durable.
struct LogSynced {
  std::string_view path;
  uint64_t durable_bytes = 0;
};

// Argument of "log.mid_append": the frame about to be written to `fd`.
struct TornWrite {
  int fd = -1;
  std::string_view header;
  std::string_view payload;
};

class Failpoints {
 public:
  using Callback = std::function<void(void* arg)>;

  // Calls the callback armed for `name`, if any. Cheap when nothing is armed.
  static void Hit(std::string_view name, void* arg = nullptr) {
    if (armed_.load(std::memory_order_relaxed) != 0) HitSlow(name, arg);
  }
  static void Arm(std::string_view name, Callback callback);
  static void Clear();

 private:
  static void HitSlow(std::string_view name, void* arg);
  static std::atomic<int> armed_;
};

#define ORDERSYNC_FAILPOINT(name) ::ordersync::Failpoints::Hit(name)
#define ORDERSYNC_FAILPOINT_ARG(name, arg) ::ordersync::Failpoints::Hit(name, arg)

}  // namespace ordersync
