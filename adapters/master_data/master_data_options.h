// MasterDataOptions: where the master data comes from ([master_data] in the config). The
// checks that use it are EngineOptions::master_data ([master_data.checks]).
#pragma once

#include <cstdint>
#include <string>

namespace ordersync {

struct MasterDataOptions {
  // Customer master: customer_id, company_code, currency, credit_hold, active. CSV with a
  // header row or JSON lines (by extension, else by content). "" = none. Default: "".
  std::string customers;
  // Item master: sku, uom, active. Default: "".
  std::string items;
  // Price list: sku, currency, unit_price_minor (or unit_price as a decimal), valid_from,
  // valid_to (dates or RFC 3339 times; empty = open). Default: "".
  std::string prices;
  // How often the files are looked at (modification time, size, inode); a change is
  // loaded once the file has stayed the same for one more interval (so a file being
  // written is not read half-way). 0 = only at start and on SIGHUP. Default: 2000 ms.
  uint32_t watch_interval_ms = 2000;
  // Most errors reported for a refused file. Default: 20.
  uint32_t max_errors = 20;

  bool any() const { return !customers.empty() || !items.empty() || !prices.empty(); }
};

}  // namespace ordersync
