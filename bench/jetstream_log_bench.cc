// jetstream_log_bench: what the replicated log costs per event against the local one
// (docs/cluster-log.md, "Cost"). Publishes 1-event records (LogRecord with one ~300 B
// envelope, as a front door publishes them) for `--seconds` per case:
//
//   segment  wal|fsync      adapters/storage/segment_log.h, one stream, 1 record per append
//   js R1|R3 sync           JetStreamLog::PublishEvent: one publish, wait for its PubAck
//   js R1|R3 async          AsyncEventPublisher: up to --max-pending publishes in flight
//
// The JetStream cases run against 3 local nats-server processes (tests/cluster/
// nats_cluster.h, clustered on loopback, store under /tmp); R1 keeps one copy, R3 three.
// cpu_us/event counts this process plus, for JetStream, the three servers
// (/proc/<pid>/stat), so it is the machine's CPU per event.
//
// Usage: jetstream_log_bench [--seconds 3] [--max-pending 4096]
// Prints one line per case; fails (exit 1) on any error.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "adapters/cluster/jetstream_log.h"
#include "adapters/storage/segment_log.h"
#include "engine/log_record.h"
#include "tests/cluster/nats_cluster.h"

namespace ordersync {
namespace {

using Clock = std::chrono::steady_clock;

std::string EventRecord(uint32_t p, uint64_t i) {
  LogRecordBuilder b;
  b.Begin(static_cast<int64_t>(i));
  std::string envelope(300, 'e');
  std::snprintf(envelope.data(), envelope.size(), "envelope-%llu", static_cast<unsigned long long>(i));
  b.AddEvent(p, static_cast<int64_t>(i), false, envelope);
  return std::string(b.Finish());
}

int64_t SelfCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// utime + stime of a process, in ns.
int64_t ProcCpuNs(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(line.substr(close + 2));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return (utime + stime) * (1'000'000'000 / sysconf(_SC_CLK_TCK));
}

struct Meter {
  test::NatsCluster* cluster = nullptr;
  int64_t cpu0 = 0;
  Clock::time_point t0;
  int64_t Cpu() const {
    int64_t c = SelfCpuNs();
    if (cluster != nullptr) {
      for (int i = 0; i < cluster->size(); ++i) c += ProcCpuNs(cluster->pid(i));
    }
    return c;
  }
  void Start() {
    cpu0 = Cpu();
    t0 = Clock::now();
  }
  void Report(const char* name, uint64_t events) const {
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu_us = static_cast<double>(Cpu() - cpu0) / 1000.0;
    std::printf("%-22s %10.0f events/s  %8.1f cpu_us/event  (%llu events, %.1f s)\n", name,
                static_cast<double>(events) / secs, cpu_us / static_cast<double>(events),
                static_cast<unsigned long long>(events), secs);
    std::fflush(stdout);
  }
};

[[noreturn]] void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "jetstream_log_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

void BenchSegment(Durability durability, const char* name, double seconds) {
  char tmpl[] = "/tmp/jetstream_log_bench.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  {
    SegmentLogOptions o;
    o.dir = dir;
    auto log = SegmentLog::Open(o);
    if (!log.ok()) Die("segment log", log.status());
    auto stream = (*log)->CreateStream(LogStreamId{1, 0});
    if (!stream.ok()) Die("segment stream", stream.status());
    Meter m;
    m.Start();
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    uint64_t n = 0;
    LogPosition pos;
    while (Clock::now() < end) {
      for (int k = 0; k < 64; ++k, ++n) {
        Status s = (*stream)->Append(EventRecord(0, n), durability, &pos);
        if (!s.ok()) Die("append", s);
      }
    }
    m.Report(name, n);
  }
  std::filesystem::remove_all(dir);
}

void BenchJsSync(JetStreamLog* log, test::NatsCluster* cluster, const char* name, double seconds) {
  Meter m;
  m.cluster = cluster;
  m.Start();
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  uint64_t n = 0;
  while (Clock::now() < end) {
    const uint32_t p = static_cast<uint32_t>(n % log->options().partitions);
    auto ack = log->PublishEvent(p, std::string(name) + "-" + std::to_string(n), EventRecord(p, n));
    if (!ack.ok()) Die("publish", ack.status());
    ++n;
  }
  m.Report(name, n);
}

struct AsyncCounts {
  std::atomic<uint64_t> acked{0}, failed{0};
  static void On(void* closure, const AsyncEventPublisher::Completion& c) {
    auto* self = static_cast<AsyncCounts*>(closure);
    (c.status.ok() ? self->acked : self->failed).fetch_add(1, std::memory_order_relaxed);
  }
};

void BenchJsAsync(JetStreamLog* log, test::NatsCluster* cluster, const char* name, double seconds) {
  AsyncCounts counts;
  auto pub = AsyncEventPublisher::Create(log, &AsyncCounts::On, &counts);
  if (!pub.ok()) Die("publisher", pub.status());
  Meter m;
  m.cluster = cluster;
  m.Start();
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  uint64_t n = 0;
  while (Clock::now() < end) {
    const uint32_t p = static_cast<uint32_t>(n % log->options().partitions);
    Status s = (*pub)->Publish(p, std::string(name) + "-" + std::to_string(n), EventRecord(p, n));
    if (s.IsBusy()) continue;
    if (!s.ok()) Die("publish", s);
    ++n;
  }
  Status s = (*pub)->WaitAll(30000);
  if (!s.ok()) Die("wait for acks", s);
  if (counts.failed.load() != 0) Die("async publish", Status::IOError(std::to_string(counts.failed.load()) + " failed"));
  m.Report(name, counts.acked.load());
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) {
  using namespace ordersync;
  double seconds = 3;
  int64_t max_pending = 4096;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--max-pending") == 0) max_pending = std::atoll(argv[i + 1]);
  }
  BenchSegment(Durability::kWal, "segment wal", seconds);
  BenchSegment(Durability::kFsync, "segment fsync", seconds);
  test::NatsCluster cluster(3);
  if (!cluster.status().ok()) Die("nats cluster", cluster.status());
  NatsOptions no = cluster.ClientOptions();
  no.max_async_pending = max_pending;
  no.request_timeout_ms = 10000;
  auto conn = NatsConnection::Connect(no);
  if (!conn.ok()) Die("connect", conn.status());
  for (int replicas : {1, 3}) {
    JetStreamLogOptions o;
    o.stream = "BENCH_R" + std::to_string(replicas);
    o.prefix = "bench" + std::to_string(replicas);
    o.replicas = replicas;
    auto log = JetStreamLog::Open(conn->get(), o);
    if (!log.ok()) Die("stream", log.status());
    Status s = cluster.WaitStreamCurrent(o.stream, replicas, 20000);
    if (!s.ok()) Die("stream current", s);
    const std::string sync_name = "js R" + std::to_string(replicas) + " sync";
    const std::string async_name = "js R" + std::to_string(replicas) + " async";
    BenchJsSync(log->get(), &cluster, sync_name.c_str(), seconds);
    BenchJsAsync(log->get(), &cluster, async_name.c_str(), seconds);
  }
  return 0;
}
