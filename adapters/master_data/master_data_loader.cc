#include "adapters/master_data/master_data_loader.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "adapters/records/field_parse.h"
#include "adapters/records/record_reader.h"

namespace ordersync {
namespace {

constexpr ColumnSpec kCustomerColumns[] = {
    {"customer_id", {"customer"}, true}, {"company_code", {"company"}, false}, {"currency", {}, false},
    {"credit_hold", {}, false},          {"active", {}, false},
};
constexpr ColumnSpec kItemColumns[] = {
    {"sku", {"item"}, true},
    {"uom", {"unit", "unit_of_measure"}, false},
    {"active", {}, false},
};
constexpr ColumnSpec kPriceColumns[] = {
    {"sku", {"item"}, true},      {"currency", {}, true},   {"unit_price_minor", {}, false},
    {"unit_price", {"price"}, false}, {"valid_from", {}, false}, {"valid_to", {}, false},
};

std::string Hex(const unsigned char* d, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return Hex(md, n);
}

// Collects errors up to a limit, then counts the rest.
class Errors {
 public:
  Errors(std::vector<std::string>* out, size_t max) : out_(out), max_(max == 0 ? 1 : max) {}
  void Add(std::string e) {
    if (out_->size() < max_) {
      out_->push_back(std::move(e));
    } else {
      ++dropped_;
    }
  }
  void Finish() {
    if (dropped_ > 0) out_->push_back("... and " + std::to_string(dropped_) + " more");
  }

 private:
  std::vector<std::string>* out_;
  size_t max_;
  size_t dropped_ = 0;
};

std::string Quoted(std::string_view v) { return "'" + std::string(v.substr(0, 60)) + "'"; }

}  // namespace

std::string_view MasterDataKindName(MasterDataKind kind) {
  switch (kind) {
    case MasterDataKind::kCustomers: return "customers";
    case MasterDataKind::kItems: return "items";
    case MasterDataKind::kPrices: return "prices";
  }
  return "unknown";
}

bool MasterDataKindFromName(std::string_view name, MasterDataKind* kind) {
  if (name == "customers" || name == "customer") *kind = MasterDataKind::kCustomers;
  else if (name == "items" || name == "item") *kind = MasterDataKind::kItems;
  else if (name == "prices" || name == "price" || name == "price_list" || name == "pricelist") *kind = MasterDataKind::kPrices;
  else return false;
  return true;
}

bool GuessMasterDataKind(const std::string& path, std::string_view text, MasterDataKind* kind) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  std::transform(base.begin(), base.end(), base.begin(), [](unsigned char c) { return std::tolower(c); });
  if (base.find("customer") != std::string::npos) return *kind = MasterDataKind::kCustomers, true;
  if (base.find("price") != std::string::npos) return *kind = MasterDataKind::kPrices, true;
  if (base.find("item") != std::string::npos || base.find("sku") != std::string::npos) {
    return *kind = MasterDataKind::kItems, true;
  }
  const std::string_view first = text.substr(0, text.find('\n'));
  if (first.find("customer") != std::string_view::npos) return *kind = MasterDataKind::kCustomers, true;
  if (first.find("price") != std::string_view::npos) return *kind = MasterDataKind::kPrices, true;
  if (first.find("sku") != std::string_view::npos) return *kind = MasterDataKind::kItems, true;
  return false;
}

