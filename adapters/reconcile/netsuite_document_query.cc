// NetSuite: the transactions ordersync posts (every one carries its command id as
// externalId), listed with SuiteQL:
//
//   POST /services/rest/query/v1/suiteql?limit=<page>&offset=0      Prefer: transient
//   {"q": "SELECT t.id, t.tranid, t.externalid, t.type, t.otherrefnum, t.subsidiary,
//          BUILTIN.DF(t.currency) AS currency, t.foreigntotal,
//          TO_CHAR(t.createddate, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS createdat,
//          (SELECT SUM(...) FROM transactionline tl WHERE tl.transaction = t.id
//             AND tl.mainline = 'F' AND tl.taxline = 'F') AS quantity
//          FROM transaction t WHERE t.externalid IS NOT NULL
//          AND t.type IN ('SalesOrd','ItemShip','CustInvc','CustCred','InvAdjst')
//          AND t.createddate >= TO_TIMESTAMP('<from>', 'YYYY-MM-DD HH24:MI:SS')
//          AND t.createddate < TO_TIMESTAMP('<to>', 'YYYY-MM-DD HH24:MI:SS')
//          ORDER BY t.createddate, t.id"}
//   -> {"links":[{"rel":"next","href":...}], "count", "hasMore", "offset", "totalResults", "items":[...]}
//
// Paging follows the rel=next link (the same POST body) while hasMore. Times are the
// account's; run the integration role in UTC. document number = the internal id (what
// the record API's Location answered), company = subsidiary, order = otherrefnum,
// amount = foreigntotal (sales orders, invoices, credit memos), quantity = the lines'
// (absolute; signed for inventory adjustments). Cancellations change the sales order's
// status and make no transaction of their own: they are not listed.
#include "adapters/reconcile/erp_document_query.h"

namespace ordersync {
namespace {

struct TypeKind {
  const char* type;
  CommandKind kind;
};
constexpr TypeKind kTypes[] = {{"SalesOrd", CommandKind::CreateSalesOrder},
                               {"ItemShip", CommandKind::PostGoodsIssue},
                               {"CustInvc", CommandKind::CreateInvoice},
                               {"CustCred", CommandKind::CreateCreditMemo},
                               {"InvAdjst", CommandKind::PostInventoryAdjustment}};

std::string SqlTime(int64_t ns) {
  std::string t = QueryTime(ns < 0 ? 0 : ns);  // 2024-05-01T10:30:00Z
  t[10] = ' ';
  t.pop_back();
  return t;
}

class NetSuiteDocumentQuery final : public ErpDocumentQuery {
 public:
  explicit NetSuiteDocumentQuery(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kNetSuite; }

  std::vector<DocumentQuery> Queries(const DocumentQueryWindow& w) const override {
    DocumentQuery q;
    q.name = "SuiteQL transaction";
    q.first.method = "POST";
    q.first.path = "/services/rest/query/v1/suiteql?limit=" + std::to_string(w.page_size) + "&offset=0";
    q.first.headers.emplace_back("Prefer", "transient");
    const std::string sql =
        "SELECT t.id, t.tranid, t.externalid, t.type, t.otherrefnum, t.subsidiary, "
        "BUILTIN.DF(t.currency) AS currency, t.foreigntotal, "
        "TO_CHAR(t.createddate, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS createdat, "
        "(SELECT SUM(CASE WHEN t.type = 'InvAdjst' THEN tl.quantity ELSE ABS(tl.quantity) END) "
        "FROM transactionline tl WHERE tl.transaction = t.id AND tl.mainline = 'F' AND tl.taxline = 'F') AS quantity "
        "FROM transaction t WHERE t.externalid IS NOT NULL "
        "AND t.type IN ('SalesOrd','ItemShip','CustInvc','CustCred','InvAdjst') "
        "AND t.createddate >= TO_TIMESTAMP('" + SqlTime(w.from_ns) + "', 'YYYY-MM-DD HH24:MI:SS') "
        "AND t.createddate < TO_TIMESTAMP('" + SqlTime(w.to_ns) + "', 'YYYY-MM-DD HH24:MI:SS') "
        "ORDER BY t.createddate, t.id";
    q.first.body = nlohmann::json{{"q", sql}}.dump();
    return {q};
  }

  Status ParsePage(const DocumentQuery& query, const HttpCall& sent, const HttpResponse& answer, uint32_t,
                   QueryPage* page) const override {
    AnswerReader in(query.name + " page at " + sent.path);
    nlohmann::json j;
    ORDERSYNC_RETURN_IF_ERROR(in.Parse(answer, &j));
    const nlohmann::json* items = nullptr;
    bool has_more = false;
    ORDERSYNC_RETURN_IF_ERROR(in.ItemsPage(j, &items, page, &has_more));
    for (const nlohmann::json& row : *items) {
      if (!row.is_object()) return in.Fail("items[]", "not an object");
      ErpDocument d;
      std::string subsidiary;
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "id", true, &d.document_number));
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "externalid", true, &d.external_id));
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "type", true, &d.kind_text));
      for (const TypeKind& t : kTypes) {
        if (d.kind_text == t.type) d.kind = t.kind;
      }
      if (!d.kind) return in.Fail("type", "'" + d.kind_text + "' was not asked for");
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "otherrefnum", false, &d.order_id));
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "subsidiary", false, &subsidiary));
      d.company_code = CompanyCodeOf(o_, subsidiary);
      ORDERSYNC_RETURN_IF_ERROR(in.Text(row, "currency", false, &d.currency));
      ORDERSYNC_RETURN_IF_ERROR(in.Amount(row, "foreigntotal", &d.amount_minor));
      ORDERSYNC_RETURN_IF_ERROR(in.Quantity(row, "quantity", &d.quantity));
      ORDERSYNC_RETURN_IF_ERROR(in.Time(row, "createdat", &d.posted_at_ns));
      page->documents.push_back(std::move(d));
    }
    if (has_more) {
      const nlohmann::json* links = nullptr;
      ORDERSYNC_RETURN_IF_ERROR(in.Array(j, "links", &links));
      for (const nlohmann::json& l : *links) {
        if (l.is_object() && l.value("rel", "") == "next" && l.contains("href") && l["href"].is_string()) {
          HttpCall next = sent;
          next.path = l["href"].get<std::string>();
          page->next = std::move(next);
        }
      }
      if (!page->next) return in.Fail("links", "hasMore is true but there is no rel=next link");
      if (items->empty()) return in.Fail("items", "hasMore is true on an empty page");
    }
    return Status::OK();
  }

 private:
  HttpTargetOptions o_;
};

}  // namespace

std::unique_ptr<ErpDocumentQuery> CreateNetSuiteDocumentQuery(const HttpTargetOptions& options) {
  return std::make_unique<NetSuiteDocumentQuery>(options);
}

}  // namespace ordersync
