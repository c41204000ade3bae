#include "tests/cluster/nats_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ordersync::test {

namespace {

constexpr const char* kNatsServer = "nats-server";

// Free loopback TCP ports: all sockets are held until every port is chosen, so the ports
// differ from each other (another process could still take one before the server binds
// it; the server then fails to start and the fixture reports it).
std::vector<int> FreePorts(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof(a);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ports.push_back(0);
    } else {
      ports.push_back(ntohs(a.sin_port));
    }
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

NatsCluster::NatsCluster(int servers) {
  char tmpl[] = "/tmp/ordersync-nats-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    status_ = Status::IOError("mkdtemp failed");
    return;
  }
  dir_ = tmpl;
  servers_.resize(static_cast<size_t>(servers));
  // A port chosen free can be taken by another process before the server binds it (tests
  // of other suites run at the same time): the server then exits, and the cluster is
  // started again on other ports.
  for (int attempt = 0; attempt < 3; ++attempt) {
    status_ = Start();
    if (status_.ok()) break;
    for (int i = 0; i < servers; ++i) Kill(i);
  }
  if (status_.ok()) status_ = WaitJetStreamReady(20000);
}

Status NatsCluster::Start() {
  const int servers = size();
  const auto ports = FreePorts(2 * servers);
  for (int i = 0; i < servers; ++i) {
    Server& s = servers_[static_cast<size_t>(i)];
    s.client_port = ports[static_cast<size_t>(2 * i)];
    s.cluster_port = ports[static_cast<size_t>(2 * i + 1)];
  }
  // The cluster's name is unique (the directory's), so fixtures never join each other.
  const std::string cluster_name = "ordersync-test-" + dir_.substr(dir_.rfind('-') + 1);
  for (int i = 0; i < servers; ++i) {
    Server& s = servers_[static_cast<size_t>(i)];
    s.config = dir_ + "/" + name(i) + ".conf";
    std::ofstream f(s.config);
    f << "server_name: " << name(i) << "\n"
      << "listen: 127.0.0.1:" << s.client_port << "\n"
      << "jetstream {\n  store_dir: \"" << dir_ << "/" << name(i) << "\"\n"
      << "  max_memory_store: 64MB\n  max_file_store: 2GB\n}\n";
    if (servers > 1) {
      f << "cluster {\n  name: " << cluster_name << "\n  listen: 127.0.0.1:" << s.cluster_port << "\n  routes: [\n";
      for (int j = 0; j < servers; ++j) {
        if (j != i) f << "    nats-route://127.0.0.1:" << servers_[static_cast<size_t>(j)].cluster_port << "\n";
      }
      f << "  ]\n}\n";
    }
  }
  for (int i = 0; i < servers; ++i) ORDERSYNC_RETURN_IF_ERROR(Spawn(i));
  return Status::OK();
}

