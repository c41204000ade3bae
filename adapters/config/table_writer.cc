#include "adapters/config/table_writer.h"

#include <sstream>

#include <toml++/toml.h>

namespace ordersync {

TableWriter::TableWriter(std::string path, bool array_element)
    : path_(std::move(path)), array_element_(array_element) {}

std::string TableWriter::JoinPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void TableWriter::AddLine(std::string_view key, const std::string& value) {
  lines_.push_back(std::string(key) + " = " + value);
}

std::string TableWriter::Quote(std::string_view s) {
  std::ostringstream os;
  os << toml::toml_formatter{toml::value<std::string>(std::string(s)),
                             toml::format_flags::allow_unicode_strings};
  return os.str();
}

void TableWriter::AppendTo(std::string* out) const {
  if (!path_.empty()) {
    if (!out->empty()) *out += "\n";
    *out += array_element_ ? "[[" + path_ + "]]\n" : "[" + path_ + "]\n";
  }
  for (const std::string& line : lines_) *out += line + "\n";
  for (const auto& child : children_) child->AppendTo(out);
}

std::string TableWriter::ToString() const {
  std::string out;
  AppendTo(&out);
  return out;
}

}  // namespace ordersync
