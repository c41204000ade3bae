// TableWriter: the mirror of TableReader. It has the same member functions, so the
// template Visit function that reads a section (config_loader.cc) also writes it, and a
// dumped config always loads back into the same values. Output is TOML text in
// declaration order: a table's keys first, then its sub-tables and [[arrays]], e.g.
//
//   [engine]
//   partitions = 64
//
//   [engine.park_timeout_by_kind_s]
//   OrderAccepted = 0
//
// Thread-safety: not thread-safe; one writer per dump, on one thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "adapters/config/option_names.h"
#include "adapters/config/table_reader.h"

namespace ordersync {

class TableWriter {
 public:
  // `path` is the table's dotted path, "" for the root (which gets no header).
  // `array_element` makes the header [[path]] instead of [path].
  explicit TableWriter(std::string path, bool array_element = false);

  TableWriter(const TableWriter&) = delete;
  TableWriter& operator=(const TableWriter&) = delete;

  template <typename T>
  void Integer(std::string_view key, T& field, int64_t /*min*/, int64_t /*max*/) {
    AddLine(key, std::to_string(field));
  }

  void String(std::string_view key, std::string& field, StringRule /*rule*/ = StringRule::kAny) {
    AddLine(key, Quote(field));
  }

  void Bool(std::string_view key, bool& field) { AddLine(key, field ? "true" : "false"); }

  void StringList(std::string_view key, std::vector<std::string>& field, bool /*non_empty*/ = false) {
    std::string v = "[";
    for (size_t i = 0; i < field.size(); ++i) v += (i == 0 ? "" : ", ") + Quote(field[i]);
    AddLine(key, v + "]");
  }

  void StringMap(std::string_view key, std::vector<std::pair<std::string, std::string>>& field) {
    std::string v = "{";
    for (size_t i = 0; i < field.size(); ++i) {
      v += (i == 0 ? " " : ", ") + Quote(field[i].first) + " = " + Quote(field[i].second);
    }
    AddLine(key, v + (field.empty() ? "}" : " }"));
  }

  void OneOf(std::string_view key, std::string& field,
             std::span<const std::string_view> /*allowed*/) {
    AddLine(key, Quote(field));
  }

  template <typename E>
  void Enum(std::string_view key, E& field,
            std::type_identity_t<std::span<const EnumName<E>>> names) {
    AddLine(key, Quote(NameOf(names, field)));
  }

  template <typename E>
  void OptionalEnum(std::string_view key, bool& present, E& field,
                    std::type_identity_t<std::span<const EnumName<E>>> names) {
    if (present) Enum(key, field, names);
  }

  template <typename Fn>
  void Table(std::string_view key, Fn&& write) {
    children_.push_back(std::make_unique<TableWriter>(JoinPath(key)));
    write(*children_.back());
  }

  template <typename T, typename Fn>
  void TableArray(std::string_view key, std::vector<T>& items, Fn&& write) {
    for (T& item : items) {
      children_.push_back(std::make_unique<TableWriter>(JoinPath(key), true));
      write(*children_.back(), item);
    }
  }

  void Finish() {}

  // This table and everything below it as TOML text.
  std::string ToString() const;

 private:
  std::string JoinPath(std::string_view key) const;
  void AddLine(std::string_view key, const std::string& value);
  static std::string Quote(std::string_view s);
  void AppendTo(std::string* out) const;

  std::string path_;
  bool array_element_;
  std::vector<std::string> lines_;
  std::vector<std::unique_ptr<TableWriter>> children_;
};

}  // namespace ordersync
