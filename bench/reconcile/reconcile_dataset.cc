#include "bench/reconcile/reconcile_dataset.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/erp/dead_letters.h"
#include "adapters/erp/erp_sim_export.h"
#include "adapters/producer/lifecycle_generator.h"
#include "adapters/producer/milestone_builder.h"
#include "adapters/records/field_parse.h"
#include "adapters/storage/rocksdb_store.h"
#include "adapters/storage/segment_log.h"
#include "engine/engine.h"
#include "engine/outbox_listener.h"

namespace ordersync {
namespace {

constexpr int64_t kDayNs = 24 * 3600 * kNanosPerSecond;

int64_t WallNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view View(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

class CountingSink final : public ResultSink {
 public:
  void OnEventResult(uint64_t, const EventReport&) override { done.fetch_add(1, std::memory_order_release); }
  std::atomic<uint64_t> done{0};
};

// The ERP and the dispatcher in one: posts every command handed over and answers it
// (Posted note), except every `hold_stride`-th one until `hold` are held back (half stay
// in the outbox, half are dead-lettered later by DeadLetterHeld).
class PostingErp final : public OutboxListener {
 public:
  PostingErp(uint64_t hold_stride, uint64_t hold) : hold_stride_(hold_stride), hold_(hold) {}

  void OnCommandsDurable(std::vector<DurableCommand>& commands) override {
    std::vector<CommandNote> notes;
    notes.reserve(commands.size());
    std::vector<ErpPosting> posted;
    posted.reserve(commands.size());
    std::lock_guard<std::mutex> lock(mu_);
    for (DurableCommand& c : commands) {
      const uint64_t n = ++handed_;
      if (n % hold_stride_ == hold_stride_ / 2 && held_.size() < hold_) {
        held_.push_back(std::move(c));
        continue;
      }
      const ErpCommand* cmd = GetErpCommand(c.bytes->data());
      ErpPosting p;
      p.posted_at_ns = WallNowNs();
      p.document_id = "DOC-" + std::to_string(n);
      p.command_id = std::string(View(cmd->command_id()));
      p.order_id = std::string(View(cmd->order_id()));
      p.order_cmd_seq = cmd->order_cmd_seq();
      p.kind = cmd->kind();
      p.target = std::string(View(cmd->target()));
      p.company_code = std::string(View(cmd->company_code()));
      p.currency = std::string(View(cmd->currency()));
      if (cmd->lines() != nullptr) {
        for (const Line* l : *cmd->lines()) {
          p.quantity += l->qty();
          p.amount_minor += l->qty() * l->unit_price_minor();
        }
      }
      CommandNote note;
      note.partition = c.partition;
      note.outbox_seq = c.outbox_seq;
      note.removes_command = true;
      note.journal_kind = storage::JournalKind::CommandAcked;
      note.at_ns = p.posted_at_ns;
      note.attempts = 1;
      note.first_sent_at_ns = p.posted_at_ns;
      note.command = std::move(c.bytes);
      note.outcome = "Posted";
      note.erp_document_id = p.document_id;
      first_at_ = std::min(first_at_, p.posted_at_ns);
      last_at_ = std::max(last_at_, p.posted_at_ns);
      notes.push_back(std::move(note));
      postings_.push_back(std::move(p));
    }
    commands.clear();
    posted_count_.store(postings_.size(), std::memory_order_release);
    Engine* engine = engine_.load(std::memory_order_acquire);
    if (engine != nullptr && !notes.empty()) engine->SubmitNotes(std::move(notes)).PermitUncheckedError();
  }

  uint64_t handed() {
    std::lock_guard<std::mutex> lock(mu_);
    return handed_;
  }
  // REQUIRES: mu_ held.
  uint64_t handed_locked() const { return handed_; }
  uint64_t posted() const { return posted_count_.load(std::memory_order_acquire); }

  std::atomic<Engine*> engine_{nullptr};
  std::mutex mu_;
  std::vector<ErpPosting> postings_;
  std::vector<DurableCommand> held_;
  int64_t first_at_ = INT64_MAX;
  int64_t last_at_ = 0;

 private:
  const uint64_t hold_stride_;
  const uint64_t hold_;
  uint64_t handed_ = 0;
  std::atomic<uint64_t> posted_count_{0};
};

// Every second held command is dead-lettered as the dispatcher does it (the dead-letter
// record, then the CommandDeadLettered note that takes it out of the outbox); the others
// stay in the outbox.
Status DeadLetterHeld(StateStore* store, Engine* engine, const std::vector<DurableCommand>& held) {
  auto batch = store->NewBatch();
  std::vector<CommandNote> notes;
  std::string key;
  for (size_t i = 1; i < held.size(); i += 2) {
    const DurableCommand& c = held[i];
    const ErpCommand* cmd = GetErpCommand(c.bytes->data());
    DeadLetterRecord r;
    r.partition = c.partition;
    r.command = *c.bytes;
    r.command_id = std::string(View(cmd->command_id()));
    r.order_id = std::string(View(cmd->order_id()));
    r.target = std::string(View(cmd->target()));
    r.kind = cmd->kind();
    r.order_cmd_seq = cmd->order_cmd_seq();
    r.reason = std::string(kReasonRetriesExhausted);
    r.message = "the ERP kept timing out (reconcile benchmark)";
    r.attempts = 5;
    r.dead_lettered_at_ns = WallNowNs();
    DeadLetterKey(&key, c.partition, r.order_id, r.order_cmd_seq);
    batch->Put(Table::kDeadLetters, key, EncodeDeadLetter(r));
    CommandNote note;
    note.partition = c.partition;
    note.outbox_seq = c.outbox_seq;
    note.removes_command = true;
    note.journal_kind = storage::JournalKind::CommandDeadLettered;
    note.at_ns = r.dead_lettered_at_ns;
    note.attempts = r.attempts;
    note.command = c.bytes;
    note.outcome = kReasonRetriesExhausted;
    note.reason = r.message;
    notes.push_back(std::move(note));
  }
  if (notes.empty()) return Status::OK();
  ORDERSYNC_RETURN_IF_ERROR(store->Write(batch.get(), Durability::kWal));
  return engine->SubmitNotes(std::move(notes));
}

nlohmann::json ToJson(const ReconcileDataset& d, const ReconcileDatasetOptions& o) {
  return {{"options", {{"postings", o.postings}, {"planted", o.planted}, {"seed", o.seed}}},
          {"target", d.target},
          {"from", FormatTimestampNs(d.from_ns)},
          {"to", FormatTimestampNs(d.to_ns)},
          {"from_ns", d.from_ns},
          {"to_ns", d.to_ns},
          {"events", d.events},
          {"commands", d.commands},
          {"export_lines", d.export_lines},
          {"prepare_seconds", d.prepare_seconds},
          {"expect",
           {{"acknowledged", d.expect_acknowledged},
            {"matched", d.expect_matched},
            {"missing_in_erp", d.expect_missing},
            {"unknown_to_ordersync", d.expect_unknown},
            {"mismatch", d.expect_mismatch},
            {"pending", d.expect_pending},
            {"foreign", d.expect_foreign}}}};
}

// The export: every posted document with the planted differences (see the header).
uint64_t PlantDifferences(std::vector<ErpPosting>* docs, uint32_t planted, ReconcileDataset* d) {
  std::sort(docs->begin(), docs->end(),
            [](const ErpPosting& a, const ErpPosting& b) { return a.command_id < b.command_id; });
  const uint64_t n = docs->size();
  const uint64_t kinds = 5;  // missing, twice, quantity, amount, company
  const uint64_t slots = std::min<uint64_t>(kinds * planted, n);
  const uint64_t p = slots / kinds;
  const uint64_t stride = n / (slots + 1);
  std::vector<bool> drop(n, false);
  std::vector<ErpPosting> extra;
  for (uint64_t k = 0; k < kinds * p; ++k) {
    ErpPosting& doc = (*docs)[(k + 1) * stride];
    switch (k / p) {
      case 0: drop[(k + 1) * stride] = true; break;
      case 1:
        extra.push_back(doc);
        extra.back().document_id += "-DUP";
        break;
      case 2: doc.quantity += 1; break;
      case 3: doc.amount_minor += 100; break;
      case 4: doc.company_code = "9999"; break;
    }
  }
  const int64_t at = d->from_ns + kDayNs;
  for (uint64_t i = 0; i < p; ++i) {
    ErpPosting ghost = (*docs)[0];
    ghost.document_id = "GHOST-DOC-" + std::to_string(i);
    ghost.order_id = "GHOST-" + std::to_string(i);
    ghost.command_id = ghost.order_id + "/SO/" + ghost.order_id;
    ghost.kind = CommandKind::CreateSalesOrder;
    ghost.posted_at_ns = at;
    extra.push_back(ghost);
    ErpPosting foreign = ghost;
    foreign.document_id = "MANUAL-" + std::to_string(i);
    foreign.command_id = "MANUAL-ENTRY-" + std::to_string(i);
    foreign.order_id.clear();
    foreign.kind = CommandKind::CreateInvoice;
    extra.push_back(foreign);
  }
  std::vector<ErpPosting> out;
  out.reserve(n + extra.size());
  for (uint64_t i = 0; i < n; ++i) {
    if (!drop[i]) out.push_back(std::move((*docs)[i]));
  }
  for (ErpPosting& e : extra) out.push_back(std::move(e));
  *docs = std::move(out);
  d->expect_missing = p;
  d->expect_unknown = 2 * p;
  d->expect_mismatch = 3 * p;
  d->expect_foreign = p;
  return p;
}

}  // namespace

Result<ReconcileDataset> PrepareReconcileDataset(const ReconcileDatasetOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  std::error_code ec;
  std::filesystem::remove_all(o.dir, ec);
  std::filesystem::create_directories(o.dir, ec);
  if (ec) return Status::IOError("cannot create " + o.dir + ": " + ec.message());
  ReconcileDataset d;
  d.dir = o.dir;
  d.data_dir = o.dir + "/data";
  d.export_path = o.dir + "/erp-export.csv";

  StorageOptions so;
  so.data_dir = d.data_dir;
  auto store = RocksDbStore::Open(so);
  if (!store.ok()) return store.status();
  auto log = OpenEventLog(so);
  if (!log.ok()) return log.status();
  const uint64_t hold = 2 * static_cast<uint64_t>(o.planted);
  PostingErp erp(std::max<uint64_t>(o.postings / (hold + 1), 2), hold);
  EngineOptions eo;
  eo.workers = o.workers;
  auto engine = Engine::Open(eo, store->get(), log->get(), SystemClock::Default(), &erp);
  if (!engine.ok()) return engine.status();
  erp.engine_.store(engine->get(), std::memory_order_release);

  GeneratorOptions go;
  go.seed = o.seed;
  go.sequenced_share = 0.0;  // chained lifecycles in order: every event applies
  go.cancel_share = 0.0;
  LifecycleGenerator gen(go);
  MilestoneBuilder builder;
  CountingSink sink;
  constexpr size_t kChunkEvents = 20000;
  while (erp.posted() < o.postings) {
    // Whole orders, about kChunkEvents events, fewer near the end.
    const uint64_t left = o.postings - erp.posted();
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(kChunkEvents, left + 16));
    std::vector<GeneratedOrder> orders;
    size_t n = 0;
    while (n < chunk) {
      orders.push_back(gen.Next());
      n += orders.back().events.size();
    }
    for (const EnvelopeSpec& e : InOrder(orders)) {
      InboundEvent ev;
      ev.bytes = EventBuffer::Copy(builder.Build(e));
      ev.sink = &sink;
      Status s;
      while ((s = (*engine)->Submit(std::move(ev))).IsBusy()) std::this_thread::yield();
      if (!s.ok()) return s;
      ++d.events;
    }
    while (sink.done.load(std::memory_order_acquire) < d.events) std::this_thread::yield();
    // The commands of the last group commit reach the ERP after their events' results.
    uint64_t seen = erp.handed();
    for (int quiet = 0; quiet < 5;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const uint64_t now = erp.handed();
      quiet = now == seen ? quiet + 1 : 0;
      seen = now;
    }
  }
  std::vector<DurableCommand> held;
  std::vector<ErpPosting> docs;
  {
    std::lock_guard<std::mutex> lock(erp.mu_);
    held = std::move(erp.held_);
    docs = std::move(erp.postings_);
    d.commands = erp.handed_locked();
    d.from_ns = (erp.first_at_ / kDayNs - 1) * kDayNs;
    d.to_ns = (erp.last_at_ / kDayNs + 2) * kDayNs;
  }
  erp.engine_.store(nullptr, std::memory_order_release);
  ORDERSYNC_RETURN_IF_ERROR(DeadLetterHeld(store->get(), engine->get(), held));
  ORDERSYNC_RETURN_IF_ERROR((*engine)->Checkpoint());
  (*engine)->Stop();
  engine->reset();
  log->reset();
  store->reset();

