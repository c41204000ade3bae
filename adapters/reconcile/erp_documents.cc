#include "adapters/reconcile/erp_documents.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapters/records/field_parse.h"
#include "adapters/records/record_reader.h"

namespace ordersync {
namespace {

enum Column : size_t { kDocument, kExternalId, kKind, kOrder, kCompany, kQuantity, kAmount, kAmountMinor, kCurrency, kPostedAt };

constexpr ColumnSpec kColumns[] = {
    {"document_number", {"document", "document_id", "doc_no"}, true},
    {"external_id", {"reference", "external_reference", "command_id"}, true},
    {"kind", {"document_type", "type"}, false},
    {"order_id", {"order"}, false},
    {"company_code", {"company"}, false},
    {"quantity", {"qty"}, false},
    {"amount", {}, false},
    {"amount_minor", {}, false},
    {"currency", {}, false},
    {"posted_at", {"posting_time", "posting_date"}, false},
};

std::string Normalized(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '-' || c == ' ') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

struct KindName {
  std::string normalized;
  CommandKind kind;
};

// The CommandKind names, then the ERP document types, normalized once.
const std::vector<KindName>& KindNames() {
  static const std::vector<KindName> names = [] {
    std::vector<KindName> out;
    for (int i = static_cast<int>(CommandKind::MIN); i <= static_cast<int>(CommandKind::MAX); ++i) {
      const auto kind = static_cast<CommandKind>(i);
      out.push_back({Normalized(EnumNameCommandKind(kind)), kind});
    }
    static constexpr std::pair<const char*, CommandKind> kAliases[] = {
        {"salesorder", CommandKind::CreateSalesOrder},    {"order", CommandKind::CreateSalesOrder},
        {"allocation", CommandKind::ConfirmAllocation},   {"reservation", CommandKind::ConfirmAllocation},
        {"goodsissue", CommandKind::PostGoodsIssue},      {"delivery", CommandKind::PostGoodsIssue},
        {"itemfulfillment", CommandKind::PostGoodsIssue}, {"shipment", CommandKind::PostGoodsIssue},
        {"invoice", CommandKind::CreateInvoice},          {"salesinvoice", CommandKind::CreateInvoice},
        {"billingdocument", CommandKind::CreateInvoice},  {"creditmemo", CommandKind::CreateCreditMemo},
        {"salescreditmemo", CommandKind::CreateCreditMemo}, {"creditmemorequest", CommandKind::CreateCreditMemo},
        {"release", CommandKind::ReleaseAllocation},      {"cancellation", CommandKind::CancelSalesOrder},
        {"cancel", CommandKind::CancelSalesOrder},        {"inventoryadjustment", CommandKind::PostInventoryAdjustment},
        {"adjustment", CommandKind::PostInventoryAdjustment}, {"materialdocument", CommandKind::PostInventoryAdjustment},
    };
    for (const auto& [name, kind] : kAliases) out.push_back({name, kind});
    return out;
  }();
  return names;
}

// The export file's bytes in one read (its size known up front; a pipe is read as a stream).
Status ReadWholeFile(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in.is_open()) return Status::IOError("cannot open ERP export " + path + ": " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size > 0) {
    text->resize(static_cast<size_t>(size));
    in.seekg(0);
    in.read(text->data(), size);
    if (in.gcount() != size) return Status::IOError("cannot read ERP export " + path);
    return Status::OK();
  }
  in.clear();
  in.seekg(0);
  std::ostringstream stream;
  stream << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read ERP export " + path);
  *text = std::move(stream).str();
  return Status::OK();
}

}  // namespace