NatsCluster::~NatsCluster() {
  // SIGKILL: a graceful JetStream shutdown takes seconds, and the store is deleted anyway.
  for (auto& s : servers_) {
    if (s.pid > 0) ::kill(s.pid, SIGKILL);
  }
  for (auto& s : servers_) {
    if (s.pid <= 0) continue;
    const int64_t deadline = NowMs() + 5000;
    int wstatus = 0;
    while (::waitpid(s.pid, &wstatus, WNOHANG) == 0) {
      if (NowMs() > deadline) {
        ::kill(s.pid, SIGKILL);
        ::waitpid(s.pid, &wstatus, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    s.pid = -1;
  }
  if (!dir_.empty() && std::getenv("ORDERSYNC_KEEP_NATS_DIR") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Status NatsCluster::Spawn(int i) {
  Server& s = servers_[static_cast<size_t>(i)];
  const std::string log = dir_ + "/" + name(i) + ".log";
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError("fork failed");
  if (pid == 0) {
    // The server dies with the test process (a crashed or killed test leaves none behind).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execlp(kNatsServer, kNatsServer, "-c", s.config.c_str(), static_cast<char*>(nullptr));
    // Debian installs it in /usr/sbin, which a non-root user's PATH may lack.
    ::execl("/usr/sbin/nats-server", kNatsServer, "-c", s.config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  s.pid = pid;
  // Wait until the client port accepts connections (or the process died).
  const int64_t deadline = NowMs() + 10000;
  while (NowMs() < deadline) {
    int wstatus = 0;
    if (::waitpid(pid, &wstatus, WNOHANG) == pid) {
      s.pid = -1;
      return Status::IOError("nats-server " + name(i) + " exited at start; see " + log);
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(s.client_port));
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (up) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Unavailable("nats-server " + name(i) + " did not listen within 10 s; see " + log);
}

void NatsCluster::Kill(int i) {
  Server& s = servers_[static_cast<size_t>(i)];
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGKILL);
  int wstatus = 0;
  ::waitpid(s.pid, &wstatus, 0);
  s.pid = -1;
}

Status NatsCluster::Restart(int i) {
  if (running(i)) return Status::InvalidArgument(name(i) + " is running");
  return Spawn(i);
}

std::string NatsCluster::url(int i) const {
  return "nats://127.0.0.1:" + std::to_string(servers_[static_cast<size_t>(i)].client_port);
}

std::vector<std::string> NatsCluster::urls() const {
  std::vector<std::string> out;
  for (int i = 0; i < size(); ++i) out.push_back(url(i));
  return out;
}

int NatsCluster::IndexOf(const std::string& n) const {
  for (int i = 0; i < size(); ++i) {
    if (name(i) == n) return i;
  }
  return -1;
}

NatsOptions NatsCluster::ClientOptions() const {
  NatsOptions o;
  o.urls = urls();
  o.name = "ordersync-test";
  o.connect_timeout_ms = 1000;
  o.reconnect_wait_ms = 100;
  o.request_timeout_ms = 2000;
  return o;
}

Status NatsCluster::WaitJetStreamReady(int64_t timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  Status last = Status::Unavailable("no attempt");
  while (NowMs() < deadline) {
    auto conn = NatsConnection::Connect(ClientOptions());
    if (conn.ok()) {
      jsAccountInfo* ai = nullptr;
      jsErrCode jerr = static_cast<jsErrCode>(0);
      natsStatus s = js_GetAccountInfo(&ai, (*conn)->js(), nullptr, &jerr);
      if (s == NATS_OK) {
        jsAccountInfo_Destroy(ai);
        // A meta leader answers before it knows every peer: a stream with one copy per
        // server can be placed only once they all joined.
        const char* subjects[] = {"ordersync-probe"};
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = "ORDERSYNC_PROBE";
        cfg.Subjects = subjects;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_MemoryStorage;
        cfg.Replicas = size();
        jsStreamInfo* si = nullptr;
        s = js_AddStream(&si, (*conn)->js(), &cfg, nullptr, &jerr);
        if (s == NATS_OK) {
          jsStreamInfo_Destroy(si);
          js_DeleteStream((*conn)->js(), cfg.Name, nullptr, &jerr);
          return Status::OK();
        }
        last = NatsError("probe stream", s, jerr);
      } else {
        last = NatsError("account info", s, jerr);
      }
    } else {
      last = conn.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Unavailable("JetStream not ready: " + last.ToString());
}

Status NatsCluster::WaitStreamCurrent(const std::string& stream, int replicas, int64_t timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  std::string last = "no answer";
  auto conn = NatsConnection::Connect(ClientOptions());
  if (!conn.ok()) return conn.status();
  while (NowMs() < deadline) {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, (*conn)->js(), stream.c_str(), nullptr, &jerr);
    if (s == NATS_OK) {
      bool ok = replicas == 1 || (si->Cluster != nullptr && si->Cluster->Leader != nullptr &&
                                  si->Cluster->ReplicasLen == replicas - 1);
      for (int i = 0; ok && si->Cluster != nullptr && i < si->Cluster->ReplicasLen; ++i) {
        ok = si->Cluster->Replicas[i]->Current && !si->Cluster->Replicas[i]->Offline;
      }
      last = "replicas not current";
      jsStreamInfo_Destroy(si);
      if (ok) return Status::OK();
    } else {
      last = NatsError("stream info", s, jerr).ToString();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Unavailable("stream " + stream + " not current with " + std::to_string(replicas) +
                             " replicas: " + last);
}

std::string NatsCluster::StreamLeader(const std::string& stream) {
  auto conn = NatsConnection::Connect(ClientOptions());
  if (!conn.ok()) return "";
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  std::string leader;
  if (js_GetStreamInfo(&si, (*conn)->js(), stream.c_str(), nullptr, &jerr) == NATS_OK) {
    if (si->Cluster != nullptr && si->Cluster->Leader != nullptr) leader = si->Cluster->Leader;
    jsStreamInfo_Destroy(si);
  }
  return leader;
}

}  // namespace ordersync::test
