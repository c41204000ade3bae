// Master-data checks on OrderAccepted through the real engine, the real MasterDataStore
// (files on disk, reloads) and a real event log: every reason, credit holds (release by
// a master-data change, expiry), a hot swap under load (no event sees a half-loaded
// snapshot), and the determinism contract — replaying a log across a master-data reload
// gives the original decisions, whatever data is loaded at replay time.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "adapters/master_data/master_data_store.h"
#include "engine/log_record.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

using testing::Accepted;
using testing::EngineHarness;
using testing::Reserved;

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);  // how master data should be replaced: atomically
}

constexpr const char* kItems =
    "sku,uom,active\n"
    "SKU-1,EA,true\n"
    "SKU-2,EA,false\n"
    "SKU-3,EA,true\n";
constexpr const char* kPrices =
    "sku,currency,unit_price_minor,valid_from,valid_to\n"
    "SKU-1,EUR,1000,2020-01-01,\n";

// Customers of version 1: C-1 fine, C-2 on credit hold, C-3 inactive, C-4 on hold (stays).
constexpr const char* kCustomersV1 =
    "customer_id,company_code,currency,credit_hold,active\n"
    "C-1,1000,EUR,false,true\n"
    "C-2,1000,EUR,true,true\n"
    "C-3,1000,EUR,false,false\n"
    "C-4,1000,EUR,true,true\n"
    "C-5,2000,EUR,false,true\n";
// Version 2: C-2's hold cleared, C-1 inactive.
constexpr const char* kCustomersV2 =
    "customer_id,company_code,currency,credit_hold,active\n"
    "C-1,1000,EUR,false,false\n"
    "C-2,1000,EUR,false,true\n"
    "C-3,1000,EUR,false,false\n"
    "C-4,1000,EUR,true,true\n"
    "C-5,2000,EUR,false,true\n";
// Version 3: different in every way that matters (used only at replay time).
constexpr const char* kCustomersV3 =
    "customer_id,company_code,currency,credit_hold,active\n"
    "C-4,1000,USD,true,false\n";

EngineOptions CheckedOptions() {
  EngineOptions o = testing::TestEngineOptions();
  o.master_data.customer = o.master_data.item = o.master_data.uom = o.master_data.currency = true;
  o.master_data.price = o.master_data.credit_hold = true;
  o.master_data.price_tolerance_bp = 200;
  o.master_data.credit_hold_timeout_s = 3600;
  // Nothing but the startup checkpoint until the test cuts one: everything is in the log.
  o.checkpoint_interval_s = 3600;
  o.checkpoint_interval_events = 10'000'000;
  return o;
}

