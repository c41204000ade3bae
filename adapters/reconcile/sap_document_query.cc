// SAP S/4HANA: the documents the connector creates with the command id in a reference
// field, listed through the same OData v2 A2X services:
//
//   GET API_SALES_ORDER_SRV/A_SalesOrder                   reference: document.reference_field
//   GET API_CREDIT_MEMO_REQUEST_SRV/A_CreditMemoRequest    reference: document.reference_field
//   GET API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader reference: MaterialDocumentHeaderText
//     ?$filter=CreationDate ge datetime'<from date>T00:00:00' and CreationDate le
//              datetime'<to date>T00:00:00' and <reference> ne ''
//     &$select=<number>,<reference>,...,CreationDate,CreationTime,<items>/<quantity>
//     &$expand=<items>&$top=<page>&$skip=<n>&$inlinecount=allpages
//   -> {"d":{"results":[...], "__count":"<all>", "__next":"<url>"}}
//
// CreationDate is a date, so the query asks for whole days and each document's time is
// CreationDate + CreationTime (the reconcile compares the exact period). Paging: the
// server's __next when it cuts a page short, else $skip by the page size until a short
// page; __count is checked against what was read. document number = SalesOrder /
// CreditMemoRequest / MaterialDocument, company = SalesOrganization, quantity = the items'
// (material documents: 701 adds, 702 removes). Amounts are SAP's own pricing (conditions)
// and currency its transaction currency: the currency is compared, the amount is not.
// Goods issues and billing documents are keyed by the outbound delivery, not by a
// reference field; they are not listed (reconcile them with --export).
#include "adapters/reconcile/erp_document_query.h"

#include "adapters/records/field_parse.h"

namespace ordersync {
namespace {

constexpr int64_t kNsPerDay = 86'400'000'000'000;

struct EntitySet {
  const char* service;
  const char* set;
  const char* key;
  const char* items;
  const char* quantity;
  CommandKind kind;
  const char* kind_text;
};
constexpr EntitySet kSets[] = {
    {"API_SALES_ORDER_SRV", "A_SalesOrder", "SalesOrder", "to_Item", "RequestedQuantity",
     CommandKind::CreateSalesOrder, "sales_order"},
    {"API_CREDIT_MEMO_REQUEST_SRV", "A_CreditMemoRequest", "CreditMemoRequest", "to_Item", "RequestedQuantity",
     CommandKind::CreateCreditMemo, "credit_memo_request"},
    {"API_MATERIAL_DOCUMENT_SRV", "A_MaterialDocumentHeader", "MaterialDocument", "to_MaterialDocumentItem",
     "QuantityInEntryUnit", CommandKind::PostInventoryAdjustment, "material_document"},
};

const EntitySet* SetOf(const DocumentQuery& q) {
  for (const EntitySet& s : kSets) {
    if (q.kind == s.kind) return &s;
  }
  return nullptr;
}

// "/Date(1717200000000)/" or "/Date(1717200000000+0000)/" -> ns.
bool ODataV2Date(const std::string& s, int64_t* ns) {
  if (s.rfind("/Date(", 0) != 0 || s.size() < 9 || s.substr(s.size() - 2) != ")/") return false;
  std::string digits = s.substr(6, s.size() - 8);
  const size_t offset = digits.find_first_of("+-", 1);
  if (offset != std::string::npos) digits.resize(offset);
  int64_t ms = 0;
  if (!ParseInt64(digits, &ms)) return false;
  *ns = ms * 1'000'000;
  return true;
}

// "PT10H31M05S" -> ns.
bool ODataV2Time(const std::string& s, int64_t* ns) {
  int h = 0, m = 0, sec = 0;
  char tail = 0;
  if (std::sscanf(s.c_str(), "PT%dH%dM%dS%c", &h, &m, &sec, &tail) != 3) return false;
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60) return false;
  *ns = ((h * 60LL + m) * 60LL + sec) * 1'000'000'000LL;
  return true;
}

class SapDocumentQuery final : public ErpDocumentQuery {
 public:
  explicit SapDocumentQuery(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kSapS4; }

  std::vector<DocumentQuery> Queries(const DocumentQueryWindow& w) const override {
    std::vector<DocumentQuery> out;
    const std::string from = QueryDate(w.from_ns < 0 ? 0 : w.from_ns) + "T00:00:00";
    const std::string to = QueryDate(w.to_ns - 1) + "T00:00:00";
    for (const EntitySet& s : kSets) {
      const std::string ref = Reference(s);
      DocumentQuery q;
      q.name = std::string(s.set);
      q.kind = s.kind;
      q.kind_text = s.kind_text;
      q.first.method = "GET";
      q.first.path = std::string("/sap/opu/odata/sap/") + s.service + "/" + s.set;
      AddQueryParam(&q.first.path, "$filter",
                    "CreationDate ge datetime'" + from + "' and CreationDate le datetime'" + to + "' and " + ref +
                        " ne ''");
      std::string select = std::string(s.key) + "," + ref + ",CreationDate,CreationTime," + s.items + "/" + s.quantity;
      if (s.kind == CommandKind::PostInventoryAdjustment) {
        select += "," + std::string(s.items) + "/GoodsMovementType";
      } else {
        select += ",SalesOrganization,TransactionCurrency";
      }
      AddQueryParam(&q.first.path, "$select", select);
      AddQueryParam(&q.first.path, "$expand", s.items);
      AddQueryParam(&q.first.path, "$top", std::to_string(w.page_size));
      AddQueryParam(&q.first.path, "$skip", "0");
      AddQueryParam(&q.first.path, "$inlinecount", "allpages");
      q.first.headers.emplace_back("Accept", "application/json");
      out.push_back(std::move(q));
    }
    return out;
  }

