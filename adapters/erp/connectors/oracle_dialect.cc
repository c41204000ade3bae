// Oracle Fusion Cloud REST (fscmRestApi 11.13.18.05). Mapping table:
//
//   CreateSalesOrder   POST salesOrdersForOrderHub   SourceTransactionId/Number = ref
//   CreateInvoice      POST receivablesInvoices      TransactionNumber = ref
//   CreateCreditMemo   POST receivablesCreditMemos   TransactionNumber = ref
//
// ref is the command id (SourceTransactionId 50 characters; TransactionNumber 20, a
// SHA-256 based "OS-..." reference beyond that). Oracle refuses a second order with the
// same source system + source transaction id and a second transaction with the same
// number in a source, with a 400 whose text varies; so a 4xx is looked up before it
// counts as a rejection, and an unknown outcome is looked up before the next attempt:
// GET <resource>?q=SourceTransactionId='...';SourceTransactionSystem='...' or
// ?q=TransactionNumber='...' (items[] non-empty = posted). Errors: o:errorDetails or
// title/detail (application/vnd.oracle.adf.error+json) or plain text.
#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/erp_dialect.h"

namespace ordersync {
namespace {

constexpr std::string_view kResources = "/fscmRestApi/resources/11.13.18.05";
constexpr size_t kSourceIdLen = 50;
constexpr size_t kTransactionNumberLen = 20;

class OracleDialect final : public ErpDialect {
 public:
  explicit OracleDialect(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kOracleFusion; }
  bool Supports(CommandKind k) const override { return ErpKindSupports(ErpKind::kOracleFusion, k); }

  HttpCall BuildPost(const CommandView& c, std::string_view) const override {
    HttpCall call;
    const ErpCompanyMapping* m = FindCompany(o_, c.company_code);
    const ErpDocumentOptions& d = o_.document;
    const std::string bu = m != nullptr && !m->erp_company.empty() ? m->erp_company : d.business_unit;
    const std::string customer = m != nullptr && !m->customer.empty() ? m->customer : d.customer;
    const std::string date = IsoDate(c.command->event_occurred_at_ns());
    nlohmann::json body;
    nlohmann::json lines = nlohmann::json::array();
    if (c.kind == CommandKind::CreateSalesOrder) {
      const std::string ref = ReferenceFor(c.command_id, kSourceIdLen);
      body = {{"SourceTransactionId", ref},
              {"SourceTransactionNumber", ref},
              {"SourceTransactionSystem", d.source_system},
              {"BusinessUnitName", bu},
              {"BuyingPartyNumber", customer},
              {"TransactionOn", date},
              {"RequestedShipDate", date}};
      if (!c.currency.empty()) body["TransactionalCurrencyCode"] = std::string(c.currency);
      if (c.command->lines() != nullptr) {
        for (const Line* l : *c.command->lines()) {
          const std::string n = std::to_string(l->line_no());
          lines.push_back({{"SourceTransactionLineId", n},
                           {"SourceTransactionLineNumber", n},
                           {"SourceTransactionScheduleId", n},
                           {"SourceScheduleNumber", n},
                           {"TransactionCategoryCode", "ORDER"},
                           {"ProductNumber", l->sku() ? l->sku()->str() : ""},
                           {"OrderedQuantity", l->qty()},
                           {"OrderedUOMCode", l->uom() ? l->uom()->str() : ""},
                           {"UnitSellingPrice", MinorToDecimal(l->unit_price_minor())}});
        }
      }
      body["lines"] = lines;
    } else {
      const bool invoice = c.kind == CommandKind::CreateInvoice;
      body = {{"TransactionNumber", ReferenceFor(c.command_id, kTransactionNumberLen)},
              {"BusinessUnit", bu},
              {"TransactionSource", d.transaction_source},
              {"TransactionType", invoice ? d.invoice_type : d.credit_memo_type},
              {"TransactionDate", date},
              {"AccountingDate", date},
              {"BillToCustomerNumber", customer},
              {"CrossReference", std::string(c.command_id)}};
      if (!c.currency.empty()) body[invoice ? "InvoiceCurrencyCode" : "CreditMemoCurrency"] = std::string(c.currency);
      if (c.command->lines() != nullptr) {
        for (const Line* l : *c.command->lines()) {
          const int64_t sign = invoice ? 1 : -1;
          lines.push_back({{"LineNumber", l->line_no()},
                           {"ItemNumber", l->sku() ? l->sku()->str() : ""},
                           {"Description", l->sku() ? l->sku()->str() : ""},
                           {"Quantity", sign * l->qty()},
                           {"UnitSellingPrice", MinorToDecimal(l->unit_price_minor())}});
        }
      }
      body[invoice ? "receivablesInvoiceLines" : "receivablesCreditMemoLines"] = lines;
    }
    call.method = "POST";
    call.path = std::string(kResources) + "/" + Resource(c.kind);
    call.body = body.dump();
    call.content_type = "application/vnd.oracle.adf.resourceitem+json";
    AddTraceHeaders(c, &call);
    return call;
  }

  bool PostIsIdempotent(CommandKind) const override { return false; }
  bool LookupBeforeReject(CommandKind) const override { return true; }

  std::optional<HttpCall> BuildLookup(const CommandView& c) const override {
    HttpCall call;
    call.method = "GET";
    std::string q;
    if (c.kind == CommandKind::CreateSalesOrder) {
      q = "SourceTransactionId='" + ReferenceFor(c.command_id, kSourceIdLen) + "';SourceTransactionSystem='" +
          o_.document.source_system + "'";
    } else {
      q = "TransactionNumber='" + ReferenceFor(c.command_id, kTransactionNumberLen) + "'";
    }
    call.path = std::string(kResources) + "/" + Resource(c.kind) + "?q=" + UrlEncode(q) + "&onlyData=true&fields=" +
                (c.kind == CommandKind::CreateSalesOrder ? "OrderNumber,HeaderId" : "CustomerTransactionId");
    return call;
  }

  LookupResult ParseLookup(const CommandView& c, const HttpResponse& r) const override {
    LookupResult out;
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || !j.is_object() || !j.contains("items") || !j["items"].is_array()) {
      out.message = "look-up answered " + std::to_string(r.status) + ": " + ErrorMessage(r);
      return out;
    }
    if (j["items"].empty()) {
      out.verdict = LookupVerdict::kNotFound;
      return out;
    }
    out.verdict = LookupVerdict::kFound;
    out.document_id = Field(j["items"][0], c.kind);
    return out;
  }

  std::string DocumentId(const CommandView& c, const HttpResponse& r) const override {
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    std::string id = j.is_object() ? Field(j, c.kind) : "";
    return id.empty() ? LocationId(r) : id;
  }

 private:
  static std::string Resource(CommandKind k) {
    return k == CommandKind::CreateSalesOrder ? "salesOrdersForOrderHub"
           : k == CommandKind::CreateInvoice  ? "receivablesInvoices"
                                              : "receivablesCreditMemos";
  }
  static std::string Field(const nlohmann::json& j, CommandKind k) {
    const char* key = k == CommandKind::CreateSalesOrder ? "OrderNumber" : "CustomerTransactionId";
    if (!j.contains(key)) return "";
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
  }

  HttpTargetOptions o_;
};

}  // namespace

Result<std::unique_ptr<ErpDialect>> CreateOracleDialect(const HttpTargetOptions& options) {
  return std::unique_ptr<ErpDialect>(new OracleDialect(options));
}

}  // namespace ordersync
