// Reconcile at scale (issue 15: "a period of 1 M postings reconciles in under a minute"):
// a data dir with N acknowledged postings of one target and the ERP's export of them with
// planted differences of every class (bench/reconcile/reconcile_dataset.h), then
//
//   BM_Reconcile_Run          RunReconcile: export parse + store scan + comparison
//   BM_Reconcile_ParseExport  ReadErpExportFile alone
//   BM_Reconcile_ScanView     ScanOrdersyncView alone (read-only store opened outside; the
//                             view's map sized as RunReconcile sizes it)
//   BM_Reconcile_Compare      Reconcile() alone (documents and view read outside)
//   BM_Reconcile_Cli          `ordersync reconcile --data-dir D --export F ... --json`, a
//                             child process: wall, its user+sys CPU, its peak RSS
//
// Every run checks the report against the planted differences and fails loudly when it
// differs. Counters: cpu_s (process CPU of the timed part), peak_rss_mb (VmHWM of the
// timed part: reset through /proc/self/clear_refs before it), postings, documents.
// The dataset is prepared once (in a child process, so its memory does not count) and
// cached in --cache_dir/<postings>-<planted>-<seed>; later runs time only the reconcile.
//
//   build/release/bench/reconcile/reconcile_bench [--postings=1000000] [--planted=10]
//       [--cache_dir=/tmp/ordersync-reconcile-bench] [--ordersync=PATH] [benchmark flags]
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "adapters/reconcile/reconcile_service.h"
#include "adapters/records/field_parse.h"
#include "adapters/storage/rocksdb_store.h"
#include "bench/reconcile/reconcile_dataset.h"

extern char** environ;