class MasterDataFiles {
 public:
  explicit MasterDataFiles(const std::string& customers) {
    options_.customers = dir_.path() + "/customers.csv";
    options_.items = dir_.path() + "/items.csv";
    options_.prices = dir_.path() + "/prices.csv";
    options_.watch_interval_ms = 0;
    WriteFile(options_.customers, customers);
    WriteFile(options_.items, kItems);
    WriteFile(options_.prices, kPrices);
    auto store = MasterDataStore::Start(options_);
    if (!store.ok()) throw std::runtime_error(store.status().ToString());
    store_ = std::move(store).value();
  }
  void SetCustomers(const std::string& text) {
    WriteFile(options_.customers, text);
    Status s = store_->Reload("test");
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  MasterDataStore* store() { return store_.get(); }
  const MasterDataOptions& options() const { return options_; }

 private:
  testing::TempDir dir_;
  MasterDataOptions options_;
  std::unique_ptr<MasterDataStore> store_;
};

EnvelopeSpec Order(const std::string& order, const std::string& customer, std::vector<LineSpec> lines,
                   const std::string& currency = "EUR") {
  EnvelopeSpec s = Accepted(order, order + "-e1", std::move(lines));
  s.customer_id = customer;
  s.currency = currency;
  return s;
}

LineSpec Line(uint32_t no, const std::string& sku, int64_t price, const std::string& uom = "EA") {
  LineSpec l;
  l.line_no = no;
  l.sku = sku;
  l.qty = 2;
  l.uom = uom;
  l.unit_price_minor = price;
  return l;
}

std::map<std::string, testing::ExceptionEntry> ExceptionsByOrder(EngineHarness& h) {
  std::map<std::string, testing::ExceptionEntry> out;
  for (auto& e : h.Exceptions()) out[e.order_id] = e;
  return out;
}

TEST(MasterDataIntakeTest, EveryCheckRefusesWithItsPreciseReason) {
  MasterDataFiles md(kCustomersV1);
  EngineHarness h(CheckedOptions(), md.store());
  const std::string v = md.store()->Current()->version();
  struct Case {
    EnvelopeSpec spec;
    std::string outcome_reason;  // what the producer hears
    std::string failure_class;
    std::string reason;          // the exception's full reason
  };
  std::vector<Case> cases = {
      {Order("O-UNKNOWN", "C-9", {Line(1, "SKU-1", 1000)}), "master_data:unknown_customer", "master_data",
       "unknown_customer:customer 'C-9' is not in the customer master (master data " + v + ")"},
      {Order("O-INACTIVE", "C-3", {Line(1, "SKU-1", 1000)}), "master_data:inactive_customer", "master_data",
       "inactive_customer:customer 'C-3' is inactive (master data " + v + ")"},
      {Order("O-COMPANY", "C-5", {Line(1, "SKU-1", 1000)}), "master_data:customer_company_mismatch", "master_data",
       "customer_company_mismatch:customer 'C-5' belongs to company 2000, the order is for 1000 (master data " + v +
           ")"},
      {Order("O-CURRENCY", "C-1", {Line(1, "SKU-1", 1000)}, "USD"), "master_data:currency_mismatch", "master_data",
       "currency_mismatch:order in USD, customer 'C-1' is billed in EUR (master data " + v + ")"},
      {Order("O-SKU", "C-1", {Line(1, "SKU-1", 1000), Line(2, "SKU-9", 1000)}), "master_data:unknown_sku",
       "master_data", "unknown_sku:line 2 SKU-9 not in the item master (master data " + v + ")"},
      {Order("O-INACTIVE-SKU", "C-1", {Line(1, "SKU-2", 1000)}), "master_data:inactive_sku", "master_data",
       "inactive_sku:line 1 SKU-2 inactive in the item master (master data " + v + ")"},
      {Order("O-UOM", "C-1", {Line(1, "SKU-1", 1000, "BOX")}), "master_data:wrong_uom", "master_data",
       "wrong_uom:line 1 SKU-1 ordered in BOX, the item master says EA (master data " + v + ")"},
      {Order("O-NOPRICE", "C-1", {Line(1, "SKU-3", 1000)}), "master_data:no_list_price", "master_data",
       "no_list_price:line 1 SKU-3 (EUR): no list price valid at the order date (master data " + v + ")"},
      {Order("O-PRICE", "C-1", {Line(1, "SKU-1", 1100)}), "price_mismatch:price_outside_tolerance", "price_mismatch",
       "price_outside_tolerance:line 1 SKU-1 at 11.00 EUR, list price 10.00 EUR (tolerance 2.00 %) (master data " +
           v + ")"},
  };
  for (const Case& c : cases) {
    testing::SentResult r = h.Send(c.spec);
    EXPECT_EQ(r.outcome, EventOutcome::kExcepted) << c.spec.order_id;
    EXPECT_EQ(r.reason, c.outcome_reason) << c.spec.order_id;
  }
  // Within tolerance (2 %) passes; a hold parks.
  EXPECT_EQ(h.Send(Order("O-OK", "C-1", {Line(1, "SKU-1", 1019)})).outcome, EventOutcome::kApplied);
  testing::SentResult held = h.Send(Order("O-HOLD", "C-2", {Line(1, "SKU-1", 1000)}));
  EXPECT_EQ(held.outcome, EventOutcome::kParked);
  EXPECT_EQ(held.reason, "credit_hold");

  auto exceptions = ExceptionsByOrder(h);
  for (const Case& c : cases) {
    ASSERT_TRUE(exceptions.count(c.spec.order_id)) << c.spec.order_id;
    const auto& e = exceptions[c.spec.order_id];
    EXPECT_EQ(e.stage, "master_data") << c.spec.order_id;
    EXPECT_EQ(e.failure_class, c.failure_class) << c.spec.order_id;
    EXPECT_EQ(e.reason, c.reason) << c.spec.order_id;
  }
  EXPECT_EQ(h.OutboxOf("O-OK").size(), 1u);
  EXPECT_TRUE(h.OutboxOf("O-HOLD").empty());
  const EngineStats s = h.engine().Stats();
  EXPECT_EQ(s.exceptions[5][static_cast<size_t>(FailureClass::kMasterData)], 8u);
  EXPECT_EQ(s.exceptions[5][static_cast<size_t>(FailureClass::kPriceMismatch)], 1u);
}

TEST(MasterDataIntakeTest, ChecksAreOffByDefault) {
  MasterDataFiles md(kCustomersV1);
  EngineOptions o = testing::TestEngineOptions();
  EngineHarness h(o, md.store());
  EXPECT_EQ(h.Send(Order("O-1", "C-9", {Line(1, "SKU-9", 1, "BOX")}, "USD")).outcome, EventOutcome::kApplied);
  EXPECT_EQ(h.Send(Order("O-2", "C-2", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kApplied);
}

// The worker owning a held order's partition releases it at its next group commit (an
// event or its 50 ms park sweep): wait for `n` releases in all.
void WaitForReleases(testing::EngineHarness& h, uint64_t n) {
  for (int i = 0; i < 200 && h.engine().Stats().credit_holds_released < n; ++i) h.WaitForParkSweep();
  ASSERT_EQ(h.engine().Stats().credit_holds_released, n);
}

TEST(MasterDataIntakeTest, CreditHoldIsReleasedWhenTheMasterDataClearsIt) {
  MasterDataFiles md(kCustomersV1);
  EngineHarness h(CheckedOptions(), md.store());
  EXPECT_EQ(h.Send(Order("O-HOLD", "C-2", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kParked);
  // Its later events wait for the order as usual.
  testing::SentResult r = h.Send(Reserved("O-HOLD", "O-HOLD-e2", "RES-1", {Line(1, "SKU-1", 1000)}));
  EXPECT_EQ(r.outcome, EventOutcome::kParked);
  EXPECT_EQ(r.reason, "missing_prerequisite:order_accepted");
  EXPECT_EQ(h.Send(Order("O-STILL", "C-4", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kParked);
  // Another event of the order does not release it (only the master data does).
  EXPECT_EQ(h.Send(testing::Adjusted("O-HOLD", "O-HOLD-adj", "ADJ-1", "SKU-1", 1)).outcome, EventOutcome::kApplied);
  EXPECT_TRUE(h.OutboxOf("O-HOLD").size() == 1u);  // the adjustment only

  md.SetCustomers(kCustomersV2);  // C-2 cleared; C-4 still on hold
  // The next group commit logs the release before anything else.
  h.Send(Order("O-NEXT", "C-2", {Line(1, "SKU-1", 1000)}));
  WaitForReleases(h, 1);
  auto outbox = h.OutboxOf("O-HOLD");
  ASSERT_EQ(outbox.size(), 3u);
  EXPECT_EQ(outbox[0].kind, CommandKind::PostInventoryAdjustment);
  EXPECT_EQ(outbox[1].kind, CommandKind::CreateSalesOrder);
  EXPECT_EQ(outbox[2].kind, CommandKind::ConfirmAllocation);
  EXPECT_TRUE(h.OutboxOf("O-STILL").empty());
  EXPECT_EQ(h.engine().Stats().credit_holds_released, 1u);
  EXPECT_EQ(h.engine().Stats().parked_now, 1);  // O-STILL

  // A restart keeps the held order held (the index is rebuilt from the parked table).
  h.Restart();
  EXPECT_EQ(h.engine().Stats().parked_now, 1);
  md.SetCustomers(kCustomersV1 + std::string("C-6,1000,EUR,false,true\n"));  // C-4 still on hold
  h.Send(Order("O-NEXT2", "C-1", {Line(1, "SKU-1", 1000)}));
  EXPECT_TRUE(h.OutboxOf("O-STILL").empty());
}

TEST(MasterDataIntakeTest, CreditHoldBecomesAnExceptionAfterItsTimeout) {
  MasterDataFiles md(kCustomersV1);
  EngineOptions o = CheckedOptions();
  o.master_data.credit_hold_timeout_s = 60;
  EngineHarness h(o, md.store());
  EXPECT_EQ(h.Send(Order("O-HOLD", "C-4", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kParked);
  h.clock().Advance(59 * kNanosPerSecond);
  h.WaitForParkSweep();
  EXPECT_TRUE(h.Exceptions().empty());
  h.clock().Advance(2 * kNanosPerSecond);
  h.WaitForParkSweep();
  auto exceptions = h.Exceptions();
  ASSERT_EQ(exceptions.size(), 1u);
  EXPECT_EQ(exceptions[0].stage, "master_data");
  EXPECT_EQ(exceptions[0].failure_class, "master_data");
  EXPECT_EQ(exceptions[0].reason, "credit_hold_expired:customer 'C-4' still on credit hold after 60 s");
  EXPECT_EQ(h.engine().Stats().parked_now, 0);
}

// All key/value pairs of every table but the checkpoint positions (which name the log
// generation, different after a recovery).
std::vector<std::pair<std::string, std::string>> DumpState(StateStore* store) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t t = 0; t < kTableCount; ++t) {
    for (auto it = store->NewIterator(static_cast<Table>(t), "", ""); it->Valid(); it->Next()) {
      if (static_cast<Table>(t) == Table::kMeta && it->key().substr(2) == "checkpoint") continue;
      out.emplace_back(std::string(TableName(static_cast<Table>(t))) + "/" + std::string(it->key()),
                       std::string(it->value()));
    }
  }
  return out;
}

TEST(MasterDataReplayTest, ReplayAcrossAMasterDataReloadGivesTheOriginalDecisions) {
  MasterDataFiles md(kCustomersV1);
  EngineHarness h(CheckedOptions(), md.store());
  EXPECT_EQ(h.Send(Order("O-PASS", "C-1", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kApplied);
  EXPECT_EQ(h.Send(Order("O-UNKNOWN", "C-9", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kExcepted);
  EXPECT_EQ(h.Send(Order("O-PRICE", "C-1", {Line(1, "SKU-1", 2000)})).outcome, EventOutcome::kExcepted);
  EXPECT_EQ(h.Send(Order("O-HOLD", "C-2", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kParked);
  EXPECT_EQ(h.Send(Reserved("O-HOLD", "O-HOLD-e2", "RES-1", {Line(1, "SKU-1", 1000)})).outcome,
            EventOutcome::kParked);
  EXPECT_EQ(h.Send(Order("O-STILL", "C-4", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kParked);
  md.SetCustomers(kCustomersV2);  // C-2 cleared (release logged), C-1 inactive
  EXPECT_EQ(h.Send(Order("O-AFTER", "C-1", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kExcepted);
  EXPECT_EQ(h.Send(Order("O-AFTER2", "C-2", {Line(1, "SKU-1", 1000)})).outcome, EventOutcome::kApplied);
  WaitForReleases(h, 1);
  h.WaitForParkSweep();  // the release's log append follows its count

  // "Crash": copy the data directory while the engine is idle (the store holds only the
  // startup checkpoint; everything else is in the event log).
  testing::TempDir copy;
  std::filesystem::copy(h.dir() + "/db", copy.path() + "/db", std::filesystem::copy_options::recursive);
  h.Checkpoint();
  const auto original = DumpState(&h.store());

  // Recover the copy with other master data in force: the log's verdicts decide.
  md.SetCustomers(kCustomersV3);
  StorageOptions so;
  so.data_dir = copy.path() + "/db";
  auto store = RocksDbStore::Open(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto log = OpenEventLog(so);
  ASSERT_TRUE(log.ok());
  auto engine = Engine::Open(CheckedOptions(), store->get(), log->get(), &h.clock(), nullptr, md.store());
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_GT((*engine)->recovery().replayed_events, 7u);
  const auto replayed = DumpState(store->get());
  (*engine)->Stop();

  ASSERT_EQ(original.size(), replayed.size());
  for (size_t i = 0; i < original.size(); ++i) {
    ASSERT_EQ(original[i].first, replayed[i].first) << "entry " << i;
    EXPECT_EQ(original[i].second, replayed[i].second) << "value of " << original[i].first;
  }
  // And the decisions are the original ones (not V3's, where C-1 and C-2 are unknown).
  auto exceptions = ExceptionsByOrder(h);
  EXPECT_EQ(exceptions.size(), 3u);
  EXPECT_NE(exceptions["O-UNKNOWN"].reason.find("unknown_customer"), std::string::npos);
  EXPECT_EQ(exceptions["O-PRICE"].failure_class, "price_mismatch");
  EXPECT_NE(exceptions["O-AFTER"].reason.find("inactive_customer"), std::string::npos);
  EXPECT_EQ(h.OutboxOf("O-HOLD").size(), 2u);
  EXPECT_EQ(h.OutboxOf("O-PASS").size(), 1u);
}

// The version every OrderAccepted of the log was decided by, with its verdict.
struct LoggedDecision {
  std::string order_id;
  MasterDataVerdict::Kind kind;
  std::string version;
  std::string reason;
};

std::vector<LoggedDecision> ReadDecisions(EventLog* log) {
  std::vector<LoggedDecision> out;
  std::vector<LogStreamId> streams;
  EXPECT_TRUE(log->ListStreams(&streams).ok());
  for (const LogStreamId& id : streams) {
    auto reader = log->ReadFrom(LogPosition{id.generation, id.stream, 0});
    EXPECT_TRUE(reader.ok());
    std::string_view record;
    LogPosition end;
    while ((*reader)->Next(&record, &end)) {
      std::string aligned(record);
      LogRecordReader items;
      EXPECT_TRUE(items.Open(aligned).ok());
      LogItem item;
      while (items.Next(&item)) {
        if (item.type != LogItemType::kEvent) continue;
        std::string env(item.bytes);
        const Envelope* e = GetEnvelope(env.data());
        if (e->payload_type() != Milestone::OrderAccepted) continue;
        out.push_back({e->order_id()->str(), item.verdict_kind, std::string(item.verdict_version),
                       std::string(item.verdict_reason)});
      }
    }
  }
  return out;
}

// Under load, the customer file is swapped between two versions many times (by the
// watcher-less Reload as on SIGHUP). Version A has every customer in EUR, version B in
// USD; orders are in EUR. A half-loaded file would show up as unknown customers or as a
// verdict whose version disagrees with its outcome.
TEST(MasterDataReloadTest, HotSwapUnderLoadNeverShowsAHalfLoadedFile) {
  constexpr int kCustomers = 2000;
  std::string a = "customer_id,company_code,currency\n", b = a;
  for (int i = 0; i < kCustomers; ++i) {
    a += "C-" + std::to_string(i) + ",1000,EUR\n";
    b += "C-" + std::to_string(i) + ",1000,USD\n";
  }
  MasterDataFiles md(a);
  const std::string version_a = md.store()->Current()->version();
  EngineOptions o = CheckedOptions();
  o.master_data = MasterDataCheckOptions{};
  o.master_data.customer = o.master_data.currency = true;
  EngineHarness h(o, md.store());

  std::atomic<bool> stop{false};
  std::set<std::string> versions = {version_a};
  std::mutex versions_mu;
  std::thread swapper([&] {
    for (int i = 0; !stop.load(); ++i) {
      md.SetCustomers(i % 2 == 0 ? b : a);
      {
        std::lock_guard<std::mutex> lock(versions_mu);
        versions.insert(md.store()->Current()->version());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });
  std::vector<EnvelopeSpec> specs;
  for (int i = 0; i < 3000; ++i) {
    specs.push_back(Order("O-" + std::to_string(i), "C-" + std::to_string(i % kCustomers), {Line(1, "SKU-1", 1000)}));
  }
  std::vector<testing::SentResult> results;
  for (size_t i = 0; i < specs.size(); i += 100) {
    std::vector<EnvelopeSpec> batch(specs.begin() + i, specs.begin() + std::min(specs.size(), i + 100));
    auto r = h.SendAll(batch);
    results.insert(results.end(), r.begin(), r.end());
  }
  stop.store(true);
  swapper.join();
  ASSERT_EQ(versions.size(), 2u);
  const std::string version_b = *versions.begin() == version_a ? *versions.rbegin() : *versions.begin();

  std::map<std::string, EventOutcome> outcome;
  for (size_t i = 0; i < specs.size(); ++i) outcome[specs[i].order_id] = results[i].outcome;
  size_t passed = 0, refused = 0;
  for (const LoggedDecision& d : ReadDecisions(&h.log())) {
    if (d.kind == MasterDataVerdict::Kind::kPass) {
      EXPECT_EQ(d.version, version_a) << d.order_id;
      EXPECT_EQ(outcome[d.order_id], EventOutcome::kApplied) << d.order_id;
      ++passed;
    } else {
      ASSERT_EQ(d.kind, MasterDataVerdict::Kind::kException) << d.order_id;
      EXPECT_EQ(d.version, version_b) << d.order_id;
      EXPECT_EQ(d.reason.substr(0, 18), "currency_mismatch:") << d.order_id << ": " << d.reason;
      EXPECT_EQ(outcome[d.order_id], EventOutcome::kExcepted) << d.order_id;
      ++refused;
    }
  }
  EXPECT_EQ(passed + refused, specs.size());
  EXPECT_GT(passed, 0u);
  EXPECT_GT(refused, 0u);
}

}  // namespace
}  // namespace ordersync
