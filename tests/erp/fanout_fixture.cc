#include "tests/erp/fanout_fixture.h"

#include <future>
#include <map>
#include <stdexcept>
#include <thread>

#include "adapters/erp/erp_admin_commands.h"
#include "engine/keys.h"
#include "adapters/producer/lifecycle_generator.h"

namespace ordersync::testing {
namespace {

class PromiseSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t cookie, const EventReport& result) override {
    reinterpret_cast<std::promise<SentResult>*>(cookie)->set_value(
        SentResult{result.outcome, std::string(result.reason)});
  }
};
PromiseSink g_sink;

}  // namespace

ErpTargetOptions FastTarget(const std::string& endpoint) {
  ErpTargetOptions t;
  t.endpoint = endpoint;
  t.rate_per_s = 100000;
  t.burst = 1000;
  t.max_in_flight = 64;
  t.timeout_ms = 300;
  t.retry.initial_backoff_ms = 10;
  t.retry.max_backoff_ms = 100;
  t.circuit_breaker.consecutive_failures = 1000;  // tests that want it lower say so
  t.circuit_breaker.error_rate_pct = 0;
  t.circuit_breaker.cooldown_ms = 200;
  return t;
}

FanOut::FanOut(ErpSimOptions sim_options, ErpTargetOptions target_template, EngineOptions engine)
    : engine_options_(std::move(engine)), target_(std::move(target_template)) {
  data_dir_ = dir_.path() + "/db";
  if (sim_options.endpoint.empty()) sim_options.endpoint = "tcp://127.0.0.1:*";
  auto sim = ErpSimulator::Start(sim_options);
  if (!sim.ok()) throw std::runtime_error(sim.status().ToString());
  sim_ = std::move(sim).value();
  if (target_.endpoint.empty()) target_.endpoint = sim_->endpoint();
  Open();
}

FanOut::~FanOut() {
  Close();
  sim_->Stop();
}

void FanOut::Open() {
  StorageOptions so;
  so.data_dir = data_dir_;
  so.block_cache_mb = 8;
  so.write_buffer_mb = 4;
  auto store = RocksDbStore::Open(so);
  if (!store.ok()) throw std::runtime_error(store.status().ToString());
  store_ = std::move(store).value();
  auto log = OpenEventLog(so);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  log_ = std::move(log).value();
  DispatcherOptions d;
  d.erp.targets = {target_};
  d.erp.read_ahead_per_partition = 64;
  d.partitions = engine_options_.partitions;
  auto dispatcher = OutboxDispatcher::Create(d, store_.get());
  if (!dispatcher.ok()) throw std::runtime_error(dispatcher.status().ToString());
  dispatcher_ = std::move(dispatcher).value();
  auto engine = Engine::Open(engine_options_, store_.get(), log_.get(), SystemClock::Default(), dispatcher_.get());
  if (!engine.ok()) throw std::runtime_error(engine.status().ToString());
  engine_ = std::move(engine).value();
  Status s = dispatcher_->Start(engine_.get());
  if (!s.ok()) throw std::runtime_error(s.ToString());
}

void FanOut::Close() {
  if (admin_) admin_->Stop();
  if (dispatcher_) dispatcher_->Stop();
  if (engine_) engine_->Stop();
  admin_.reset();
  engine_.reset();
  dispatcher_.reset();
  log_.reset();
  store_.reset();
}

void FanOut::Restart() {
  Close();
  Open();
}

std::string FanOut::StartAdmin() {
  AdminOptions o;
  o.endpoint = "tcp://127.0.0.1:*";
  auto admin = AdminServer::Create(o);
  if (!admin.ok()) throw std::runtime_error(admin.status().ToString());
  admin_ = std::move(admin).value();
  ErpAdminContext c;
  c.store = store_.get();
  c.engine = engine_.get();
  c.dispatcher = dispatcher_.get();
  RegisterErpAdminCommands(admin_.get(), c);
  Status s = admin_->Start();
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return admin_->endpoint();
}

std::vector<SentResult> FanOut::SendAll(const std::vector<EnvelopeSpec>& specs) {
  std::vector<std::promise<SentResult>> promises(specs.size());
  MilestoneBuilder builder;
  for (size_t i = 0; i < specs.size(); ++i) {
    InboundEvent ev;
    ev.bytes = EventBuffer::Copy(builder.Build(specs[i]));
    ev.sink = &g_sink;
    ev.cookie = reinterpret_cast<uint64_t>(&promises[i]);
    Status s;
    while ((s = engine_->Submit(std::move(ev))).IsBusy()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  std::vector<SentResult> out;
  for (auto& p : promises) out.push_back(p.get_future().get());
  return out;
}

Status FanOut::TrySubmit(const EnvelopeSpec& spec) {
  MilestoneBuilder builder;
  InboundEvent ev;
  ev.bytes = EventBuffer::Copy(builder.Build(spec));
  return engine_->Submit(std::move(ev));
}

bool FanOut::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

size_t FanOut::OutboxSize() {
  // The outbox table shows the engine's last checkpoint: cut one first.
  if (engine_ != nullptr) engine_->Checkpoint().PermitUncheckedError();
  size_t n = 0;
  for (auto it = store_->NewIterator(Table::kOutbox, "", ""); it->Valid(); it->Next()) ++n;
  return n;
}

bool FanOut::WaitUntilDrained(std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        const DispatcherStats s = dispatcher_->Stats();
        return s.window == 0 && s.unread == 0 && OutboxSize() == 0;
      },
      timeout);
}

std::vector<EnvelopeSpec> FeederChunk(uint64_t seed, const std::string& prefix, size_t orders, size_t chunk) {
  GeneratorOptions go;
  go.seed = seed;
  go.order_prefix = prefix;
  LifecycleGenerator generator(go);
  std::vector<GeneratedOrder> picked;
  const size_t first = chunk * kFeederChunkOrders;
  const size_t last = std::min(orders, first + kFeederChunkOrders);
  for (size_t i = 0; i < last; ++i) {
    GeneratedOrder o = generator.Next();
    if (i >= first) picked.push_back(std::move(o));
  }
  DisorderOptions d;
  d.seed = seed + 1 + chunk;
  return Disorder(picked, d);
}

std::map<std::string, std::vector<uint64_t>> PostedSeqsByOrder(const std::vector<ErpPosting>& ledger) {
  std::map<std::string, std::vector<uint64_t>> out;
  for (const ErpPosting& p : ledger) out[p.order_id].push_back(p.order_cmd_seq);
  return out;
}

}  // namespace ordersync::testing
