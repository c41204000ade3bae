// MasterDataLoader: reads the customer, item and price-list files of [master_data] into
// an engine MasterDataSnapshot, or says precisely why not. A file is refused as a whole
// when any line is wrong; every error names the file, the line and the column:
//
//   customers.csv:14: credit_hold: expected true or false, got 'maybe'
//   prices.jsonl:7: SKU-1 EUR valid 2024-01-01T00:00:00Z..2024-07-01T00:00:00Z overlaps line 3
//
// The snapshot's version id is "md-" + the first 12 hex digits of a SHA-256 over the
// three files' contents (each prefixed by its kind and length), so the same data gives
// the same version across restarts and a log record names exactly what decided.
//
// Thread-safety: pure functions of their inputs (plus file reads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/master_data/master_data_options.h"
#include "engine/master_data.h"
#include "engine/status.h"

namespace ordersync {

enum class MasterDataKind : uint8_t { kCustomers, kItems, kPrices };
std::string_view MasterDataKindName(MasterDataKind kind);
// "customers" / "items" / "prices" (also singular). False if none.
bool MasterDataKindFromName(std::string_view name, MasterDataKind* kind);

// What one file held.
struct MasterDataFile {
  MasterDataKind kind = MasterDataKind::kCustomers;
  std::string path;
  std::string format;  // "csv" | "json lines"
  size_t records = 0;
  std::string sha256;  // hex, of the file's bytes
  std::vector<std::string> errors;  // at most max_errors (+ "... and N more")
  std::vector<CustomerMaster> customers;
  std::vector<ItemMaster> items;
  std::vector<PriceMaster> prices;
  bool ok() const { return errors.empty(); }
};

// Parses `text` (the content of `path`) as a file of `kind`.
MasterDataFile ParseMasterDataFile(MasterDataKind kind, const std::string& path, std::string_view text,
                                   size_t max_errors = 20);
// Reads and parses `path`. A file that cannot be read is one error.
MasterDataFile ReadMasterDataFile(MasterDataKind kind, const std::string& path, size_t max_errors = 20);
// The kind a file probably holds, from its name ("customers.csv") or its first line's
// columns; false if it cannot tell.
bool GuessMasterDataKind(const std::string& path, std::string_view text, MasterDataKind* kind);

// Every configured file, parsed; the snapshot when all are fine.
struct MasterDataLoad {
  std::vector<MasterDataFile> files;
  std::shared_ptr<const MasterDataSnapshot> snapshot;  // null when a file was refused
  std::vector<std::string> errors;                      // of all files, in file order
};
MasterDataLoad LoadMasterData(const MasterDataOptions& options);

}  // namespace ordersync
