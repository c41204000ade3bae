#include "adapters/metrics/slo_recorder.h"

namespace ordersync {

SloRecorder::SloRecorder(std::vector<std::string> targets) {
  for (std::string& t : targets) {
    if (t == "other") continue;
    targets_.push_back(std::make_unique<PerTarget>());
    targets_.back()->name = std::move(t);
  }
  targets_.push_back(std::make_unique<PerTarget>());
  targets_.back()->name = "other";
}

SloRecorder::PerTarget* SloRecorder::Find(std::string_view target) {
  for (auto& t : targets_) {
    if (t->name == target) return t.get();
  }
  return targets_.back().get();
}

void SloRecorder::OnCommandAcked(const ErpCommand& command, int64_t acked_at_ns) {
  const std::string_view target =
      command.target() != nullptr ? std::string_view(command.target()->c_str(), command.target()->size())
                                  : std::string_view();
  OnCommandAcked(target, command.kind(), command.event_occurred_at_ns(), command.order_accepted_at_ns(), acked_at_ns);
}

void SloRecorder::OnCommandAcked(std::string_view target, CommandKind kind, int64_t event_occurred_at_ns,
                                 int64_t order_accepted_at_ns, int64_t acked_at_ns) {
  constexpr int64_t kNsPerMs = 1'000'000;
  if (kind == CommandKind::PostGoodsIssue && order_accepted_at_ns > 0) {
    Find(target)->order_to_ship.RecordShared(std::max<int64_t>(0, acked_at_ns - order_accepted_at_ns) / kNsPerMs);
  } else if (kind == CommandKind::CreateInvoice && event_occurred_at_ns > 0) {
    Find(target)->ship_to_invoice.RecordShared(std::max<int64_t>(0, acked_at_ns - event_occurred_at_ns) / kNsPerMs);
  }
}

std::vector<SloRecorder::TargetSeries> SloRecorder::Read() const {
  std::vector<TargetSeries> out;
  out.reserve(targets_.size());
  for (const auto& t : targets_) {
    TargetSeries& s = out.emplace_back();
    s.target = t->name;
    t->order_to_ship.AddTo(&s.order_to_ship_ms);
    t->ship_to_invoice.AddTo(&s.ship_to_invoice_ms);
  }
  return out;
}

}  // namespace ordersync
