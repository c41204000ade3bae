// Dynamics 365 Business Central API v2.0. Mapping table (under
// /api/v2.0/companies(<company id>)/):
//
//   CreateSalesOrder   POST salesOrders       (deep insert salesOrderLines)
//   CreateInvoice      POST salesInvoices     (deep insert salesInvoiceLines)
//   CreateCreditMemo   POST salesCreditMemos  (deep insert salesCreditMemoLines)
//
// BC has no idempotency key and no unique external number: a second POST makes a second
// document. The command id goes into externalDocumentNumber (35 characters) and an
// attempt after an unknown outcome first looks it up with
// $filter=externalDocumentNumber eq '...' (read-before-retry). The company id comes from
// the company map (erp_company) or document.company_id. $batch: OData v4 JSON batch at
// /api/v2.0/$batch, one atomicity group per command. Errors: {"error":{"code","message"}}.
#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/erp_dialect.h"

namespace ordersync {
namespace {

constexpr std::string_view kApi = "/api/v2.0";
constexpr size_t kReferenceLen = 35;

class BcDialect final : public ErpDialect {
 public:
  explicit BcDialect(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kD365Bc; }
  bool Supports(CommandKind k) const override { return ErpKindSupports(ErpKind::kD365Bc, k); }

  HttpCall BuildPost(const CommandView& c, std::string_view) const override {
    HttpCall call;
    const ErpCompanyMapping* m = FindCompany(o_, c.company_code);
    const std::string customer = m != nullptr && !m->customer.empty() ? m->customer : o_.document.customer;
    const char* lines_field = c.kind == CommandKind::CreateSalesOrder   ? "salesOrderLines"
                              : c.kind == CommandKind::CreateInvoice    ? "salesInvoiceLines"
                                                                        : "salesCreditMemoLines";
    nlohmann::json body = {{"externalDocumentNumber", ReferenceFor(c.command_id, kReferenceLen)},
                           {"customerNumber", customer}};
    const std::string date = IsoDate(c.command->event_occurred_at_ns());
    body[c.kind == CommandKind::CreateSalesOrder ? "orderDate"
         : c.kind == CommandKind::CreateInvoice  ? "invoiceDate"
                                                 : "creditMemoDate"] = date;
    if (!c.currency.empty()) body["currencyCode"] = std::string(c.currency);
    nlohmann::json lines = nlohmann::json::array();
    if (c.command->lines() != nullptr) {
      for (const Line* l : *c.command->lines()) {
        lines.push_back({{"sequence", l->line_no() * 10000},
                         {"lineType", "Item"},
                         {"lineObjectNumber", l->sku() ? l->sku()->str() : ""},
                         {"quantity", l->qty()},
                         {"unitPrice", MinorToDecimal(l->unit_price_minor())}});
      }
    }
    body[lines_field] = lines;
    const std::string relative = CompanyPath(c) + "/" + Collection(c.kind);
    call.method = "POST";
    call.path = std::string(kApi) + "/" + relative;
    call.batch_root = std::string(kApi);
    call.batch_url = relative;
    call.body = body.dump();
    call.headers.emplace_back("Accept", "application/json");
    AddTraceHeaders(c, &call);
    return call;
  }

  bool PostIsIdempotent(CommandKind) const override { return false; }

  std::optional<HttpCall> BuildLookup(const CommandView& c) const override {
    HttpCall call;
    call.method = "GET";
    call.path = std::string(kApi) + "/" + CompanyPath(c) + "/" + Collection(c.kind) + "?$filter=" +
                UrlEncode("externalDocumentNumber eq " + ODataQuote(ReferenceFor(c.command_id, kReferenceLen))) +
                "&$select=id,number";
    call.headers.emplace_back("Accept", "application/json");
    return call;
  }

  LookupResult ParseLookup(const CommandView&, const HttpResponse& r) const override {
    LookupResult out;
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || !j.is_object() || !j.contains("value") || !j["value"].is_array()) {
      out.message = "look-up answered " + std::to_string(r.status) + ": " + ErrorMessage(r);
      return out;
    }
    if (j["value"].empty()) {
      out.verdict = LookupVerdict::kNotFound;
      return out;
    }
    out.verdict = LookupVerdict::kFound;
    out.document_id = j["value"][0].value("number", "");
    return out;
  }

  std::string DocumentId(const CommandView&, const HttpResponse& r) const override {
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("number") && j["number"].is_string()) return j["number"].get<std::string>();
    return LocationId(r);
  }

  BatchFormat batch_format() const override { return BatchFormat::kJson; }

 private:
  static std::string Collection(CommandKind k) {
    return k == CommandKind::CreateSalesOrder ? "salesOrders"
           : k == CommandKind::CreateInvoice  ? "salesInvoices"
                                              : "salesCreditMemos";
  }
  std::string CompanyPath(const CommandView& c) const {
    const ErpCompanyMapping* m = FindCompany(o_, c.company_code);
    const std::string id = m != nullptr && !m->erp_company.empty() ? m->erp_company : o_.document.company_id;
    return "companies(" + id + ")";
  }

  HttpTargetOptions o_;
};

}  // namespace

Result<std::unique_ptr<ErpDialect>> CreateBcDialect(const HttpTargetOptions& options) {
  bool all_mapped = !options.companies.empty();
  for (const ErpCompanyMapping& m : options.companies) all_mapped = all_mapped && !m.erp_company.empty();
  if (options.document.company_id.empty() && !all_mapped) {
    return Status::InvalidArgument(
        "d365_bc: document.company_id is empty and not every [[companies]] entry has an erp_company");
  }
  return std::unique_ptr<ErpDialect>(new BcDialect(options));
}

}  // namespace ordersync
