#include "adapters/metrics/sync_kpi_scan.h"

#include <string>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "adapters/metrics/metric_families.h"
#include "adapters/metrics/observability.h"
#include "engine/clock.h"
#include "engine/coding.h"
#include "engine/journal.h"
#include "erp_generated.h"

namespace ordersync {
namespace {

constexpr int64_t kNanos = 1'000'000'000;

// One order's journal, folded as it is read.
class OrderFold {
 public:
  void Reset() {
    latest_at_ns_ = 0;
    events_without_correlation_ = 0;
    commands_.clear();
  }
  void Add(const JournalEntryView& e) {
    latest_at_ns_ = std::max(latest_at_ns_, e.at_ns);
    switch (e.kind) {
      case storage::JournalKind::EventReceived:
        if (e.correlation_id.empty()) ++events_without_correlation_;
        [[fallthrough]];
      case storage::JournalKind::EventResolved:
        for (const JournalCommandView& c : e.commands) {
          Command& cmd = commands_[std::string(c.command_id)];
          cmd.kind = c.command_kind;
          cmd.occurred_at_ns = e.occurred_at_ns;
        }
        break;
      case storage::JournalKind::CommandIssued: {
        Command& cmd = commands_[std::string(e.command_id)];
        cmd.kind = e.command_kind;
        cmd.occurred_at_ns = e.occurred_at_ns;
        break;
      }
      case storage::JournalKind::CommandAcked:
        if ((e.outcome == "Posted" || e.outcome == "AlreadyPosted") && !e.erp_document_id.empty()) {
          Command& cmd = commands_[std::string(e.command_id)];
          if (cmd.acked_at_ns == 0 || e.at_ns < cmd.acked_at_ns) cmd.acked_at_ns = e.at_ns;
          if (cmd.kind == 0) cmd.kind = e.command_kind;
        }
        break;
      default:
        break;
    }
  }
  void Finish(int64_t since_ns, int64_t slo_ns, SyncKpis* out) const {
    if (latest_at_ns_ == 0 || latest_at_ns_ < since_ns) return;
    ++out->orders;
    bool traceable = events_without_correlation_ == 0;
    for (const auto& [id, c] : commands_) {
      traceable &= c.acked_at_ns != 0;
      if (c.kind != static_cast<uint8_t>(CommandKind::PostInventoryAdjustment)) continue;
      if (c.acked_at_ns == 0) {
        ++out->adjustments_pending;
      } else if (c.acked_at_ns - c.occurred_at_ns <= slo_ns) {
        ++out->adjustments_in_slo;
      } else {
        ++out->adjustments_late;
      }
    }
    if (traceable) ++out->orders_traceable;
  }

 private:
  struct Command {
    uint8_t kind = 0;
    int64_t occurred_at_ns = 0;
    int64_t acked_at_ns = 0;
  };
  int64_t latest_at_ns_ = 0;
  uint64_t events_without_correlation_ = 0;
  std::unordered_map<std::string, Command> commands_;
};

}  // namespace

Status ScanSyncKpis(StateStore* store, int64_t now_ns, int64_t since_ns, int64_t inventory_slo_ns, SyncKpis* out) {
  *out = SyncKpis();
  OrderFold fold;
  std::string current;
  auto it = store->NewIterator(Table::kJournal, "", "");
  for (; it->Valid(); it->Next()) {
    const std::string_view key = it->key();
    if (key.size() < 3 || key.size() < 3 + static_cast<uint8_t>(key[2])) continue;
    const std::string_view prefix = key.substr(0, 3 + static_cast<uint8_t>(key[2]));
    if (prefix != current) {
      if (!current.empty()) fold.Finish(since_ns, inventory_slo_ns, out);
      fold.Reset();
      current.assign(prefix);
    }
    const std::string_view value = it->value();
    if (value.size() < 8 || static_cast<int64_t>(DecodeFixed64(value.data())) < now_ns) continue;  // expired
    ForEachJournalEntry(value.substr(8), [&](const JournalEntryView& e) { fold.Add(e); });
  }
  ORDERSYNC_RETURN_IF_ERROR(it->status());
  if (!current.empty()) fold.Finish(since_ns, inventory_slo_ns, out);
  out->valid = true;
  out->scanned_at_ns = now_ns;
  return Status::OK();
}

SyncKpiScanner::SyncKpiScanner(StateStore* store, int64_t window_s, int64_t inventory_slo_s,
                               std::function<Status()> before_scan)
    : store_(store), window_ns_(window_s * kNanos), inventory_slo_ns_(inventory_slo_s * kNanos),
      before_scan_(std::move(before_scan)) {}

Status SyncKpiScanner::ScanOnce(int64_t now_ns) {
  if (before_scan_) ORDERSYNC_RETURN_IF_ERROR(before_scan_());
  SyncKpis k;
  ORDERSYNC_RETURN_IF_ERROR(ScanSyncKpis(store_, now_ns, now_ns - window_ns_, inventory_slo_ns_, &k));
  std::lock_guard<std::mutex> lock(mu_);
  last_ = k;
  return Status::OK();
}

void SyncKpiScanner::Start(std::chrono::seconds interval) {
  thread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(run_mu_);
    while (!stop_) {
      lock.unlock();
      Status s = ScanOnce(SystemClock::Default()->NowNanos());
      if (!s.ok()) spdlog::warn("KPI scan failed: {}", s.ToString());
      lock.lock();
      run_cv_.wait_for(lock, interval, [this] { return stop_; });
    }
  });
}

void SyncKpiScanner::Stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

SyncKpis SyncKpiScanner::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

std::shared_ptr<prometheus::Collectable> SyncKpiScanner::Collector() {
  return std::make_shared<FunctionCollector>([this](std::vector<prometheus::MetricFamily>* out) {
    const SyncKpis k = Snapshot();
    if (!k.valid) return;
    AddSample(&AddFamily(out, "ordersync_orders_traced", "Orders with journal activity in the KPI window.",
                         prometheus::MetricType::Gauge),
              static_cast<double>(k.orders));
    AddSample(&AddFamily(out, "ordersync_orders_traceable",
                         "Orders in the KPI window whose every event carried a correlation_id and whose every "
                         "command reached an ERP document.",
                         prometheus::MetricType::Gauge),
              static_cast<double>(k.orders_traceable));
    AddSample(&AddFamily(out, "ordersync_traceability_ratio",
                         "End-to-end traceability: traceable orders / orders in the KPI window (1 when none).",
                         prometheus::MetricType::Gauge),
              k.traceability_ratio());
    auto& adj = AddFamily(out, "ordersync_inventory_adjustments",
                          "Inventory adjustments issued in the KPI window by ERP synchronisation state.",
                          prometheus::MetricType::Gauge);
    AddSample(&adj, static_cast<double>(k.adjustments_in_slo), {{"state", "in_slo"}});
    AddSample(&adj, static_cast<double>(k.adjustments_late), {{"state", "late"}});
    AddSample(&adj, static_cast<double>(k.adjustments_pending), {{"state", "pending"}});
    AddSample(&AddFamily(out, "ordersync_inventory_sync_accuracy_ratio",
                         "Inventory synchronisation accuracy: adjustments acknowledged by the ERP within the SLO / "
                         "adjustments in the KPI window (1 when none).",
                         prometheus::MetricType::Gauge),
              k.inventory_accuracy_ratio());
    AddSample(&AddFamily(out, "ordersync_kpi_scan_timestamp_seconds", "When the last KPI scan finished.",
                         prometheus::MetricType::Gauge),
              static_cast<double>(k.scanned_at_ns) / 1e9);
  });
}

}  // namespace ordersync
