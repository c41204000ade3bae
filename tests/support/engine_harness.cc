#include "tests/support/engine_harness.h"

#include <filesystem>
#include <future>
#include <stdexcept>
#include <thread>

#include "engine/coding.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "storage_generated.h"

namespace ordersync::testing {

EngineOptions TestEngineOptions() {
  EngineOptions o;
  o.partitions = 8;
  o.workers = 2;
  o.order_cache_capacity = 1024;
  o.dedup_cache_capacity = 1024;
  return o;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ordersync-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

// Collects results of submitted events; the test thread waits on futures.
class PromiseSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t cookie, const EventReport& result) override {
    auto* promise = reinterpret_cast<std::promise<SentResult>*>(cookie);
    promise->set_value(SentResult{result.outcome, std::string(result.reason)});
  }
};

PromiseSink g_sink;

}  // namespace

EngineHarness::EngineHarness(EngineOptions options) : options_(std::move(options)) { Open(); }

EngineHarness::EngineHarness(EngineOptions options, const MasterDataSource* master_data)
    : options_(std::move(options)), master_data_(master_data) {
  Open();
}

EngineHarness::~EngineHarness() {
  if (engine_) engine_->Stop();
}

void EngineHarness::Open() {
  StorageOptions so;
  so.data_dir = dir_.path() + "/db";
  so.block_cache_mb = 8;
  so.write_buffer_mb = 4;
  ManualClock* clock = &clock_;
  auto store = RocksDbStore::Open(so, [clock] { return clock->NowNanos(); });
  if (!store.ok()) throw std::runtime_error(store.status().ToString());
  store_ = std::move(store).value();
  auto log = OpenEventLog(so);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  log_ = std::move(log).value();
  auto engine = Engine::Open(options_, store_.get(), log_.get(), &clock_, nullptr, master_data_);
  if (!engine.ok()) throw std::runtime_error(engine.status().ToString());
  engine_ = std::move(engine).value();
}

void EngineHarness::Restart() {
  engine_->Stop();
  engine_.reset();
  log_.reset();
  store_.reset();
  Open();
}

void EngineHarness::WaitForParkSweep() { std::this_thread::sleep_for(std::chrono::milliseconds(150)); }

SentResult EngineHarness::Send(const EnvelopeSpec& spec) { return SendAll({spec})[0]; }

std::vector<SentResult> EngineHarness::SendAll(const std::vector<EnvelopeSpec>& specs) {
  std::vector<std::promise<SentResult>> promises(specs.size());
  MilestoneBuilder builder;
  for (size_t i = 0; i < specs.size(); ++i) {
    InboundEvent ev;
    ev.bytes = EventBuffer::Copy(builder.Build(specs[i]));
    ev.received_at_ns = clock_.NowNanos();
    ev.sink = &g_sink;
    ev.cookie = reinterpret_cast<uint64_t>(&promises[i]);
    Status s;
    while ((s = engine_->Submit(std::move(ev))).IsBusy()) std::this_thread::yield();
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  std::vector<SentResult> out;
  out.reserve(specs.size());
  for (auto& p : promises) out.push_back(p.get_future().get());
  return out;
}

void EngineHarness::Checkpoint() {
  Status s = engine_->Checkpoint();
  if (!s.ok()) throw std::runtime_error("checkpoint: " + s.ToString());
}

std::vector<OutboxCommand> EngineHarness::Outbox() {
  Checkpoint();
  std::vector<OutboxCommand> out;
  auto it = store_->NewIterator(Table::kOutbox, "", "");
  std::string value;
  for (; it->Valid(); it->Next()) {
    value.assign(it->value());  // aligned copy: FlatBuffers reads scalars in place
    const auto* c = GetErpCommand(value.data());
    OutboxCommand oc;
    oc.partition = PartitionOfKey(it->key());
    oc.outbox_seq = DecodeBigEndian64(it->key().data() + 2);
    oc.command_id = c->command_id()->str();
    oc.order_id = c->order_id()->str();
    oc.kind = c->kind();
    oc.order_cmd_seq = c->order_cmd_seq();
    oc.business_key = c->business_key() ? c->business_key()->str() : "";
    oc.target = c->target() ? c->target()->str() : "";
    oc.caused_by_event_id = c->caused_by_event_id() ? c->caused_by_event_id()->str() : "";
    oc.correlation_id = c->correlation_id() ? c->correlation_id()->str() : "";
    oc.lines = c->lines() ? c->lines()->size() : 0;
    oc.first_line_qty = oc.lines > 0 ? c->lines()->Get(0)->qty() : 0;
    oc.bytes = value;
    out.push_back(std::move(oc));
  }
  return out;
}

std::vector<OutboxCommand> EngineHarness::OutboxOf(const std::string& order_id) {
  std::vector<OutboxCommand> out;
  for (auto& c : Outbox()) {
    if (c.order_id == order_id) out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.order_cmd_seq < b.order_cmd_seq; });
  return out;
}

