#include "tests/cluster/etcd_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "adapters/cluster/etcd_client.h"

namespace ordersync {

int EtcdProcess::FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

EtcdProcess::~EtcdProcess() { Stop(); }

Status EtcdProcess::Start() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr ? tmp : "/tmp") + "/ordersync-etcd-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return Status::IOError("mkdtemp failed");
  data_dir_ = templ;
  log_path_ = data_dir_ + ".log";
  const int client_port = FreePort();
  const int peer_port = FreePort();
  if (client_port <= 0 || peer_port <= 0) return Status::IOError("no free loopback port");
  client_url_ = "http://127.0.0.1:" + std::to_string(client_port);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
  std::vector<std::string> args = {
      "etcd",
      "--name=test",
      "--data-dir=" + data_dir_ + "/data",
      "--listen-client-urls=" + client_url_,
      "--advertise-client-urls=" + client_url_,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=test=" + peer_url,
      "--log-level=warn",
  };
  pid_ = ::fork();
  if (pid_ < 0) return Status::IOError("fork failed");
  if (pid_ == 0) {
    const int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("etcd", argv.data());
    ::execv("/usr/bin/etcd", argv.data());
    ::_exit(127);
  }
  EtcdClientOptions o;
  o.endpoints = {client_url_};
  o.request_timeout_ms = 500;
  EtcdClient client(o);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  Status last;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::IOError("etcd exited at start (status " + std::to_string(status) + "), see " + log_path_ +
                             " (is Debian etcd-server installed? scripts/bootstrap)");
    }
    last = client.Health();
    if (last.ok()) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  return Status::Unavailable("etcd not healthy within 15 s: " + last.ToString());
}

void EtcdProcess::Stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }
  if (!data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
    std::filesystem::remove(log_path_, ec);
    data_dir_.clear();
  }
}

}  // namespace ordersync
