#include "adapters/metrics/store_scanner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <unordered_set>

#include "engine/flatbuffer_record.h"
#include "engine/keys.h"
#include "erp_generated.h"
#include "milestone_generated.h"
#include "flatbuffers/flatbuffers.h"
#include "storage_generated.h"

namespace ordersync {
namespace {

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

template <typename T>
const T* Decode(std::string_view value, std::string* scratch) {
  return VerifiedRoot<T>(value, scratch);
}

size_t ClassIndex(std::string_view name) {
  if (name == "invalid_input") return 0;
  if (name == "business_rule") return 1;
  if (name == "missing_prerequisite") return 2;
  if (name == "conflicting_duplicate") return 3;
  return 1;
}

}  // namespace

StoreScanner::StoreScanner(StateStore* store, const Clock* clock, const MetricsOptions& metrics,
                           const SloOptions& slo, std::vector<std::string> targets)
    : store_(store), clock_(clock), metrics_(metrics), slo_(slo), targets_(std::move(targets)) {}

StoreScanner::~StoreScanner() { Stop(); }

Status StoreScanner::ScanOnce() {
  std::lock_guard<std::mutex> scan_lock(scan_mu_);
  if (before_scan_) {
    if (Status s = before_scan_(); !s.ok()) spdlog::warn("store scan: {}", s.ToString());
  }
  const auto started = std::chrono::steady_clock::now();
  const int64_t now = clock_->NowNanos();
  const uint64_t cap = metrics_.scan_max_entries;
  ScanSnapshot s;
  for (const std::string& t : targets_) s.targets[t];
  std::unordered_set<std::string> at_risk, risk_parked, risk_exception, risk_outbox, risk_dead_letter;
  std::string scratch;
  Status status;
  // New entries are logged from the second scan on; the first only sets the marks.
  const bool log_new = event_log_ != nullptr && logged_once_;
  int64_t new_exceptions_hw = exceptions_hw_ns_, new_dead_letters_hw = dead_letters_hw_ns_,
          new_quarantine_hw = quarantine_hw_ns_;

  // Outbox: ErpCommand per entry, in (partition, seq) order.
  {
    auto it = store_->NewIterator(Table::kOutbox, "", "");
    uint64_t n = 0;
    for (; it->Valid(); it->Next()) {
      if (++n > cap) {
        s.truncated = true;
        break;
      }
      const ErpCommand* c = Decode<ErpCommand>(it->value(), &scratch);
      if (c == nullptr) continue;
      TargetScan& t = s.targets[std::string(View(c->target()))];
      ++t.outbox_depth;
      if (t.oldest_issued_at_ns == 0 || c->issued_at_ns() < t.oldest_issued_at_ns) {
        t.oldest_issued_at_ns = c->issued_at_ns();
      }
      if (c->kind() == CommandKind::PostGoodsIssue) ++s.shipments_pending_posting;
      if (c->kind() == CommandKind::CreateCreditMemo) ++s.returns_awaiting_credit;
      if (now - c->issued_at_ns() > static_cast<int64_t>(slo_.outbox_age_s) * kNanosPerSecond) {
        std::string order(View(c->order_id()));
        risk_outbox.insert(order);
        at_risk.insert(std::move(order));
      }
    }
    if (status.ok()) status = it->status();
  }
  // Parked events.
  {
    auto it = store_->NewIterator(Table::kParked, "", "");
    uint64_t n = 0;
    for (; it->Valid(); it->Next()) {
      if (++n > cap) {
        s.truncated = true;
        break;
      }
      ++s.parked_events;
      std::string_view order_id, event_id;
      if (!ParseParkedKey(it->key(), &order_id, &event_id)) continue;
      const storage::ParkedEvent* pe = Decode<storage::ParkedEvent>(it->value(), &scratch);
      if (pe == nullptr) continue;
      if (now - pe->parked_at_ns() > static_cast<int64_t>(slo_.parked_s) * kNanosPerSecond) {
        risk_parked.insert(std::string(order_id));
        at_risk.insert(std::string(order_id));
      }
    }
    if (status.ok()) status = it->status();
  }
  // Exceptions.
  {
    auto it = store_->NewIterator(Table::kExceptions, "", "");
    uint64_t n = 0;
    for (; it->Valid(); it->Next()) {
      if (++n > cap) {
        s.truncated = true;
        break;
      }
      const storage::ExceptionRecord* r = Decode<storage::ExceptionRecord>(it->value(), &scratch);
      if (r == nullptr) continue;
      ++s.exceptions_by_class[ClassIndex(View(r->failure_class()))];
      if (r->recorded_at_ns() > exceptions_hw_ns_) {
        new_exceptions_hw = std::max(new_exceptions_hw, r->recorded_at_ns());
        if (log_new) {
          std::string_view correlation, source;
          std::string env_copy;  // aligned for FlatBuffers
          if (r->envelope() != nullptr && r->envelope()->size() > 0) {
            env_copy.assign(reinterpret_cast<const char*>(r->envelope()->data()), r->envelope()->size());
            flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(env_copy.data()), env_copy.size());
            if (VerifyEnvelopeBuffer(v)) {
              const Envelope* env = GetEnvelope(env_copy.data());
              correlation = View(env->correlation_id());
              source = View(env->source());
            }
          }
          event_log_->Warn("exception", {View(r->order_id()), View(r->event_id()), correlation, source},
                           "event excepted: {} at {}: {}", View(r->failure_class()), View(r->stage()),
                           View(r->reason()));
        }
      }
      std::string order(View(r->order_id()));
      if (!order.empty()) {
        risk_exception.insert(order);
        at_risk.insert(std::move(order));
      }
    }
    if (status.ok()) status = it->status();
  }
  // Dead letters (adapters/erp/dead_letters.h): partition | 'L' | order... ->
  // storage.DeadLetter; 'B' keys are order blocks, not letters.
  {
    auto it = store_->NewIterator(Table::kDeadLetters, "", "");
    uint64_t n = 0;
    for (; it->Valid(); it->Next()) {
      if (it->key().size() < 3 || it->key()[2] != 'L') continue;
      if (++n > cap) {
        s.truncated = true;
        break;
      }
      const storage::DeadLetter* d = Decode<storage::DeadLetter>(it->value(), &scratch);
      if (d == nullptr) continue;
      ++s.targets[std::string(View(d->target()))].dead_letters;
      if (d->dead_lettered_at_ns() > dead_letters_hw_ns_) {
        new_dead_letters_hw = std::max(new_dead_letters_hw, d->dead_lettered_at_ns());
        if (log_new) {
          std::string_view correlation, event_id;
          std::string cmd_copy;  // aligned for FlatBuffers
          if (d->command() != nullptr && d->command()->size() > 0) {
            cmd_copy.assign(reinterpret_cast<const char*>(d->command()->data()), d->command()->size());
            flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(cmd_copy.data()), cmd_copy.size());
            if (VerifyErpCommandBuffer(v)) {
              const ErpCommand* c = GetErpCommand(cmd_copy.data());
              correlation = View(c->correlation_id());
              event_id = View(c->caused_by_event_id());
            }
          }
          event_log_->Warn("dead_letter", {View(d->order_id()), event_id, correlation, {}},
                           "command dead-lettered: {} to {}: {}: {}", View(d->command_id()), View(d->target()),
                           View(d->reason()), View(d->message()));
        }
      }
      std::string order(View(d->order_id()));
      risk_dead_letter.insert(order);
      at_risk.insert(std::move(order));
    }
    if (status.ok()) status = it->status();
  }
  // Quarantine: records and their size.
  {
    auto it = store_->NewIterator(Table::kQuarantine, "", "");
    uint64_t n = 0;
    for (; it->Valid(); it->Next()) {
      if (++n > cap) {
        s.truncated = true;
        break;
      }
      ++s.quarantine_records;
      s.quarantine_bytes += it->value().size();
      if (event_log_ != nullptr) {
        const storage::QuarantineRecord* q = Decode<storage::QuarantineRecord>(it->value(), &scratch);
        if (q != nullptr && q->received_at_ns() > quarantine_hw_ns_) {
          new_quarantine_hw = std::max(new_quarantine_hw, q->received_at_ns());
          if (log_new) {
            event_log_->Warn("rejected_frame", {View(q->order_id()), View(q->event_id()), {}, View(q->source())},
                             "frame rejected: {} ({})", View(q->reason()), View(q->description()));
          }
        }
      }
    }
    if (status.ok()) status = it->status();
  }
  const uint64_t pending_exceptions =
      s.exceptions_by_class[0] + s.exceptions_by_class[1] + s.exceptions_by_class[2] + s.exceptions_by_class[3];
  if (event_log_ != nullptr && !logged_once_ && (pending_exceptions > 0 || s.quarantine_records > 0 ||
                                                 std::any_of(s.targets.begin(), s.targets.end(), [](const auto& t) {
                                                   return t.second.dead_letters > 0;
                                                 }))) {
    event_log_->Info("scan", {}, "store scan: {} exceptions pending, {} dead letters, {} quarantined frames",
                     pending_exceptions,
                     [&s] {
                       uint64_t n = 0;
                       for (const auto& [name, t] : s.targets) n += t.dead_letters;
                       return n;
                     }(),
                     s.quarantine_records);
  }
  if (event_log_ != nullptr) logged_once_ = true;
  exceptions_hw_ns_ = new_exceptions_hw;
  dead_letters_hw_ns_ = new_dead_letters_hw;
  quarantine_hw_ns_ = new_quarantine_hw;
  s.orders_at_risk = at_risk.size();
  s.orders_at_risk_parked = risk_parked.size();
  s.orders_at_risk_exception = risk_exception.size();
  s.orders_at_risk_outbox = risk_outbox.size();
  s.orders_at_risk_dead_letter = risk_dead_letter.size();
  s.valid = true;
  s.scanned_at_ns = now;
  s.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::lock_guard<std::mutex> lock(mu_);
  s.scans = snapshot_.scans + 1;
  s.scan_errors = snapshot_.scan_errors + (status.ok() ? 0 : 1);
  if (status.ok() || !snapshot_.valid) {
    snapshot_ = std::move(s);
  } else {
    snapshot_.scans = s.scans;  // keep the last good figures
    snapshot_.scan_errors = s.scan_errors;
  }
  return status;
}

void StoreScanner::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void StoreScanner::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StoreScanner::Run() {
  const auto interval = std::chrono::seconds(std::max<uint32_t>(1, metrics_.scan_interval_s));
  while (true) {
    ScanOnce().PermitUncheckedError();  // counted in scan_errors
    if (after_scan_) after_scan_();
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_.wait_for(lock, interval, [this] { return stop_; })) return;
  }
}

ScanSnapshot StoreScanner::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

}  // namespace ordersync