  Status ParsePage(const DocumentQuery& query, const HttpCall& sent, const HttpResponse& answer, uint32_t page_size,
                   QueryPage* page) const override {
    AnswerReader in(query.name + " page at " + sent.path);
    const EntitySet* s = SetOf(query);
    if (s == nullptr) return in.Fail("query", "unknown entity set");
    nlohmann::json j;
    ORDERSYNC_RETURN_IF_ERROR(in.Parse(answer, &j));
    if (!j.contains("d") || !j["d"].is_object()) return in.Fail("d", "missing (not an OData v2 answer)");
    const nlohmann::json& d = j["d"];
    const nlohmann::json* results = nullptr;
    ORDERSYNC_RETURN_IF_ERROR(in.Array(d, "results", &results));
    ORDERSYNC_RETURN_IF_ERROR(in.Count(d, "__count", &page->total));
    const std::string ref = Reference(*s);
    for (const nlohmann::json& row : *results) {
      if (!row.is_object()) return in.Fail("results[]", "not an object");
      ErpDocument doc;
      doc.kind = s->kind;
      doc.kind_text = s->kind_text;
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, s->key, true, &doc.document_number));
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, ref.c_str(), true, &doc.external_id));
      std::string date, time, org;
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "CreationDate", true, &date));
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "CreationTime", false, &time));
      int64_t day = 0, since_midnight = 0;
      if (!ODataV2Date(date, &day)) return in.Fail("CreationDate", "not an OData v2 /Date(ms)/: '" + date.substr(0, 40) + "'");
      if (!time.empty() && !ODataV2Time(time, &since_midnight)) {
        return in.Fail("CreationTime", "not an OData v2 time PT..H..M..S: '" + time.substr(0, 40) + "'");
      }
      doc.posted_at_ns = day - day % kNsPerDay + since_midnight;
      if (s->kind != CommandKind::PostInventoryAdjustment) {
        ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "SalesOrganization", false, &org));
        doc.company_code = CompanyCodeOf(o_, org);
        ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "TransactionCurrency", false, &doc.currency));
      }
      // The expanded items: {"results":[...]} (a {"__deferred"} means they were not expanded).
      auto items = row.find(s->items);
      if (items == row.end() || !items->is_object() || !items->contains("results") ||
          !(*items)["results"].is_array()) {
        return in.Fail(s->items, "not expanded ({\"results\":[...]} expected)");
      }
      int64_t quantity = 0;
      for (const nlohmann::json& item : (*items)["results"]) {
        std::optional<int64_t> q;
        if (!item.is_object()) return in.Fail(s->items, "an item is not an object");
        ORDERSYNC_RETURN_IF_ERROR(in.Quantity(item, s->quantity, &q));
        if (!q) return in.Fail(std::string(s->items) + "/" + s->quantity, "missing");
        std::string movement;
        ORDERSYNC_RETURN_IF_ERROR(in.Text(item, "GoodsMovementType", false, &movement));
        quantity += movement == "702" ? -*q : *q;
      }
      doc.quantity = quantity;
      page->documents.push_back(std::move(doc));
    }
    std::string next_url;
    ORDERSYNC_RETURN_IF_ERROR(in.Text(d, "__next", false, &next_url));
    if (!next_url.empty()) {
      if (results->empty()) return in.Fail("__next", "a next link on an empty page");
      HttpCall next = sent;
      next.path = next_url;
      if (next_url.rfind("http", 0) != 0 && next_url.front() != '/') {
        // Relative to the entity set's service root ("A_SalesOrder?$skiptoken=...").
        const std::string root = query.first.path.substr(0, query.first.path.find('?'));
        next.path = root.substr(0, root.rfind('/') + 1) + next_url;
      }
      page->next = std::move(next);
    } else if (!results->empty() && (page->total ? page->read_before + results->size() < *page->total
                                                  : results->size() >= page_size)) {
      // Client-driven paging ($skip from the first request): more behind this page.
      HttpCall next = query.first;
      next.path = WithSkip(query.first.path, page->read_before + results->size());
      page->next = std::move(next);
    }
    return Status::OK();
  }

 private:
  std::string Reference(const EntitySet& s) const {
    return s.kind == CommandKind::PostInventoryAdjustment ? "MaterialDocumentHeaderText" : o_.document.reference_field;
  }
  static std::string WithSkip(const std::string& path, uint64_t skip) {
    const size_t p = path.find("$skip=");
    if (p == std::string::npos) return path + "&$skip=" + std::to_string(skip);
    const size_t end = path.find('&', p);
    return path.substr(0, p) + "$skip=" + std::to_string(skip) + (end == std::string::npos ? "" : path.substr(end));
  }

  HttpTargetOptions o_;
};

}  // namespace

std::unique_ptr<ErpDocumentQuery> CreateSapDocumentQuery(const HttpTargetOptions& options) {
  return std::make_unique<SapDocumentQuery>(options);
}

}  // namespace ordersync