  d.expect_acknowledged = docs.size();
  d.expect_pending = held.size();
  PlantDifferences(&docs, o.planted, &d);
  d.expect_matched = d.expect_acknowledged - d.expect_missing - d.expect_mismatch;
  d.export_lines = docs.size();
  ORDERSYNC_RETURN_IF_ERROR(WriteErpExportFile(docs, d.export_path));
  d.prepare_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const std::string meta = o.dir + "/dataset.json";
  std::ofstream out(meta + ".tmp");
  out << ToJson(d, o).dump(2) << "\n";
  out.close();
  if (!out) return Status::IOError("cannot write " + meta);
  std::filesystem::rename(meta + ".tmp", meta, ec);
  if (ec) return Status::IOError("cannot write " + meta + ": " + ec.message());
  return d;
}

namespace {

Result<std::pair<ReconcileDataset, nlohmann::json>> Load(const std::string& dir) {
  std::ifstream in(dir + "/dataset.json");
  if (!in.is_open()) return Status::NotFound("no dataset in " + dir);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("expect")) return Status::Corruption(dir + "/dataset.json does not parse");
  ReconcileDataset d;
  try {
    d.dir = dir;
    d.data_dir = dir + "/data";
    d.export_path = dir + "/erp-export.csv";
    d.target = j.at("target");
    d.from_ns = j.at("from_ns");
    d.to_ns = j.at("to_ns");
    d.events = j.at("events");
    d.commands = j.at("commands");
    d.export_lines = j.at("export_lines");
    d.prepare_seconds = j.at("prepare_seconds");
    const auto& e = j.at("expect");
    d.expect_acknowledged = e.at("acknowledged");
    d.expect_matched = e.at("matched");
    d.expect_missing = e.at("missing_in_erp");
    d.expect_unknown = e.at("unknown_to_ordersync");
    d.expect_mismatch = e.at("mismatch");
    d.expect_pending = e.at("pending");
    d.expect_foreign = e.at("foreign");
  } catch (const nlohmann::json::exception& ex) {
    return Status::Corruption(dir + "/dataset.json: " + ex.what());
  }
  return std::make_pair(std::move(d), j.at("options"));
}

}  // namespace

