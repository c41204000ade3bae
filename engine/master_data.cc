#include "engine/master_data.h"

#include <algorithm>
#include <tuple>

namespace ordersync {
namespace {

}  // namespace

MasterDataSnapshot::MasterDataSnapshot(std::string version, std::vector<CustomerMaster> customers,
                                       std::vector<ItemMaster> items, std::vector<PriceMaster> prices)
    : version_(std::move(version)), customers_(std::move(customers)), items_(std::move(items)),
      prices_(std::move(prices)) {
  customer_index_.reserve(customers_.size());
  for (size_t i = 0; i < customers_.size(); ++i) customer_index_.emplace(customers_[i].customer_id, i);
  item_index_.reserve(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) item_index_.emplace(items_[i].sku, i);
  std::sort(prices_.begin(), prices_.end(), [](const PriceMaster& a, const PriceMaster& b) {
    return std::tie(a.sku, a.currency, a.valid_from_ns) < std::tie(b.sku, b.currency, b.valid_from_ns);
  });
  for (size_t i = 0; i < prices_.size();) {
    size_t j = i;
    while (j < prices_.size() && prices_[j].sku == prices_[i].sku) ++j;
    price_index_.emplace(prices_[i].sku, std::make_pair(i, j));
    i = j;
  }
}

const CustomerMaster* MasterDataSnapshot::FindCustomer(std::string_view customer_id) const {
  auto it = customer_index_.find(customer_id);
  return it == customer_index_.end() ? nullptr : &customers_[it->second];
}

const ItemMaster* MasterDataSnapshot::FindItem(std::string_view sku) const {
  auto it = item_index_.find(sku);
  return it == item_index_.end() ? nullptr : &items_[it->second];
}

const PriceMaster* MasterDataSnapshot::FindPrice(std::string_view sku, std::string_view currency,
                                                 int64_t at_ns) const {
  auto it = price_index_.find(sku);
  if (it == price_index_.end()) return nullptr;
  for (size_t i = it->second.first; i < it->second.second; ++i) {
    const PriceMaster& p = prices_[i];
    if (p.currency == currency && p.valid_from_ns <= at_ns && at_ns < p.valid_to_ns) return &p;
  }
  return nullptr;
}

}  // namespace ordersync
