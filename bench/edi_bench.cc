// EDI X12 ingress benchmarks (docs/benchmarks.md, "EDI and HTTP ingress"):
//   BM_EdiReader_Parse         the reader alone: documents (transaction sets) and bytes per s
//   BM_EdiAnalysis_Map         reader + partner mapping + event encoding + validation
//   BM_EdiIngest_IntoEngine    a whole file into the engine on RocksDB (durability wal), every
//                              event durable before the iteration ends; events and documents
//                              per s
// Files are generated 940s (one order per set, 2 lines) and 945s (3 milestones per set).
#include <unistd.h>

#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "adapters/edi/edi_analysis.h"
#include "adapters/edi/edi_ingestor.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"

namespace ordersync {
namespace {

std::string Interchange(uint64_t isa13, const char* set_id, const char* fid, const std::vector<std::string>& bodies) {
  char isa[160];
  std::snprintf(isa, sizeof(isa),
                "ISA*00*          *00*          *ZZ*BENCHWMS       *ZZ*ORDERSYNC      *251201*1200*U*00401*%09llu*0*P*>~\n",
                static_cast<unsigned long long>(isa13 % 1000000000));
  std::string out = isa;
  out += "GS*" + std::string(fid) + "*BENCHWMS*ORDERSYNC*20251201*1200*1*X*004010~\n";
  for (size_t i = 0; i < bodies.size(); ++i) {
    const std::string st02 = std::to_string(i + 1);
    out += "ST*" + std::string(set_id) + "*" + st02 + "~\n" + bodies[i];
    size_t segments = 2;
    for (char c : bodies[i]) segments += c == '~';
    out += "SE*" + std::to_string(segments) + "*" + st02 + "~\n";
  }
  out += "GE*" + std::to_string(bodies.size()) + "*1~\n";
  char iea[32];
  std::snprintf(iea, sizeof(iea), "IEA*1*%09llu~\n", static_cast<unsigned long long>(isa13 % 1000000000));
  return out + iea;
}

std::string File940(uint64_t isa13, const std::string& prefix, int orders) {
  std::vector<std::string> bodies;
  for (int i = 0; i < orders; ++i) {
    const std::string order = prefix + std::to_string(i);
    bodies.push_back("W05*N*" + order + "*PO-" + order + "~\nN1*ST*RETAILER*92*C-77~\nLX*1~\nW01*4*EA**VN*SKU-1~\n"
                     "LX*2~\nW01*1*EA**VN*SKU-2~\nW76*5*10*LB~\n");
  }
  return Interchange(isa13, "940", "OW", bodies);
}

std::string File945(uint64_t isa13, const std::string& prefix, int orders) {
  std::vector<std::string> bodies;
  for (int i = 0; i < orders; ++i) {
    const std::string order = prefix + std::to_string(i);
    bodies.push_back("W06*F*" + order + "*20251201*SHP-" + order +
                     "~\nN1*SF*WEST DC*9*WH-WEST~\nW27*M*UPSN~\nLX*1~\nW12*CC*4*4*0*EA**VN*SKU-1~\n"
                     "LX*2~\nW12*CC*1*1*0*EA**VN*SKU-2~\nW03*5*10*LB~\n");
  }
  return Interchange(isa13, "945", "SW", bodies);
}

EdiOptions Partners() {
  EdiOptions o;
  EdiPartnerProfile p;
  p.name = "BENCH";
  p.isa_qualifier = "ZZ";
  p.isa_id = "BENCHWMS";
  p.sku_qualifier = "VN";
  o.partners.push_back(p);
  return o;
}

void BM_EdiReader_Parse(benchmark::State& state) {
  const int sets = static_cast<int>(state.range(0));
  const std::string file = File940(1, "ORD-", sets);
  for (auto _ : state) {
    auto doc = ParseX12(file);
    benchmark::DoNotOptimize(doc->interchanges.size());
  }
  state.SetItemsProcessed(state.iterations() * sets);  // documents (transaction sets)
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(file.size()));
  state.counters["documents/s"] = benchmark::Counter(static_cast<double>(state.iterations() * sets),
                                                     benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EdiReader_Parse)->Arg(1)->Arg(100)->Arg(1000);

void BM_EdiAnalysis_Map(benchmark::State& state) {
  const bool advice = state.range(0) == 945;
  const std::string file = advice ? File945(1, "ORD-", 100) : File940(1, "ORD-", 100);
  const EdiOptions partners = Partners();
  size_t events = 0;
  for (auto _ : state) {
    EdiAnalysis a = AnalyzeX12(file, partners, false, ValidatorOptions{});
    if (a.any_rejected) state.SkipWithError("the generated file was rejected");
    events += a.events;
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.counters["documents/s"] = benchmark::Counter(static_cast<double>(state.iterations() * 100),
                                                     benchmark::Counter::kIsRate);
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EdiAnalysis_Map)->Arg(940)->Arg(945);

// 100-set files, alternating a 940 file and the 945 file for the same orders, into a real
// engine: each iteration ingests one file and returns when its events are durable.
void BM_EdiIngest_IntoEngine(benchmark::State& state) {
  const std::string dir = "/tmp/ordersync-bench-edi-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  StorageOptions so;
  so.data_dir = dir;
  auto store = RocksDbStore::Open(so);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  EngineOptions eo;
  eo.durability = Durability::kWal;
  eo.routing.default_target = "erp";
  auto log = OpenEventLog(so);
  if (!log.ok()) {
    state.SkipWithError(log.status().ToString().c_str());
    return;
  }
  auto engine = Engine::Open(eo, store->get(), log->get());
  if (!engine.ok()) {
    state.SkipWithError(engine.status().ToString().c_str());
    return;
  }
  EdiIngressOptions io;
  io.functional_acks = false;
  auto ingestor = EdiIngestor::Create(Partners(), io, ValidatorOptions{}, engine->get(), nullptr);
  constexpr int kSets = 100;
  uint64_t n = 0;
  size_t events = 0, accepted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string prefix = "B" + std::to_string(n / 2) + "-";
    const std::string file = n % 2 == 0 ? File940(n + 1, prefix, kSets) : File945(n + 1, prefix, kSets);
    state.ResumeTiming();
    Result<EdiFileReport> r = (*ingestor)->Ingest("bench.edi", file);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    events += r->events;
    accepted += r->accepted;
    ++n;
  }
  state.SetItemsProcessed(state.iterations() * kSets);
  state.counters["documents/s"] = benchmark::Counter(static_cast<double>(state.iterations() * kSets),
                                                     benchmark::Counter::kIsRate);
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["accepted_pct"] = events == 0 ? 0 : 100.0 * accepted / events;
  (*engine)->Stop();
  engine->reset();
  log->reset();
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_EdiIngest_IntoEngine)->Unit(benchmark::kMillisecond)->MinTime(3)->UseRealTime();

}  // namespace
}  // namespace ordersync

BENCHMARK_MAIN();
