// Oracle Fusion Cloud REST: the documents the connector creates, listed with the q=
// finder on CreationDate:
//
//   GET /fscmRestApi/resources/11.13.18.05/salesOrdersForOrderHub
//     ?q=CreationDate >= '<from>' and CreationDate < '<to>' and SourceTransactionSystem = '<source>'
//   GET .../receivablesInvoices | receivablesCreditMemos
//     ?q=CreationDate >= '<from>' and CreationDate < '<to>' and TransactionSource = '<source>'
//     &limit=<page>&offset=<n>&totalResults=true&onlyData=true&expand=<lines>
//   -> {"items":[...], "count", "hasMore", "limit", "offset", "totalResults"}
//
// Paging: offset += count while hasMore; totalResults is checked against what was read.
// command id = SourceTransactionId (orders) / CrossReference, else TransactionNumber
// (receivables: the number holds at most 20 characters, CrossReference the whole id);
// document number = OrderNumber / CustomerTransactionId (what the post answered);
// company = BusinessUnitName / BusinessUnit; amount = the lines' quantity x unit selling
// price; quantity = the lines' (absolute: credit memo lines are negative).
#include "adapters/reconcile/erp_document_query.h"

#include <cmath>

namespace ordersync {
namespace {

struct Resource {
  const char* name;
  const char* lines;
  const char* quantity;
  const char* number;
  const char* reference;
  const char* company;
  const char* currency;
  CommandKind kind;
};
constexpr Resource kResources[] = {
    {"salesOrdersForOrderHub", "lines", "OrderedQuantity", "OrderNumber", "SourceTransactionId", "BusinessUnitName",
     "TransactionalCurrencyCode", CommandKind::CreateSalesOrder},
    {"receivablesInvoices", "receivablesInvoiceLines", "Quantity", "CustomerTransactionId", "TransactionNumber",
     "BusinessUnit", "InvoiceCurrencyCode", CommandKind::CreateInvoice},
    {"receivablesCreditMemos", "receivablesCreditMemoLines", "Quantity", "CustomerTransactionId",
     "TransactionNumber", "BusinessUnit", "CreditMemoCurrency", CommandKind::CreateCreditMemo},
};

const Resource* ResourceOf(const DocumentQuery& q) {
  for (const Resource& r : kResources) {
    if (q.kind == r.kind) return &r;
  }
  return nullptr;
}

std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out.push_back(c);
  }
  return out + "'";
}

class OracleDocumentQuery final : public ErpDocumentQuery {
 public:
  explicit OracleDocumentQuery(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kOracleFusion; }

  std::vector<DocumentQuery> Queries(const DocumentQueryWindow& w) const override {
    std::vector<DocumentQuery> out;
    for (const Resource& r : kResources) {
      DocumentQuery q;
      q.name = r.name;
      q.kind = r.kind;
      q.kind_text = r.name;
      q.first.method = "GET";
      q.first.path = std::string("/fscmRestApi/resources/11.13.18.05/") + r.name;
      std::string finder = "CreationDate >= '" + QueryTime(w.from_ns < 0 ? 0 : w.from_ns) + "' and CreationDate < '" +
                           QueryTime(w.to_ns) + "'";
      finder += r.kind == CommandKind::CreateSalesOrder
                    ? " and SourceTransactionSystem = " + Quoted(o_.document.source_system)
                    : " and TransactionSource = " + Quoted(o_.document.transaction_source);
      AddQueryParam(&q.first.path, "q", finder);
      AddQueryParam(&q.first.path, "limit", std::to_string(w.page_size));
      AddQueryParam(&q.first.path, "offset", "0");
      AddQueryParam(&q.first.path, "totalResults", "true");
      AddQueryParam(&q.first.path, "onlyData", "true");
      AddQueryParam(&q.first.path, "expand", r.lines);
      out.push_back(std::move(q));
    }
    return out;
  }

  Status ParsePage(const DocumentQuery& query, const HttpCall& sent, const HttpResponse& answer,
                   uint32_t /*page_size*/, QueryPage* page) const override {
    AnswerReader in(query.name + " page at " + sent.path);
    const Resource* res = ResourceOf(query);
    if (res == nullptr) return in.Fail("query", "unknown resource");
    nlohmann::json j;
    ORDERSYNC_RETURN_IF_ERROR(in.Parse(answer, &j));
    const nlohmann::json* items = nullptr;
    bool has_more = false;
    ORDERSYNC_RETURN_IF_ERROR(in.ItemsPage(j, &items, page, &has_more));
    for (const nlohmann::json& row : *items) {
      if (!row.is_object()) return in.Fail("items[]", "not an object");
      ErpDocument d;
      d.kind = res->kind;
      d.kind_text = res->name;
      std::string company, cross_reference;
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, res->number, true, &d.document_number));
      if (res->kind != CommandKind::CreateSalesOrder) {
        ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "CrossReference", false, &cross_reference));
      }
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, res->reference, cross_reference.empty(), &d.external_id));
      if (!cross_reference.empty()) d.external_id = cross_reference;
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, res->company, false, &company));
      d.company_code = CompanyCodeOf(o_, company);
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, res->currency, false, &d.currency));
      ORDERSYNC_RETURN_IF_ERROR(in.Time(row, "CreationDate", &d.posted_at_ns));
      const nlohmann::json* lines = nullptr;
      ORDERSYNC_RETURN_IF_ERROR(in.Array(row, res->lines, &lines));
      int64_t quantity = 0, amount = 0;
      for (const nlohmann::json& l : *lines) {
        std::optional<int64_t> q, price;
        if (!l.is_object()) return in.Fail(res->lines, "a line is not an object");
        ORDERSYNC_RETURN_IF_ERROR(in.Quantity(l, res->quantity, &q));
        if (!q) return in.Fail(std::string(res->lines) + "/" + res->quantity, "missing");
        ORDERSYNC_RETURN_IF_ERROR(in.Amount(l, "UnitSellingPrice", &price));
        quantity += std::llabs(*q);
        amount += std::llabs(*q) * price.value_or(0);
      }
      d.quantity = quantity;
      d.amount_minor = amount;
      page->documents.push_back(std::move(d));
    }
    if (has_more) {
      if (items->empty()) return in.Fail("hasMore", "true on an empty page");
      HttpCall next = query.first;
      const uint64_t offset = page->read_before + items->size();
      const size_t p = next.path.find("&offset=");
      const size_t end = next.path.find('&', p + 1);
      next.path = next.path.substr(0, p) + "&offset=" + std::to_string(offset) +
                  (end == std::string::npos ? "" : next.path.substr(end));
      page->next = std::move(next);
    }
    return Status::OK();
  }

 private:
  HttpTargetOptions o_;
};

}  // namespace

std::unique_ptr<ErpDocumentQuery> CreateOracleDocumentQuery(const HttpTargetOptions& options) {
  return std::make_unique<OracleDocumentQuery>(options);
}

}  // namespace ordersync