MasterDataFile ParseMasterDataFile(MasterDataKind kind, const std::string& path, std::string_view text,
                                   size_t max_errors) {
  MasterDataFile f;
  f.kind = kind;
  f.path = path;
  f.sha256 = Sha256Hex(text);
  const RecordFormat format = DetectRecordFormat(path, text);
  f.format = std::string(RecordFormatName(format));
  std::span<const ColumnSpec> columns = kind == MasterDataKind::kCustomers ? std::span<const ColumnSpec>(kCustomerColumns)
                                        : kind == MasterDataKind::kItems   ? std::span<const ColumnSpec>(kItemColumns)
                                                                           : std::span<const ColumnSpec>(kPriceColumns);
  RecordReader reader(text, path, format, columns);
  Errors errors(&f.errors, max_errors);
  std::map<std::string, size_t, std::less<>> first_line;  // key -> line
  RecordView r;
  auto at = [&](const RecordView& rec, std::string_view column) {
    return path + ":" + std::to_string(rec.line()) + ": " + std::string(column) + ": ";
  };
  auto boolean = [&](const RecordView& rec, size_t c, std::string_view name, bool fallback) {
    if (!rec.Has(c)) return fallback;
    bool v = fallback;
    if (!ParseBool(rec.Get(c), &v)) errors.Add(at(rec, name) + "expected true or false, got " + Quoted(rec.Get(c)));
    return v;
  };
  auto unique = [&](const RecordView& rec, const std::string& key, const std::string& what) {
    auto [it, inserted] = first_line.emplace(key, rec.line());
    if (!inserted) {
      errors.Add(path + ":" + std::to_string(rec.line()) + ": " + what + " already on line " +
                 std::to_string(it->second));
    }
  };
  while (reader.Next(&r)) {
    ++f.records;
    switch (kind) {
      case MasterDataKind::kCustomers: {
        CustomerMaster c;
        c.customer_id = std::string(r.Get(0));
        c.company_code = std::string(r.Get(1));
        c.currency = std::string(r.Get(2));
        c.credit_hold = boolean(r, 3, "credit_hold", false);
        c.active = boolean(r, 4, "active", true);
        if (!c.currency.empty() && c.currency.size() != 3) {
          errors.Add(at(r, "currency") + "expected a 3-letter ISO 4217 code, got " + Quoted(c.currency));
        }
        unique(r, c.customer_id, "customer " + Quoted(c.customer_id));
        f.customers.push_back(std::move(c));
        break;
      }
      case MasterDataKind::kItems: {
        ItemMaster i;
        i.sku = std::string(r.Get(0));
        i.uom = std::string(r.Get(1));
        i.active = boolean(r, 2, "active", true);
        unique(r, i.sku, "sku " + Quoted(i.sku));
        f.items.push_back(std::move(i));
        break;
      }
      case MasterDataKind::kPrices: {
        PriceMaster p;
        p.sku = std::string(r.Get(0));
        p.currency = std::string(r.Get(1));
        if (r.Has(2) == r.Has(3)) {
          errors.Add(path + ":" + std::to_string(r.line()) +
                     ": give exactly one of unit_price_minor (integer minor units) and unit_price (decimal)");
        } else if (r.Has(2) && (!ParseInt64(r.Get(2), &p.unit_price_minor) || p.unit_price_minor < 0)) {
          errors.Add(at(r, "unit_price_minor") + "expected an integer >= 0, got " + Quoted(r.Get(2)));
        } else if (r.Has(3) && (!ParseMoneyMinor(r.Get(3), &p.unit_price_minor) || p.unit_price_minor < 0)) {
          errors.Add(at(r, "unit_price") + "expected an amount >= 0 with at most 2 decimals, got " + Quoted(r.Get(3)));
        }
        if (r.Has(4) && !ParseTimestampNs(r.Get(4), &p.valid_from_ns)) {
          errors.Add(at(r, "valid_from") + "expected a date (2024-05-01) or time (2024-05-01T00:00:00Z), got " +
                     Quoted(r.Get(4)));
        }
        if (r.Has(5) && !ParseTimestampNs(r.Get(5), &p.valid_to_ns)) {
          errors.Add(at(r, "valid_to") + "expected a date (2024-05-01) or time (2024-05-01T00:00:00Z), got " +
                     Quoted(r.Get(5)));
        }
        if (p.valid_to_ns <= p.valid_from_ns) {
          errors.Add(at(r, "valid_to") + "must be after valid_from");
        }
        f.prices.push_back(std::move(p));
        // Lines for the overlap check below.
        first_line.emplace("\x01" + std::to_string(f.prices.size() - 1), r.line());
        break;
      }
    }
  }
  if (!reader.error().empty()) errors.Add(reader.error());
  if (kind == MasterDataKind::kPrices && f.errors.empty()) {
    // One price per (sku, currency) at any time: sort by start and compare neighbours.
    std::vector<size_t> order(f.prices.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const PriceMaster &x = f.prices[a], &y = f.prices[b];
      return std::tie(x.sku, x.currency, x.valid_from_ns) < std::tie(y.sku, y.currency, y.valid_from_ns);
    });
    auto line_of = [&](size_t i) { return first_line["\x01" + std::to_string(i)]; };
    auto range = [](const PriceMaster& p) {
      auto t = [](int64_t ns) {
        return ns == INT64_MIN || ns == INT64_MAX ? std::string("open") : FormatTimestampNs(ns);
      };
      return t(p.valid_from_ns) + ".." + t(p.valid_to_ns);
    };
    for (size_t k = 1; k < order.size(); ++k) {
      const PriceMaster &a = f.prices[order[k - 1]], &b = f.prices[order[k]];
      if (a.sku == b.sku && a.currency == b.currency && b.valid_from_ns < a.valid_to_ns) {
        errors.Add(path + ":" + std::to_string(line_of(order[k])) + ": " + b.sku + " " + b.currency + " valid " +
                   range(b) + " overlaps line " + std::to_string(line_of(order[k - 1])) + " (" + range(a) + ")");
      }
    }
  }
  errors.Finish();
  if (f.records == 0 && f.errors.empty()) {
    f.errors.push_back(path + ": no records (an empty file is refused; it would make every order fail)");
  }
  return f;
}

MasterDataFile ReadMasterDataFile(MasterDataKind kind, const std::string& path, size_t max_errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    MasterDataFile f;
    f.kind = kind;
    f.path = path;
    f.errors.push_back(path + ": cannot open: " + std::strerror(errno));
    return f;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseMasterDataFile(kind, path, text.str(), max_errors);
}

MasterDataLoad LoadMasterData(const MasterDataOptions& options) {
  MasterDataLoad load;
  const std::pair<MasterDataKind, const std::string*> sources[] = {
      {MasterDataKind::kCustomers, &options.customers},
      {MasterDataKind::kItems, &options.items},
      {MasterDataKind::kPrices, &options.prices},
  };
  std::string digest_input;
  for (const auto& [kind, path] : sources) {
    if (path->empty()) continue;
    load.files.push_back(ReadMasterDataFile(kind, *path, options.max_errors));
    const MasterDataFile& f = load.files.back();
    for (const std::string& e : f.errors) load.errors.push_back(e);
    digest_input.append(MasterDataKindName(kind)).append(":").append(f.sha256).append("\n");
  }
  if (!load.errors.empty()) return load;
  std::vector<CustomerMaster> customers;
  std::vector<ItemMaster> items;
  std::vector<PriceMaster> prices;
  for (MasterDataFile& f : load.files) {
    if (f.kind == MasterDataKind::kCustomers) customers = std::move(f.customers);
    if (f.kind == MasterDataKind::kItems) items = std::move(f.items);
    if (f.kind == MasterDataKind::kPrices) prices = std::move(f.prices);
  }
  const std::string version = load.files.empty() ? std::string("none") : "md-" + Sha256Hex(digest_input).substr(0, 12);
  load.snapshot = std::make_shared<const MasterDataSnapshot>(version, std::move(customers), std::move(items),
                                                             std::move(prices));
  return load;
}

}  // namespace ordersync
