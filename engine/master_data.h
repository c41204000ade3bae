// MasterData: one immutable snapshot of the distributor's master data as the engine checks
// orders against it — customers (company, currency, credit hold, active), items (unit of
// measure, active) and price lists (per SKU and currency, with validity) — and the
// interface through which workers get the current snapshot.
//
// A snapshot never changes once built; a reload builds a new one and the source swaps the
// pointer (adapters/master_data/master_data_store.h loads the files and implements
// MasterDataSource). Every snapshot has a version id ("md-" + a hash of the files'
// contents), recorded with each decision it influenced (engine/master_data_gate.h).
//
// Thread-safety: a snapshot is immutable: any thread may read it. MasterDataSource: any
// thread; generation() is one atomic load (workers call it once per group commit),
// Current() may take a lock (called only after generation() changed).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ordersync {

struct CustomerMaster {
  std::string customer_id;
  std::string company_code;  // "" = any company
  std::string currency;      // ISO 4217; "" = not checked
  bool credit_hold = false;
  bool active = true;
};

struct ItemMaster {
  std::string sku;
  std::string uom;  // the unit of measure orders must use; "" = not checked
  bool active = true;
};

struct PriceMaster {
  std::string sku;
  std::string currency;
  int64_t unit_price_minor = 0;
  // Valid for order dates in [valid_from_ns, valid_to_ns).
  int64_t valid_from_ns = std::numeric_limits<int64_t>::min();
  int64_t valid_to_ns = std::numeric_limits<int64_t>::max();
};

class MasterDataSnapshot {
 public:
  // An empty snapshot ("none": nothing loaded).
  MasterDataSnapshot() : version_("none") {}
  // REQUIRES: keys unique, price ranges of one (sku, currency) not overlapping (the loader
  // checks both and refuses the file otherwise).
  MasterDataSnapshot(std::string version, std::vector<CustomerMaster> customers, std::vector<ItemMaster> items,
                     std::vector<PriceMaster> prices);
  MasterDataSnapshot(const MasterDataSnapshot&) = delete;
  MasterDataSnapshot& operator=(const MasterDataSnapshot&) = delete;

  const std::string& version() const { return version_; }
  const CustomerMaster* FindCustomer(std::string_view customer_id) const;
  const ItemMaster* FindItem(std::string_view sku) const;
  // The list price of `sku` in `currency` valid at `at_ns`, or null.
  const PriceMaster* FindPrice(std::string_view sku, std::string_view currency, int64_t at_ns) const;

  size_t customers() const { return customers_.size(); }
  size_t items() const { return items_.size(); }
  size_t prices() const { return prices_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using Index = std::unordered_map<std::string, V, Hash, std::equal_to<>>;

  std::string version_;
  std::vector<CustomerMaster> customers_;
  std::vector<ItemMaster> items_;
  std::vector<PriceMaster> prices_;  // sorted by (sku, currency, valid_from)
  Index<size_t> customer_index_;
  Index<size_t> item_index_;
  Index<std::pair<size_t, size_t>> price_index_;  // sku -> [first, last) in prices_
};

class MasterDataSource {
 public:
  virtual ~MasterDataSource() = default;
  // Changes (grows) whenever Current() would return another snapshot.
  virtual uint64_t generation() const = 0;
  // The snapshot in force; never null.
  virtual std::shared_ptr<const MasterDataSnapshot> Current() const = 0;
};

}  // namespace ordersync