namespace ordersync {
namespace {

ReconcileDataset g_dataset;
std::string g_ordersync = ORDERSYNC_CLI_PATH;

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Resets the peak RSS (VmHWM) to the current RSS (Linux >= 4.0), after giving the heap
// the previous benchmark freed back to the system.
void ResetPeakRss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

double PeakRssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

ReconcileWindow Window() {
  ReconcileWindow w;
  w.target = g_dataset.target;
  w.from_ns = g_dataset.from_ns;
  w.to_ns = g_dataset.to_ns;
  w.margin_ns = 900 * kNanosPerSecond;
  return w;
}

Result<std::unique_ptr<RocksDbStore>> OpenStore() {
  StorageOptions so;
  so.data_dir = g_dataset.data_dir;
  return RocksDbStore::OpenReadOnly(so);
}

// Times the body per iteration (manual time) and reports CPU and peak RSS of it.
template <typename Body>
void Timed(benchmark::State& state, Body body) {
  double cpu = 0, peak = 0;
  for (auto _ : state) {
    ResetPeakRss();
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    Status s = body();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu += ProcessCpuSeconds() - cpu0;
    peak = std::max(peak, PeakRssMb());
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  state.counters["cpu_s"] = cpu / static_cast<double>(state.iterations());
  state.counters["peak_rss_mb"] = peak;
  state.counters["postings"] = static_cast<double>(g_dataset.expect_acknowledged);
  state.counters["documents"] = static_cast<double>(g_dataset.export_lines);
}

void BM_Reconcile_Run(benchmark::State& state) {
  Timed(state, [&]() -> Status {
    auto store = OpenStore();
    if (!store.ok()) return store.status();
    ExportFileSource source(g_dataset.export_path);
    Result<ReconcileRun> run = RunReconcile(store->get(), Window(), &source, WallNowNs());
    if (!run.ok()) return run.status();
    return CheckReconcileReport(g_dataset, run->report);
  });
}

void BM_Reconcile_ParseExport(benchmark::State& state) {
  Timed(state, [&]() -> Status {
    auto docs = ReadErpExportFile(g_dataset.export_path);
    if (!docs.ok()) return docs.status();
    if (docs->size() != g_dataset.export_lines) return Status::Corruption("export: wrong number of documents");
    return Status::OK();
  });
}

void BM_Reconcile_ScanView(benchmark::State& state) {
  auto store = OpenStore();
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  Timed(state, [&]() -> Status {
    const ReconcileWindow w = Window();
    ViewOptions o;
    o.target = w.target;
    o.content_from_ns = w.from_ns - w.margin_ns;
    o.content_to_ns = w.to_ns + w.margin_ns;
    o.now_ns = WallNowNs();
    OrdersyncView view;
    view.commands.reserve(g_dataset.export_lines);  // as RunReconcile does
    ORDERSYNC_RETURN_IF_ERROR(ScanOrdersyncView(store->get(), o, &view));
    if (view.commands.size() < g_dataset.expect_acknowledged) return Status::Corruption("view: too few commands");
    return Status::OK();
  });
}

void BM_Reconcile_Compare(benchmark::State& state) {
  auto store = OpenStore();
  auto docs = ReadErpExportFile(g_dataset.export_path);
  if (!store.ok() || !docs.ok()) {
    state.SkipWithError((store.ok() ? docs.status() : store.status()).ToString().c_str());
    return;
  }
  const ReconcileWindow w = Window();
  ViewOptions o;
  o.target = w.target;
  o.content_from_ns = w.from_ns - w.margin_ns;
  o.content_to_ns = w.to_ns + w.margin_ns;
  o.now_ns = WallNowNs();
  OrdersyncView view;
  Status scanned = ScanOrdersyncView(store->get(), o, &view);
  if (!scanned.ok()) {
    state.SkipWithError(scanned.ToString().c_str());
    return;
  }
  Timed(state, [&]() -> Status { return CheckReconcileReport(g_dataset, Reconcile(view, *docs, w)); });
}

// The CLI as an operator runs it; exit code 3 = differences found (expected here).
void BM_Reconcile_Cli(benchmark::State& state) {
  double cpu = 0, peak = 0;
  for (auto _ : state) {
    const std::string from = FormatTimestampNs(g_dataset.from_ns), to = FormatTimestampNs(g_dataset.to_ns);
    std::vector<std::string> args = {g_ordersync, "reconcile",  "--data-dir", g_dataset.data_dir, "--target",
                                     g_dataset.target, "--export", g_dataset.export_path, "--from", from,
                                     "--to",        to,          "--json"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = 0;
    const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
      state.SkipWithError(("cannot run " + g_ordersync + ": " + std::strerror(err)).c_str());
      return;
    }
    int status = 0;
    rusage u{};
    wait4(pid, &status, 0, &u);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    cpu += u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    peak = std::max(peak, u.ru_maxrss / 1024.0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 3) {
      state.SkipWithError(("ordersync reconcile exited with status " + std::to_string(status) +
                           " (3 = differences expected)").c_str());
      return;
    }
  }
  state.counters["cpu_s"] = cpu / static_cast<double>(state.iterations());
  state.counters["peak_rss_mb"] = peak;
  state.counters["postings"] = static_cast<double>(g_dataset.expect_acknowledged);
}

BENCHMARK(BM_Reconcile_Run)->Unit(benchmark::kSecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_Reconcile_ParseExport)->Unit(benchmark::kSecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_Reconcile_ScanView)->Unit(benchmark::kSecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_Reconcile_Compare)->Unit(benchmark::kSecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_Reconcile_Cli)->Unit(benchmark::kSecond)->UseManualTime()->Iterations(1);

// --name=value flags of this binary (Google Benchmark's own are removed before).
bool TakeFlag(std::string_view arg, std::string_view name, std::string* value) {
  const std::string prefix = "--" + std::string(name) + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  *value = std::string(arg.substr(prefix.size()));
  return true;
}

int Main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ReconcileDatasetOptions o;
  std::string cache_dir = "/tmp/ordersync-reconcile-bench", v;
  for (int i = 1; i < argc; ++i) {
    if (TakeFlag(argv[i], "postings", &v)) {
      o.postings = std::stoull(v);
    } else if (TakeFlag(argv[i], "planted", &v)) {
      o.planted = static_cast<uint32_t>(std::stoul(v));
    } else if (TakeFlag(argv[i], "cache_dir", &v)) {
      cache_dir = v;
    } else if (TakeFlag(argv[i], "ordersync", &v)) {
      g_ordersync = v;
    } else {
      std::cerr << "unknown flag " << argv[i]
                << "; reconcile_bench [--postings=N] [--planted=K] [--cache_dir=DIR] [--ordersync=PATH] "
                   "[--benchmark_*]\n";
      return 2;
    }
  }
  o.dir = cache_dir + "/" + std::to_string(o.postings) + "-" + std::to_string(o.planted) + "-" + std::to_string(o.seed);
  // Prepared in a child: its engine, RocksDB and postings do not stay in this process.
  if (!LoadReconcileDataset(o.dir).ok()) {
    std::cerr << "preparing " << o.postings << " postings in " << o.dir << " (minutes; cached for later runs)\n";
    const pid_t pid = fork();
    if (pid == 0) {
      auto d = PrepareReconcileDataset(o);
      if (!d.ok()) std::cerr << "prepare: " << d.status().ToString() << "\n";
      std::_Exit(d.ok() ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  auto d = OpenOrPrepareReconcileDataset(o);
  if (!d.ok()) {
    std::cerr << d.status().ToString() << "\n";
    return 1;
  }
  g_dataset = *d;
  std::cerr << "dataset " << o.dir << ": " << g_dataset.expect_acknowledged << " acknowledged postings ("
            << g_dataset.events << " events, prepared in " << g_dataset.prepare_seconds << " s), "
            << g_dataset.export_lines << " export lines, period " << FormatTimestampNs(g_dataset.from_ns) << " .. "
            << FormatTimestampNs(g_dataset.to_ns) << "\n";
  benchmark::AddCustomContext("postings", std::to_string(g_dataset.expect_acknowledged));
  benchmark::AddCustomContext("dataset", o.dir);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) { return ordersync::Main(argc, argv); }
