#include "adapters/records/record_reader.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace ordersync {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  }
  return true;
}

bool SameName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
  if (s.size() > 60) out += "...";
  return out;
}

}  // namespace

RecordFormat DetectRecordFormat(std::string_view path, std::string_view text) {
  if (EndsWith(path, ".csv")) return RecordFormat::kCsv;
  if (EndsWith(path, ".jsonl") || EndsWith(path, ".ndjson") || EndsWith(path, ".json")) return RecordFormat::kJsonLines;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' ? RecordFormat::kJsonLines : RecordFormat::kCsv;
  }
  return RecordFormat::kCsv;
}

std::string_view RecordFormatName(RecordFormat format) {
  return format == RecordFormat::kCsv ? "csv" : "json lines";
}

RecordReader::RecordReader(std::string_view text, std::string origin, RecordFormat format,
                           std::span<const ColumnSpec> columns, bool allow_unknown_columns)
    : text_(text), origin_(std::move(origin)), format_(format), columns_(columns),
      allow_unknown_(allow_unknown_columns) {
  // A UTF-8 byte order mark (spreadsheet exports) is not part of the first column name.
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  line_ = 1;
}

void RecordReader::Fail(size_t line, const std::string& what) {
  if (error_.empty()) error_ = origin_ + ":" + std::to_string(line) + ": " + what;
}

int RecordReader::ColumnOf(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (SameName(columns_[i].name, name)) return static_cast<int>(i);
    for (std::string_view alias : columns_[i].aliases) {
      if (SameName(alias, name)) return static_cast<int>(i);
    }
  }
  return -1;
}

bool RecordReader::Next(RecordView* r) {
  if (!error_.empty()) return false;
  r->values_.assign(columns_.size(), std::string_view());
  r->present_.assign(columns_.size(), false);
  return format_ == RecordFormat::kCsv ? NextCsv(r) : NextJson(r);
}

bool RecordReader::SplitCsvRecord() {
  fields_.clear();
  quoted_.clear();
  unquoted_.clear();
  const size_t start_line = line_;
  while (true) {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      std::string value;
      bool closed = false;
      while (pos_ < text_.size()) {
        const char c = text_[pos_++];
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            value.push_back('"');
            ++pos_;
            continue;
          }
          closed = true;
          break;
        }
        if (c == '\n') ++line_;
        value.push_back(c);
      }
      if (!closed) {
        Fail(start_line, "unterminated quoted field");
        return false;
      }
      while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r')) ++pos_;
      if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n') {
        Fail(line_, "unexpected character after a quoted field");
        return false;
      }
      quoted_.push_back(static_cast<int>(unquoted_.size()));
      unquoted_.push_back(std::move(value));
      fields_.emplace_back();
    } else {
      size_t end = pos_;
      while (end < text_.size() && text_[end] != ',' && text_[end] != '\n') ++end;
      quoted_.push_back(-1);
      fields_.push_back(Trim(text_.substr(pos_, end - pos_)));
      pos_ = end;
    }
    if (pos_ >= text_.size()) break;
    if (text_[pos_] == '\n') {
      ++pos_;
      ++line_;
      break;
    }
    ++pos_;  // ','
  }
  // Quoted fields point into unquoted_, now that it no longer grows.
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (quoted_[i] >= 0) fields_[i] = unquoted_[static_cast<size_t>(quoted_[i])];
  }
  return true;
}

bool RecordReader::ReadHeader() {
  header_read_ = true;
  while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == ' ')) {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }
  const size_t header_line = line_;
  if (pos_ >= text_.size()) return false;  // empty file: no records
  if (!SplitCsvRecord()) return false;
  std::vector<bool> seen(columns_.size(), false);
  csv_map_.clear();
  for (std::string_view raw : fields_) {
    const std::string_view name = Trim(raw);
    const int c = ColumnOf(name);
    if (c < 0 && !allow_unknown_) {
      std::string valid;
      for (const ColumnSpec& spec : columns_) valid += (valid.empty() ? "" : ", ") + std::string(spec.name);
      Fail(header_line, "unknown column '" + Printable(name) + "'; columns here: " + valid);
      return false;
    }
    if (c >= 0 && seen[static_cast<size_t>(c)]) {
      Fail(header_line, "column '" + std::string(columns_[static_cast<size_t>(c)].name) + "' appears twice");
      return false;
    }
    if (c >= 0) seen[static_cast<size_t>(c)] = true;
    csv_map_.push_back(c);
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].required && !seen[i]) {
      Fail(header_line, "missing column '" + std::string(columns_[i].name) + "'");
      return false;
    }
  }
  return true;
}

bool RecordReader::NextCsv(RecordView* r) {
  if (!header_read_ && !ReadHeader()) return false;
  while (true) {  // skip blank lines
    size_t p = pos_;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\r')) ++p;
    if (p >= text_.size()) return false;
    if (text_[p] != '\n') break;
    pos_ = p + 1;
    ++line_;
  }
  r->line_ = line_;
  if (!SplitCsvRecord()) return false;
  if (fields_.size() > csv_map_.size()) {
    Fail(r->line_, "row has " + std::to_string(fields_.size()) + " fields, the header " +
                       std::to_string(csv_map_.size()));
    return false;
  }
  for (size_t i = 0; i < fields_.size(); ++i) {
    const int c = csv_map_[i];
    if (c < 0 || fields_[i].empty()) continue;
    r->values_[static_cast<size_t>(c)] = fields_[i];
    r->present_[static_cast<size_t>(c)] = true;
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].required && !r->present_[i]) {
      Fail(r->line_, std::string(columns_[i].name) + ": required, the field is empty");
      return false;
    }
  }
  return true;
}

bool RecordReader::NextJson(RecordView* r) {
  while (pos_ < text_.size()) {
    size_t eol = text_.find('\n', pos_);
    if (eol == std::string_view::npos) eol = text_.size();
    std::string_view line = Trim(text_.substr(pos_, eol - pos_));
    const size_t number = line_;
    pos_ = eol + 1;
    ++line_;
    if (line.empty()) continue;
    r->line_ = number;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      Fail(number, "not valid JSON: " + Printable(line));
      return false;
    }
    if (!j.is_object()) {
      Fail(number, "expected one JSON object per line");
      return false;
    }
    json_values_.assign(columns_.size(), std::string());
    for (auto it = j.begin(); it != j.end(); ++it) {
      const int c = ColumnOf(it.key());
      if (c < 0) {
        if (allow_unknown_) continue;
        std::string valid;
        for (const ColumnSpec& s : columns_) valid += (valid.empty() ? "" : ", ") + std::string(s.name);
        Fail(number, "unknown key '" + Printable(it.key()) + "'; keys here: " + valid);
        return false;
      }
      const nlohmann::json& v = it.value();
      if (v.is_null()) continue;
      if (v.is_object() || v.is_array()) {
        Fail(number, it.key() + ": expected a string, number or boolean");
        return false;
      }
      json_values_[static_cast<size_t>(c)] = v.is_string() ? v.get<std::string>() : v.dump();
      r->present_[static_cast<size_t>(c)] = !json_values_[static_cast<size_t>(c)].empty();
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      r->values_[i] = json_values_[i];
      if (columns_[i].required && !r->present_[i]) {
        Fail(number, std::string(columns_[i].name) + ": required, missing");
        return false;
      }
    }
    return true;
  }
  return false;
}

}  // namespace ordersync
