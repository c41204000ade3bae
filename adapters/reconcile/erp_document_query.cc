#include "adapters/reconcile/erp_document_query.h"

#include <cmath>

#include "adapters/records/field_parse.h"

namespace ordersync {

Result<std::unique_ptr<ErpDocumentQuery>> CreateErpDocumentQuery(ErpKind kind, const HttpTargetOptions& options) {
  switch (kind) {
    case ErpKind::kNetSuite: return CreateNetSuiteDocumentQuery(options);
    case ErpKind::kSapS4: return CreateSapDocumentQuery(options);
    case ErpKind::kD365Bc: return CreateBcDocumentQuery(options);
    case ErpKind::kOracleFusion: return CreateOracleDocumentQuery(options);
    case ErpKind::kWebhook:
      return Status::InvalidArgument(
          "webhook targets have no query API to list documents; reconcile them with --export FILE "
          "(the receiver's own export)");
    case ErpKind::kZmq:
      return Status::InvalidArgument(
          "zmq targets have no query API to list documents; reconcile them with --export FILE");
  }
  return Status::InvalidArgument("unknown ERP kind");
}

std::string CompanyCodeOf(const HttpTargetOptions& o, std::string_view erp_company) {
  if (o.companies.empty() || erp_company.empty()) return "";
  for (const ErpCompanyMapping& m : o.companies) {
    if (m.erp_company == erp_company) return m.company_code;
  }
  return std::string(erp_company);
}

Status AnswerReader::Fail(std::string_view field, std::string_view why) const {
  return Status::Corruption(where_ + ": " + std::string(field) + ": " + std::string(why));
}

Status AnswerReader::Parse(const HttpResponse& r, nlohmann::json* out) const {
  *out = nlohmann::json::parse(r.body, nullptr, false);
  if (out->is_discarded()) return Fail("body", "not JSON (" + std::to_string(r.body.size()) + " bytes: " + BodyExcerpt(r.body) + ")");
  if (!out->is_object()) return Fail("body", "not a JSON object");
  return Status::OK();
}

Status AnswerReader::Text(const nlohmann::json& j, const char* key, bool required, std::string* out) const {
  out->clear();
  auto it = j.find(key);
  if (it != j.end() && !it->is_null()) {
    if (it->is_string()) *out = it->get<std::string>();
    else if (it->is_number_integer() || it->is_number_unsigned()) *out = it->dump();
    else if (it->is_object() && it->contains("id")) return Text(*it, "id", required, out);  // {"id": ...} references
    else return Fail(key, "expected a string, got " + it->dump().substr(0, 60));
  }
  if (required && out->empty()) return Fail(key, "missing");
  return Status::OK();
}

Status AnswerReader::Array(const nlohmann::json& j, const char* key, const nlohmann::json** out) const {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return Fail(key, it == j.end() ? "missing" : "not an array");
  *out = &*it;
  return Status::OK();
}

Status AnswerReader::Quantity(const nlohmann::json& j, const char* key, std::optional<int64_t>* out) const {
  out->reset();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::OK();
  int64_t v = 0;
  if (it->is_number_integer()) {
    v = it->get<int64_t>();
  } else if (it->is_number_float()) {
    const double d = it->get<double>();
    if (std::fabs(d - std::round(d)) > 1e-9) return Fail(key, "not a whole number: " + it->dump());
    v = static_cast<int64_t>(std::llround(d));
  } else if (it->is_string()) {
    const std::string s = it->get<std::string>();
    int64_t minor = 0;
    if (!ParseInt64(s, &v)) {
      // "3.000": ERPs print quantities with decimals; a fraction of a unit is refused.
      std::string trimmed = s;
      const size_t dot = trimmed.find('.');
      if (dot != std::string::npos) {
        while (trimmed.size() > dot + 1 && trimmed.back() == '0') trimmed.pop_back();
        if (trimmed.back() == '.') trimmed.pop_back();
      }
      if (!ParseInt64(trimmed, &v) && !(ParseMoneyMinor(s, &minor) && minor % 100 == 0 && (v = minor / 100, true))) {
        return Fail(key, "not a whole number: '" + s.substr(0, 40) + "'");
      }
    }
  } else {
    return Fail(key, "not a number: " + it->dump().substr(0, 60));
  }
  *out = v;
  return Status::OK();
}

Status AnswerReader::Amount(const nlohmann::json& j, const char* key, std::optional<int64_t>* out) const {
  out->reset();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::OK();
  if (it->is_number()) {
    const double cents = it->get<double>() * 100.0;
    if (std::fabs(cents - std::round(cents)) > 1e-6) return Fail(key, "more than 2 decimals: " + it->dump());
    *out = static_cast<int64_t>(std::llround(cents));
    return Status::OK();
  }
  int64_t minor = 0;
  if (it->is_string() && ParseMoneyMinor(it->get<std::string>(), &minor)) {
    *out = minor;
    return Status::OK();
  }
  return Fail(key, "not a decimal amount: " + it->dump().substr(0, 60));
}

Status AnswerReader::Time(const nlohmann::json& j, const char* key, int64_t* ns) const {
  std::string text;
  ORDERSYNC_RETURN_IF_ERROR(Text(j, key, true, &text));
  if (!ParseTimestampNs(text, ns)) return Fail(key, "not an RFC 3339 time: '" + text.substr(0, 40) + "'");
  return Status::OK();
}

Status AnswerReader::ItemsPage(const nlohmann::json& j, const nlohmann::json** items, QueryPage* page,
                               bool* has_more) const {
  ORDERSYNC_RETURN_IF_ERROR(Array(j, "items", items));
  std::optional<uint64_t> count;
  ORDERSYNC_RETURN_IF_ERROR(Count(j, "count", &count));
  if (count && *count != (*items)->size()) {
    return Fail("count", std::to_string(*count) + " but " + std::to_string((*items)->size()) + " items");
  }
  ORDERSYNC_RETURN_IF_ERROR(Count(j, "totalResults", &page->total));
  auto more = j.find("hasMore");
  if (more == j.end() || !more->is_boolean()) return Fail("hasMore", "missing or not a boolean");
  *has_more = more->get<bool>();
  return Status::OK();
}

Status AnswerReader::Count(const nlohmann::json& j, const char* key, std::optional<uint64_t>* out) const {
  out->reset();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::OK();
  if (it->is_number_unsigned() || (it->is_number_integer() && it->get<int64_t>() >= 0)) {
    *out = it->get<uint64_t>();
    return Status::OK();
  }
  int64_t v = 0;
  if (it->is_string() && ParseInt64(it->get<std::string>(), &v) && v >= 0) {
    *out = static_cast<uint64_t>(v);
    return Status::OK();
  }
  return Fail(key, "not a count: " + it->dump().substr(0, 60));
}

std::string QueryTime(int64_t ns) { return FormatTimestampNs(ns - ns % 1'000'000'000); }

std::string QueryDate(int64_t ns) { return QueryTime(ns).substr(0, 10); }

void AddQueryParam(std::string* path, std::string_view name, std::string_view value) {
  path->push_back(path->find('?') == std::string::npos ? '?' : '&');
  path->append(name);
  path->push_back('=');
  path->append(UrlEncode(value));
}

}  // namespace ordersync
