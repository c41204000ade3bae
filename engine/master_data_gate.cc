#include "engine/master_data_gate.h"

namespace ordersync {

MasterDataGate::MasterDataGate(const MasterDataCheckOptions& options, const MasterDataSource* source)
    : options_(options), source_(source), snapshot_(std::make_shared<const MasterDataSnapshot>()) {}

bool MasterDataGate::Refresh() {
  if (source_ == nullptr) {
    const bool first = !refreshed_once_;
    refreshed_once_ = true;
    return first;
  }
  const uint64_t generation = source_->generation();
  if (refreshed_once_ && generation == generation_) return false;
  refreshed_once_ = true;
  generation_ = generation;
  std::shared_ptr<const MasterDataSnapshot> current = source_->Current();
  if (current != nullptr) snapshot_ = std::move(current);
  return true;
}

void MasterDataGate::ClearedHolds(std::vector<std::pair<uint32_t, std::string>>* out) const {
  out->clear();
  for (const auto& [key, orders] : held_) {
    if (orders.empty()) continue;
    bool cleared = !options_.credit_hold;
    if (!cleared) {
      const CustomerMaster* c = snapshot_->FindCustomer(key.second);
      cleared = c != nullptr && c->active && !c->credit_hold;
    }
    if (cleared) out->push_back(key);
  }
}

void MasterDataGate::BeginLive() {
  mode_ = Mode::kLive;
  decided_ = false;
}

void MasterDataGate::BeginReplay(const LogItem& item) {
  mode_ = Mode::kReplay;
  decided_ = false;
  recorded_.kind = item.has_verdict ? item.verdict_kind : MasterDataVerdict::Kind::kNone;
  recorded_.failure_class = static_cast<FailureClass>(item.verdict_class);
  recorded_.version.assign(item.verdict_version);
  recorded_.reason.assign(item.verdict_reason);
}

const MasterDataVerdict& MasterDataGate::Decide(const EventView& event) {
  decided_ = true;
  if (mode_ == Mode::kReplay) {
    verdict_ = recorded_;
  } else {
    EvaluateMasterData(*snapshot_, options_, event, &verdict_);
  }
  return verdict_;
}

void MasterDataGate::OnHeld(uint32_t partition, std::string_view customer_id, std::string_view order_id) {
  held_[{partition, std::string(customer_id)}].emplace(order_id);
}

void MasterDataGate::OnUnheld(uint32_t partition, std::string_view customer_id, std::string_view order_id) {
  auto it = held_.find(std::make_pair(partition, std::string(customer_id)));
  if (it == held_.end()) return;
  it->second.erase(std::string(order_id));
  if (it->second.empty()) held_.erase(it);
}

std::vector<std::string> MasterDataGate::HeldOrders(uint32_t partition, std::string_view customer_id) const {
  auto it = held_.find(std::make_pair(partition, std::string(customer_id)));
  if (it == held_.end()) return {};
  return std::vector<std::string>(it->second.begin(), it->second.end());
}

void MasterDataGate::ForgetPartition(uint32_t partition) {
  for (auto it = held_.begin(); it != held_.end();) {
    it = it->first.first == partition ? held_.erase(it) : std::next(it);
  }
}

size_t MasterDataGate::held_orders() const {
  size_t n = 0;
  for (const auto& [key, orders] : held_) n += orders.size();
  return n;
}

}  // namespace ordersync
