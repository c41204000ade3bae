// EtcdProcess: a real, single-member etcd server for tests — `etcd` (Debian
// etcd-server, found on PATH or at /usr/bin/etcd) on free loopback ports with a
// temporary data dir. Start() waits until /health says healthy; Stop() (and the
// destructor) terminates it and removes the data dir.
//
// Thread-safety: not thread-safe; owned by one test.
#pragma once

#include <sys/types.h>

#include <string>

#include "engine/status.h"

namespace ordersync {

class EtcdProcess {
 public:
  EtcdProcess() = default;
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // Starts etcd and waits (up to ~15 s) until it is healthy.
  Status Start();
  // SIGTERM, then SIGKILL after 5 s; idempotent.
  void Stop();

  // "http://127.0.0.1:<port>"
  const std::string& client_url() const { return client_url_; }
  const std::string& data_dir() const { return data_dir_; }

  // A loopback TCP port nobody listens on right now.
  static int FreePort();

 private:
  pid_t pid_ = -1;
  std::string data_dir_;
  std::string client_url_;
  std::string log_path_;
};

}  // namespace ordersync