std::vector<ExceptionEntry> EngineHarness::Exceptions() {
  Checkpoint();
  std::vector<ExceptionEntry> out;
  auto it = store_->NewIterator(Table::kExceptions, "", "");
  std::string value;
  for (; it->Valid(); it->Next()) {
    value.assign(it->value());
    const auto* r = flatbuffers::GetRoot<storage::ExceptionRecord>(value.data());
    out.push_back(ExceptionEntry{r->order_id()->str(), r->event_id()->str(), r->stage()->str(),
                                 r->failure_class()->str(), r->reason()->str()});
  }
  return out;
}

std::optional<OrderState> EngineHarness::Order(const std::string& order_id) {
  Checkpoint();
  std::string key, value;
  OrderKey(&key, engine_->PartitionFor(order_id), order_id);
  if (!store_->Get(Table::kOrders, key, &value).ok()) return std::nullopt;
  OrderState state;
  int64_t expire_at = 0;
  if (!DecodeOrderState(value, &state, &expire_at).ok()) return std::nullopt;
  return state;
}

namespace {
EnvelopeSpec Base(const std::string& order, const std::string& event_id, Milestone kind) {
  EnvelopeSpec s;
  s.order_id = order;
  s.event_id = event_id;
  s.correlation_id = "corr-" + event_id;
  s.kind = kind;
  return s;
}
}  // namespace

EnvelopeSpec Accepted(const std::string& order, const std::string& event_id, std::vector<LineSpec> lines) {
  EnvelopeSpec s = Base(order, event_id, Milestone::OrderAccepted);
  s.source = "SALES";
  s.lines = std::move(lines);
  return s;
}
EnvelopeSpec Reserved(const std::string& order, const std::string& event_id, const std::string& reservation,
                      std::vector<LineSpec> lines) {
  EnvelopeSpec s = Base(order, event_id, Milestone::InventoryReserved);
  s.business_key = reservation;
  s.lines = std::move(lines);
  return s;
}
EnvelopeSpec Picked(const std::string& order, const std::string& event_id, const std::string& pick,
                    std::vector<LineSpec> lines) {
  EnvelopeSpec s = Base(order, event_id, Milestone::PickCompleted);
  s.business_key = pick;
  s.lines = std::move(lines);
  return s;
}
EnvelopeSpec Shipped(const std::string& order, const std::string& event_id, const std::string& shipment,
                     std::vector<LineSpec> lines) {
  EnvelopeSpec s = Base(order, event_id, Milestone::ShipmentDispatched);
  s.source = "TMS";
  s.business_key = shipment;
  s.tracking_no = "TRK-" + shipment;
  s.lines = std::move(lines);
  return s;
}
EnvelopeSpec Delivered(const std::string& order, const std::string& event_id, const std::string& shipment) {
  EnvelopeSpec s = Base(order, event_id, Milestone::DeliveryConfirmed);
  s.source = "TMS";
  s.business_key = shipment;
  s.signed_by = "J. Doe";
  return s;
}
EnvelopeSpec Returned(const std::string& order, const std::string& event_id, const std::string& return_id,
                      std::vector<LineSpec> lines) {
  EnvelopeSpec s = Base(order, event_id, Milestone::ReturnReceived);
  s.business_key = return_id;
  s.lines = std::move(lines);
  return s;
}
EnvelopeSpec Cancelled(const std::string& order, const std::string& event_id, const std::string& reason) {
  EnvelopeSpec s = Base(order, event_id, Milestone::OrderCancelled);
  s.source = "SALES";
  s.reason = reason;
  return s;
}
EnvelopeSpec Adjusted(const std::string& order, const std::string& event_id, const std::string& adjustment,
                      const std::string& sku, int64_t delta) {
  EnvelopeSpec s = Base(order, event_id, Milestone::InventoryAdjusted);
  s.business_key = adjustment;
  s.sku = sku;
  s.delta_qty = delta;
  s.reason = "cycle count";
  return s;
}

std::vector<GeneratedOrder> CrashTestOrders(uint64_t seed, size_t orders) {
  GeneratorOptions go;
  go.seed = seed;
  LifecycleGenerator generator(go);
  std::vector<GeneratedOrder> out;
  for (size_t i = 0; i < orders; ++i) out.push_back(generator.Next());
  return out;
}

size_t OutboxCommandsOf(StateStore* store, uint32_t partition) {
  std::string lower;
  std::string upper;
  PartitionRange(partition, &lower, &upper);
  size_t n = 0;
  for (auto it = store->NewIterator(Table::kOutbox, lower, upper); it->Valid(); it->Next()) ++n;
  return n;
}

std::vector<EnvelopeSpec> CrashTestStream(uint64_t seed, size_t orders) {
  DisorderOptions d;
  d.seed = seed + 1;
  return Disorder(CrashTestOrders(seed, orders), d);
}

}  // namespace ordersync::testing
