// TableReader: reads one TOML table into Options fields with one declarative call per
// key, and remembers which keys were consumed so that Finish() rejects the rest. Every
// error names the full dotted key, what was allowed and where it was:
//
//   engine.durability: expected one of "wal", "fsync", "none", got "sync" (in x.toml:4:14)
//   unknown key 'engine.partitons' in x.toml:2:1; valid keys here: partitions, workers, ...
//
// A missing key leaves its field untouched, so callers start from the Options defaults.
// Errors are sticky: the first one is kept in the shared ReadContext, later calls do
// nothing. TableWriter (table_writer.h) has the same member functions, so one template
// "Visit" function per section both reads and dumps it:
//
//   template <typename V> void VisitLog(V& v, LogOptions& o) {
//     v.OneOf("level", o.level, kLogLevelNames);
//     v.OneOf("format", o.format, kLogFormatNames);
//   }
//
// Thread-safety: not thread-safe; one reader per parse, on one thread. It points into the
// toml::table it reads, which must outlive it.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <toml++/toml.h>

#include "adapters/config/option_names.h"
#include "engine/status.h"

namespace ordersync {

// Shared by all readers of one document: where it came from and the first error.
struct ReadContext {
  std::string origin;  // file path or a label such as "<embedded configs/ordersync.toml>"
  Status status;
};

// How strictly String() treats a key.
enum class StringRule : uint8_t {
  kAny,       // optional; any string, including ""
  kNonEmpty,  // optional; if present it must not be ""
  kRequired,  // must be present and non-empty
};

class TableReader {
 public:
  // `table` may be null (the table is absent from the document): every call then leaves
  // its field at the default. `path` is the table's dotted path, "" for the root.
  TableReader(const toml::table* table, std::string path, ReadContext* context);

  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;

  // An integer key; values outside [min, max] are errors. REQUIRES: [min, max] fits T.
  template <typename T>
  void Integer(std::string_view key, T& field, int64_t min, int64_t max) {
    int64_t v = 0;
    if (ReadInteger(key, min, max, &v)) field = static_cast<T>(v);
  }

  void String(std::string_view key, std::string& field, StringRule rule = StringRule::kAny);

  // A boolean key (true / false).
  void Bool(std::string_view key, bool& field);

  // An array of strings (`key = ["a", "b"]`); replaces `field` when present. With
  // `non_empty`, an empty array or an empty string in it is an error.
  void StringList(std::string_view key, std::vector<std::string>& field, bool non_empty = false);

  // A table of string values (`key = { A = "x", B = "y" }` or a [path.key] table),
  // read in file order into (name, value) pairs; replaces `field` when present.
  void StringMap(std::string_view key, std::vector<std::pair<std::string, std::string>>& field);

  // A string key that must be one of `allowed`.
  void OneOf(std::string_view key, std::string& field, std::span<const std::string_view> allowed);

  // A string key naming an enum value.
  template <typename E>
  void Enum(std::string_view key, E& field,
            std::type_identity_t<std::span<const EnumName<E>>> names) {
    bool present = false;
    OptionalEnum(key, present, field, names);
  }

  // Like Enum(), and sets `present` when the key is there (for "match only if given").
  template <typename E>
  void OptionalEnum(std::string_view key, bool& present, E& field,
                    std::type_identity_t<std::span<const EnumName<E>>> names) {
    std::vector<std::string_view> spellings;
    spellings.reserve(names.size());
    for (const EnumName<E>& n : names) spellings.push_back(n.name);
    size_t index = 0;
    if (ReadChoice(key, spellings, &index)) {
      field = names[index].value;
      present = true;
    }
  }

  // A sub-table: calls read(TableReader&) with a reader for it (a null one when absent),
  // then rejects its unconsumed keys.
  template <typename Fn>
  void Table(std::string_view key, Fn&& read) {
    TableReader child(SubTable(key), JoinPath(key), context_);
    read(child);
    child.Finish();
  }

  // An array of tables ([[key]]): replaces `items` with one T per element, each
  // default-constructed and then filled by read(TableReader&, T&).
  template <typename T, typename Fn>
  void TableArray(std::string_view key, std::vector<T>& items, Fn&& read) {
    const toml::array* array = SubTableArray(key);
    if (array == nullptr) return;
    std::vector<T> out(array->size());
    for (size_t i = 0; i < array->size() && context_->status.ok(); ++i) {
      TableReader child(array->get(i)->as_table(),
                        JoinPath(key) + "[" + std::to_string(i) + "]", context_);
      read(child, out[i]);
      child.Finish();
    }
    if (context_->status.ok()) items = std::move(out);
  }

  // Records an error for every key of this table no call above consumed (the first one
  // wins). Table() and TableArray() call it for their children; call it on the root.
  void Finish();

  bool ok() const { return context_->status.ok(); }

 private:
  std::string JoinPath(std::string_view key) const;
  // Marks `key` consumed and returns its node, or null if absent or an error is pending.
  const toml::node* Take(std::string_view key);
  bool ReadInteger(std::string_view key, int64_t min, int64_t max, int64_t* out);
  bool ReadChoice(std::string_view key, std::span<const std::string_view> allowed,
                  size_t* index);
  const toml::table* SubTable(std::string_view key);
  const toml::array* SubTableArray(std::string_view key);
  void Fail(std::string_view key, const std::string& expected, const toml::node& got);

  const toml::table* table_;
  std::string path_;
  ReadContext* context_;
  std::vector<std::string> consumed_;
};

// "origin:line:column" of a source region, or just the origin when it has no position.
std::string WhereIs(const toml::source_region& region, std::string_view origin);

}  // namespace ordersync
