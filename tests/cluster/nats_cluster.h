// NatsCluster: a test fixture running N real nats-server processes (Debian nats-server)
// clustered on free loopback ports, JetStream on, each with its own store directory
// under a temporary directory. Servers can be killed with SIGKILL and restarted on the
// same ports and store (as after a crash); the destructor stops them all and deletes
// the directory.
//
// Thread-safety: one thread (the test's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "adapters/cluster/nats_connection.h"
#include "engine/status.h"

namespace ordersync::test {

class NatsCluster {
 public:
  // Starts `servers` processes and waits until JetStream has a meta leader.
  explicit NatsCluster(int servers = 3);
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  // OK when every server started and JetStream answered; else what failed.
  const Status& status() const { return status_; }
  int size() const { return static_cast<int>(servers_.size()); }
  // Client URLs of all servers (running or not).
  std::vector<std::string> urls() const;
  std::string url(int i) const;
  // Server name of server i ("n1", "n2", ...), as the cluster reports stream leaders.
  std::string name(int i) const { return "n" + std::to_string(i + 1); }
  int IndexOf(const std::string& name) const;
  NatsOptions ClientOptions() const;

  // SIGKILL of server i (the process dies without flushing anything).
  void Kill(int i);
  // Starts server i again on its ports and store directory.
  Status Restart(int i);
  bool running(int i) const { return servers_[static_cast<size_t>(i)].pid > 0; }
  // Process id of server i (-1 when not running).
  pid_t pid(int i) const { return servers_[static_cast<size_t>(i)].pid; }

  // Waits until JetStream answers API requests (a meta leader exists).
  Status WaitJetStreamReady(int64_t timeout_ms);
  // Waits until `stream` has a leader and `replicas - 1` followers that are current and
  // online (all copies caught up). Uses a connection of its own.
  Status WaitStreamCurrent(const std::string& stream, int replicas, int64_t timeout_ms);
  // Name of `stream`'s current leader ("" if none or unknown).
  std::string StreamLeader(const std::string& stream);

  const std::string& dir() const { return dir_; }

 private:
  struct Server {
    int client_port = 0;
    int cluster_port = 0;
    std::string config;
    pid_t pid = -1;
  };
  // Chooses ports, writes the configs and starts every server.
  Status Start();
  Status Spawn(int i);
  std::string dir_;
  std::vector<Server> servers_;
  Status status_;
};

}  // namespace ordersync::test