Result<ReconcileDataset> LoadReconcileDataset(const std::string& dir) {
  auto loaded = Load(dir);
  if (!loaded.ok()) return loaded.status();
  return std::move(loaded->first);
}

Result<ReconcileDataset> OpenOrPrepareReconcileDataset(const ReconcileDatasetOptions& o) {
  auto loaded = Load(o.dir);
  if (loaded.ok() && loaded->second.value("postings", uint64_t{0}) == o.postings &&
      loaded->second.value("planted", 0u) == o.planted && loaded->second.value("seed", uint64_t{0}) == o.seed) {
    return std::move(loaded->first);
  }
  return PrepareReconcileDataset(o);
}

Status CheckReconcileReport(const ReconcileDataset& d, const ReconcileReport& r) {
  std::string wrong;
  auto check = [&](const char* what, uint64_t got, uint64_t want) {
    if (got != want) wrong += std::string(wrong.empty() ? "" : "; ") + what + " " + std::to_string(got) +
                              ", expected " + std::to_string(want);
  };
  check("acknowledged", r.acknowledged, d.expect_acknowledged);
  check("matched", r.matched, d.expect_matched);
  check("missing_in_erp", r.count(DifferenceClass::kMissingInErp), d.expect_missing);
  check("unknown_to_ordersync", r.count(DifferenceClass::kUnknownToOrdersync), d.expect_unknown);
  check("mismatch", r.count(DifferenceClass::kMismatch), d.expect_mismatch);
  check("pending", r.count(DifferenceClass::kPending), d.expect_pending);
  check("foreign documents", r.foreign_documents, d.expect_foreign);
  check("erp documents", r.erp_documents, d.export_lines);
  if (!wrong.empty()) return Status::InvalidArgument("reconcile report differs from the dataset: " + wrong);
  return Status::OK();
}

}  // namespace ordersync