std::optional<CommandKind> ErpDocumentKind(std::string_view text) {
  // Normalized without allocating (once per export line); no name is this long.
  char buffer[64];
  size_t n = 0;
  for (char c : text) {
    if (c == '_' || c == '-' || c == ' ') continue;
    if (n == sizeof(buffer)) return std::nullopt;
    buffer[n++] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string_view k(buffer, n);
  for (const KindName& name : KindNames()) {
    if (name.normalized == k) return name.kind;
  }
  return std::nullopt;
}

Result<std::vector<ErpDocument>> ParseErpExport(std::string_view text, const std::string& origin) {
  RecordReader reader(text, origin, DetectRecordFormat(origin, text), kColumns, /*allow_unknown_columns=*/true);
  std::vector<ErpDocument> out;
  out.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  RecordView r;
  auto fail = [&](const RecordView& rec, std::string_view column, const std::string& why) {
    return Status::InvalidArgument(origin + ":" + std::to_string(rec.line()) + ": " + std::string(column) + ": " + why);
  };
  auto quoted = [](std::string_view v) { return "'" + std::string(v.substr(0, 60)) + "'"; };
  while (reader.Next(&r)) {
    ErpDocument d;
    d.line = r.line();
    d.document_number = std::string(r.Get(kDocument));
    d.external_id = std::string(r.Get(kExternalId));
    if (r.Has(kKind)) {
      d.kind_text = std::string(r.Get(kKind));
      d.kind = ErpDocumentKind(d.kind_text);
      if (!d.kind) return fail(r, "kind", "unknown document kind " + quoted(d.kind_text));
    }
    d.order_id = std::string(r.Get(kOrder));
    d.company_code = std::string(r.Get(kCompany));
    d.currency = std::string(r.Get(kCurrency));
    if (r.Has(kQuantity)) {
      int64_t q = 0;
      int64_t minor = 0;
      // "3" or "3.000" (ERPs print quantities with decimals); fractional units are refused.
      if (!ParseInt64(r.Get(kQuantity), &q)) {
        if (!ParseMoneyMinor(r.Get(kQuantity), &minor) || minor % 100 != 0) {
          return fail(r, "quantity", "expected a whole number, got " + quoted(r.Get(kQuantity)));
        }
        q = minor / 100;
      }
      d.quantity = q;
    }
    if (r.Has(kAmount)) {
      int64_t a = 0;
      if (!ParseMoneyMinor(r.Get(kAmount), &a)) {
        return fail(r, "amount", "expected a decimal amount with at most 2 decimals, got " + quoted(r.Get(kAmount)));
      }
      d.amount_minor = a;
    } else if (r.Has(kAmountMinor)) {
      int64_t a = 0;
      if (!ParseInt64(r.Get(kAmountMinor), &a)) {
        return fail(r, "amount_minor", "expected an integer, got " + quoted(r.Get(kAmountMinor)));
      }
      d.amount_minor = a;
    }
    if (r.Has(kPostedAt) && !ParseTimestampNs(r.Get(kPostedAt), &d.posted_at_ns)) {
      return fail(r, "posted_at", "expected an RFC 3339 time or a date, got " + quoted(r.Get(kPostedAt)));
    }
    out.push_back(std::move(d));
  }
  if (!reader.error().empty()) return Status::InvalidArgument(reader.error());
  return out;
}

Result<std::vector<ErpDocument>> ReadErpExportFile(const std::string& path) {
  std::string text;
  ORDERSYNC_RETURN_IF_ERROR(ReadWholeFile(path, &text));
  return ParseErpExport(text, path);
}

Status WriteErpDocumentsJsonLines(const std::vector<ErpDocument>& documents, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out.is_open()) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  for (const ErpDocument& d : documents) {
    nlohmann::json j = {{"document_number", d.document_number}, {"external_id", d.external_id}};
    if (d.kind) j["kind"] = EnumNameCommandKind(*d.kind);
    else if (!d.kind_text.empty()) j["kind"] = d.kind_text;
    if (!d.order_id.empty()) j["order_id"] = d.order_id;
    if (!d.company_code.empty()) j["company_code"] = d.company_code;
    if (d.quantity) j["quantity"] = *d.quantity;
    if (d.amount_minor) j["amount_minor"] = *d.amount_minor;
    if (!d.currency.empty()) j["currency"] = d.currency;
    if (d.posted_at_ns != 0) j["posted_at"] = std::to_string(d.posted_at_ns);
    out << j.dump() << '\n';
  }
  out.close();
  if (!out) return Status::IOError("cannot write " + path);
  return Status::OK();
}

}  // namespace ordersync
