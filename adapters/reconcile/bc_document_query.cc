// Business Central API v2.0: the documents the connector creates, per company, with the
// command id in externalDocumentNumber:
//
//   GET /api/v2.0/companies(<id>)/salesOrders | salesInvoices | salesCreditMemos
//     ?$filter=lastModifiedDateTime ge <from> and lastModifiedDateTime lt <to>
//              and externalDocumentNumber ne ''
//     &$select=id,number,externalDocumentNumber,currencyCode,totalAmountExcludingTax,lastModifiedDateTime
//     &$expand=<lines>($select=quantity)
//   Prefer: odata.maxpagesize=<page>
//   -> {"value":[...], "@odata.nextLink":"<url>"}
//
// The companies are document.company_id and every [[companies]] erp_company. Paging
// follows @odata.nextLink to the end. BC's API pages expose lastModifiedDateTime, not a
// creation time: a document changed after it was posted shows at its change time (the
// reconcile then reports it outside the period; ask for a wider period). document number
// = number (what the post answered), company = the company map's code of the company id,
// amount = totalAmountExcludingTax, quantity = the lines', currency = currencyCode ("" is
// the company's local currency and is not compared).
#include "adapters/reconcile/erp_document_query.h"

#include <set>

namespace ordersync {
namespace {

struct Collection {
  const char* name;
  const char* lines;
  CommandKind kind;
};
constexpr Collection kCollections[] = {{"salesOrders", "salesOrderLines", CommandKind::CreateSalesOrder},
                                       {"salesInvoices", "salesInvoiceLines", CommandKind::CreateInvoice},
                                       {"salesCreditMemos", "salesCreditMemoLines", CommandKind::CreateCreditMemo}};

class BcDocumentQuery final : public ErpDocumentQuery {
 public:
  explicit BcDocumentQuery(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kD365Bc; }

  std::vector<DocumentQuery> Queries(const DocumentQueryWindow& w) const override {
    std::vector<std::pair<std::string, std::string>> companies;  // id, company_code
    std::set<std::string> seen;
    if (!o_.document.company_id.empty() && seen.insert(o_.document.company_id).second) {
      companies.emplace_back(o_.document.company_id, CompanyCodeOf(o_, o_.document.company_id));
    }
    for (const ErpCompanyMapping& m : o_.companies) {
      if (!m.erp_company.empty() && seen.insert(m.erp_company).second) companies.emplace_back(m.erp_company, m.company_code);
    }
    std::vector<DocumentQuery> out;
    for (const auto& [id, code] : companies) {
      for (const Collection& c : kCollections) {
        DocumentQuery q;
        q.name = std::string(c.name) + " of company " + id;
        q.kind = c.kind;
        q.kind_text = c.name;
        q.company_code = code;
        q.first.method = "GET";
        q.first.path = "/api/v2.0/companies(" + id + ")/" + c.name;
        AddQueryParam(&q.first.path, "$filter",
                      "lastModifiedDateTime ge " + QueryTime(w.from_ns < 0 ? 0 : w.from_ns) +
                          " and lastModifiedDateTime lt " + QueryTime(w.to_ns) + " and externalDocumentNumber ne ''");
        AddQueryParam(&q.first.path, "$select",
                      "id,number,externalDocumentNumber,currencyCode,totalAmountExcludingTax,lastModifiedDateTime");
        AddQueryParam(&q.first.path, "$expand", std::string(c.lines) + "($select=quantity)");
        q.first.headers.emplace_back("Accept", "application/json");
        q.first.headers.emplace_back("Prefer", "odata.maxpagesize=" + std::to_string(w.page_size));
        out.push_back(std::move(q));
      }
    }
    return out;
  }

  Status ParsePage(const DocumentQuery& query, const HttpCall& sent, const HttpResponse& answer, uint32_t,
                   QueryPage* page) const override {
    AnswerReader in(query.name + " page at " + sent.path);
    const char* lines_field = "";
    for (const Collection& c : kCollections) {
      if (query.kind == c.kind) lines_field = c.lines;
    }
    nlohmann::json j;
    ORDERSYNC_RETURN_IF_ERROR(in.Parse(answer, &j));
    const nlohmann::json* value = nullptr;
    ORDERSYNC_RETURN_IF_ERROR(in.Array(j, "value", &value));
    for (const nlohmann::json& row : *value) {
      if (!row.is_object()) return in.Fail("value[]", "not an object");
      ErpDocument d;
      d.kind = query.kind;
      d.kind_text = query.kind_text;
      d.company_code = query.company_code;
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "number", true, &d.document_number));
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "externalDocumentNumber", true, &d.external_id));
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "currencyCode", false, &d.currency));
      ORDERSYNC_RETURN_IF_ERROR(in.Amount(row, "totalAmountExcludingTax", &d.amount_minor));
      ORDERSYNC_RETURN_IF_ERROR(in.Time(row, "lastModifiedDateTime", &d.posted_at_ns));
      const nlohmann::json* lines = nullptr;
      ORDERSYNC_RETURN_IF_ERROR(in.Array(row, lines_field, &lines));
      int64_t quantity = 0;
      for (const nlohmann::json& l : *lines) {
        std::optional<int64_t> q;
        if (!l.is_object()) return in.Fail(lines_field, "a line is not an object");
        ORDERSYNC_RETURN_IF_ERROR(in.Quantity(l, "quantity", &q));
        if (!q) return in.Fail(std::string(lines_field) + "/quantity", "missing");
        quantity += *q;
      }
      d.quantity = quantity;
      page->documents.push_back(std::move(d));
    }
    std::string next;
    ORDERSYNC_RETURN_IF_ERROR(in.Text(j, "@odata.nextLink", false, &next));
    if (!next.empty()) {
      if (value->empty()) return in.Fail("@odata.nextLink", "a next link on an empty page");
      HttpCall call = sent;
      call.path = next;
      page->next = std::move(call);
    }
    return Status::OK();
  }

 private:
  HttpTargetOptions o_;
};

}  // namespace

std::unique_ptr<ErpDocumentQuery> CreateBcDocumentQuery(const HttpTargetOptions& options) {
  return std::make_unique<BcDocumentQuery>(options);
}

}  // namespace ordersync
