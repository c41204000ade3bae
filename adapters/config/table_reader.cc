#include "adapters/config/table_reader.h"

#include <algorithm>
#include <sstream>

namespace ordersync {
namespace {

// How a value appears in an error message: strings quoted, tables and arrays by kind,
// everything else as TOML would write it.
std::string Describe(const toml::node& node) {
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  std::ostringstream os;
  os << toml::toml_formatter{node, toml::format_flags::allow_unicode_strings};
  return os.str();
}

std::string QuotedList(std::span<const std::string_view> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += '"';
    out += names[i];
    out += '"';
  }
  return out;
}

}  // namespace

std::string WhereIs(const toml::source_region& region, std::string_view origin) {
  const toml::source_position& begin = region.begin;
  std::string out(origin);
  if (begin.line != 0) {
    out += ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column);
  }
  return out;
}

TableReader::TableReader(const toml::table* table, std::string path, ReadContext* context)
    : table_(table), path_(std::move(path)), context_(context) {}

std::string TableReader::JoinPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const toml::node* TableReader::Take(std::string_view key) {
  consumed_.emplace_back(key);
  if (table_ == nullptr || !ok()) return nullptr;
  return table_->get(key);
}

void TableReader::Fail(std::string_view key, const std::string& expected,
                       const toml::node& got) {
  if (!ok()) return;
  context_->status = Status::InvalidArgument(JoinPath(key) + ": expected " + expected +
                                             ", got " + Describe(got) + " (in " +
                                             WhereIs(got.source(), context_->origin) + ")");
}

bool TableReader::ReadInteger(std::string_view key, int64_t min, int64_t max, int64_t* out) {
  const toml::node* node = Take(key);
  if (node == nullptr) return false;
  const std::optional<int64_t> v = node->value_exact<int64_t>();
  if (!v.has_value() || *v < min || *v > max) {
    Fail(key, "an integer in " + std::to_string(min) + ".." + std::to_string(max), *node);
    return false;
  }
  *out = *v;
  return true;
}

bool TableReader::ReadChoice(std::string_view key, std::span<const std::string_view> allowed,
                             size_t* index) {
  const toml::node* node = Take(key);
  if (node == nullptr) return false;
  const toml::value<std::string>* s = node->as_string();
  if (s != nullptr) {
    auto it = std::find(allowed.begin(), allowed.end(), std::string_view(s->get()));
    if (it != allowed.end()) {
      *index = static_cast<size_t>(it - allowed.begin());
      return true;
    }
  }
  Fail(key, "one of " + QuotedList(allowed), *node);
  return false;
}

void TableReader::String(std::string_view key, std::string& field, StringRule rule) {
  const toml::node* node = Take(key);
  if (node == nullptr) {
    if (rule == StringRule::kRequired && table_ != nullptr && ok()) {
      context_->status = Status::InvalidArgument(
          (path_.empty() ? std::string("document") : path_) + ": missing required key '" +
          std::string(key) + "' (in " + WhereIs(table_->source(), context_->origin) + ")");
    }
    return;
  }
  const toml::value<std::string>* s = node->as_string();
  if (s == nullptr) {
    Fail(key, rule == StringRule::kAny ? "a string" : "a non-empty string", *node);
    return;
  }
  if (rule != StringRule::kAny && s->get().empty()) {
    Fail(key, "a non-empty string", *node);
    return;
  }
  field = s->get();
}

void TableReader::StringMap(std::string_view key, std::vector<std::pair<std::string, std::string>>& field) {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const toml::table* t = node->as_table();
  if (t == nullptr) {
    Fail(key, "a table of strings, e.g. { CA = \"CS\" }", *node);
    return;
  }
  std::vector<std::pair<toml::source_position, std::pair<std::string, std::string>>> items;
  for (const auto& [name, value] : *t) {
    const toml::value<std::string>* s = value.as_string();
    if (s == nullptr) {
      Fail(std::string(key) + "." + std::string(name.str()), "a string", value);
      return;
    }
    items.push_back({value.source().begin, {std::string(name.str()), s->get()}});
  }
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  field.clear();
  for (auto& item : items) field.push_back(std::move(item.second));
}

void TableReader::StringList(std::string_view key, std::vector<std::string>& field, bool non_empty) {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const std::string expected = non_empty ? "a non-empty array of non-empty strings, e.g. [\"a\", \"b\"]"
                                         : "an array of strings, e.g. [\"a\", \"b\"]";
  const toml::array* array = node->as_array();
  if (array == nullptr || (non_empty && array->empty())) {
    Fail(key, expected, *node);
    return;
  }
  std::vector<std::string> out;
  for (const toml::node& item : *array) {
    const toml::value<std::string>* s = item.as_string();
    if (s == nullptr || (non_empty && s->get().empty())) {
      Fail(key, expected, item);
      return;
    }
    out.push_back(s->get());
  }
  field = std::move(out);
}

void TableReader::Bool(std::string_view key, bool& field) {
  const toml::node* node = Take(key);
  if (node == nullptr) return;
  const toml::value<bool>* b = node->as_boolean();
  if (b == nullptr) {
    Fail(key, "true or false", *node);
    return;
  }
  field = b->get();
}

void TableReader::OneOf(std::string_view key, std::string& field,
                        std::span<const std::string_view> allowed) {
  size_t index = 0;
  if (ReadChoice(key, allowed, &index)) field = std::string(allowed[index]);
}

const toml::table* TableReader::SubTable(std::string_view key) {
  const toml::node* node = Take(key);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) {
    Fail(key, "a table ([" + JoinPath(key) + "])", *node);
    return nullptr;
  }
  return node->as_table();
}

const toml::array* TableReader::SubTableArray(std::string_view key) {
  const toml::node* node = Take(key);
  if (node == nullptr) return nullptr;
  if (!node->is_array_of_tables() && !(node->is_array() && node->as_array()->empty())) {
    Fail(key, "an array of tables ([[" + JoinPath(key) + "]])", *node);
    return nullptr;
  }
  return node->as_array();
}

void TableReader::Finish() {
  if (table_ == nullptr || !ok()) return;
  for (const auto& [key, node] : *table_) {
    if (std::find(consumed_.begin(), consumed_.end(), key.str()) != consumed_.end()) continue;
    const bool is_table = node.is_table() || node.is_array_of_tables();
    std::string valid;
    for (const std::string& k : consumed_) valid += (valid.empty() ? "" : ", ") + k;
    context_->status = Status::InvalidArgument(
        std::string(is_table ? "unknown table '" : "unknown key '") +
        JoinPath(key.str()) + "' in " + WhereIs(key.source(), context_->origin) +
        (valid.empty() ? std::string("; this table takes no keys")
                       : "; valid keys here: " + valid));
    return;
  }
}

}  // namespace ordersync
