// RecordReader: tabular records from a CSV file (first row = column names, RFC 4180
// quoting) or a JSON-lines file (one object per line), as the master-data loader and the
// reconcile ERP export reader take them. Columns are declared up front (name, aliases,
// required); each record hands out its values by column index, with the line number it
// came from, so callers report "customers.csv:14: active: expected true or false, got
// 'maybe'". Values are text either way (JSON numbers and booleans as written); blank
// lines are skipped.
//
//   static constexpr ColumnSpec kColumns[] = {{"sku", {}, true}, {"uom", {"unit"}, false}};
//   RecordReader reader(text, "items.csv", RecordFormat::kCsv, kColumns);
//   RecordView r;
//   while (reader.Next(&r)) { std::string_view sku = r.Get(0); ... }
//   if (!reader.error().empty()) ... ;   // first structural error, with its line
//
// Structural errors (an unterminated quote, a row with too many fields, a JSON line that
// is not an object, an unknown or missing required column) stop the reader; field-level
// checks are the caller's.
//
// Thread-safety: a reader belongs to one thread. Views in a RecordView stay valid until
// the next Next().
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ordersync {

enum class RecordFormat : uint8_t { kCsv, kJsonLines };

// The format of `path` by its extension (.csv / .jsonl, .ndjson, .json), else by the
// first non-blank character of `text` ('{' = JSON lines).
RecordFormat DetectRecordFormat(std::string_view path, std::string_view text);
std::string_view RecordFormatName(RecordFormat format);

struct ColumnSpec {
  std::string_view name;
  std::initializer_list<std::string_view> aliases;
  bool required = false;
};

class RecordView {
 public:
  size_t line() const { return line_; }
  bool Has(size_t column) const { return column < present_.size() && present_[column]; }
  // The column's value ("" when absent).
  std::string_view Get(size_t column) const { return Has(column) ? values_[column] : std::string_view(); }

 private:
  friend class RecordReader;
  size_t line_ = 0;
  std::vector<std::string_view> values_;
  std::vector<bool> present_;
};

class RecordReader {
 public:
  // `columns` must outlive the reader. `allow_unknown_columns`: extra columns (an ERP
  // export's) are ignored instead of being an error.
  RecordReader(std::string_view text, std::string origin, RecordFormat format, std::span<const ColumnSpec> columns,
               bool allow_unknown_columns = false);

  // The next record; false at the end or after a structural error (then error() says it).
  bool Next(RecordView* record);
  // "origin:line: what was wrong", or "" when none.
  const std::string& error() const { return error_; }
  const std::string& origin() const { return origin_; }
  RecordFormat format() const { return format_; }

 private:
  bool ReadHeader();
  bool NextCsv(RecordView* r);
  bool NextJson(RecordView* r);
  // Splits one CSV record starting at pos_ into fields_ (views into the text, or into
  // unquoted_ for quoted fields); advances pos_ and line_. False with error_ set on
  // malformed quoting.
  bool SplitCsvRecord();
  int ColumnOf(std::string_view name) const;
  void Fail(size_t line, const std::string& what);

  std::string_view text_;
  std::string origin_;
  RecordFormat format_;
  std::span<const ColumnSpec> columns_;
  bool allow_unknown_;
  size_t pos_ = 0;
  size_t line_ = 0;  // line of the next record's first character (1-based once started)
  bool header_read_ = false;
  std::vector<int> csv_map_;  // CSV field index -> column index (-1: ignored)
  std::vector<std::string_view> fields_;
  std::vector<int> quoted_;            // per field: index into unquoted_, or -1
  std::vector<std::string> unquoted_;  // the text of quoted fields
  std::vector<std::string> json_values_;
  std::string error_;
};

}  // namespace ordersync
