// SAP S/4HANA OData A2X APIs. Mapping table (service roots under /sap/opu/odata/sap/ for
// OData v2, /sap/opu/odata4/sap/ for v4):
//
//   CreateSalesOrder        POST API_SALES_ORDER_SRV/A_SalesOrder (deep insert to_Item)
//   PostGoodsIssue          POST API_OUTBOUND_DELIVERY_SRV;v=0002/PostGoodsIssue
//                                ?DeliveryDocument='<business_key>' (If-Match: ETag)
//   CreateInvoice           POST api_billingdocument/srvd_a2x/sap/billingdocument/0001/
//                                BillingDocument/SAP__self.CreateFromSDDocument
//                                (_Control + _Reference to the delivery <business_key>)
//   CreateCreditMemo        POST API_CREDIT_MEMO_REQUEST_SRV/A_CreditMemoRequest
//   PostInventoryAdjustment POST API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader
//                                (movement 701 gain / 702 loss)
//
// No A2X create is idempotent: a second POST makes a second document. So the command id
// goes into a reference field (document.reference_field, default
// PurchaseOrderByCustomer, 35 characters; MaterialDocumentHeaderText, 25) and an
// attempt after an unknown outcome first looks it up with $filter (read-before-retry).
// Goods issue and billing are keyed by the delivery (the shipment's business key): the
// look-up reads the delivery's goods movement status / the billing items referring to it,
// and a 4xx of those two is looked up before it counts as a rejection (SAP refuses to
// issue or bill a delivery twice with a message, not a duplicate code).
// Every modifying request carries a CSRF token fetched with X-CSRF-Token: Fetch on the
// session cookie. $batch (multipart, one changeset per command) for the v2 creates.
#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/erp_dialect.h"

namespace ordersync {
namespace {

constexpr std::string_view kSalesOrderSrv = "/sap/opu/odata/sap/API_SALES_ORDER_SRV";
constexpr std::string_view kDeliverySrv = "/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002";
constexpr std::string_view kBillingSrv = "/sap/opu/odata4/sap/api_billingdocument/srvd_a2x/sap/billingdocument/0001";
constexpr std::string_view kCreditMemoSrv = "/sap/opu/odata/sap/API_CREDIT_MEMO_REQUEST_SRV";
constexpr std::string_view kMaterialDocSrv = "/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV";
constexpr size_t kReferenceLen = 35;
constexpr size_t kHeaderTextLen = 25;

std::string JsonString(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

class SapDialect final : public ErpDialect {
 public:
  explicit SapDialect(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kSapS4; }
  bool Supports(CommandKind k) const override { return ErpKindSupports(ErpKind::kSapS4, k); }

  std::optional<HttpCall> PrepareCall(const CommandView& c) const override {
    if (c.kind != CommandKind::PostGoodsIssue) return std::nullopt;
    HttpCall call;
    call.method = "GET";
    call.path = std::string(kDeliverySrv) + "/A_OutbDeliveryHeader(" + UrlEncode(ODataQuote(c.business_key)) +
                ")?$select=DeliveryDocument,OverallGoodsMovementStatus";
    return call;
  }
  PrepareResult ParsePrepare(const CommandView& c, const HttpResponse& r) const override {
    PrepareResult out;
    if (r.status == 404) {
      out.kind = PrepareResult::kMissing;
      out.message = "outbound delivery " + std::string(c.business_key) + " not found in SAP";
      return out;
    }
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || !j.is_object() || !j.contains("d")) {
      out.message = "cannot read delivery " + std::string(c.business_key) + ": " + ErrorMessage(r);
      return out;
    }
    if (JsonString(j["d"], "OverallGoodsMovementStatus") == "C") {
      out.kind = PrepareResult::kAlreadyPosted;
      out.document_id = std::string(c.business_key);
      return out;
    }
    out.kind = PrepareResult::kProceed;
    const std::string* etag = r.Header("etag");
    out.value = etag != nullptr ? *etag : "*";
    return out;
  }

  HttpCall BuildPost(const CommandView& c, std::string_view etag) const override {
    HttpCall call;
    const ErpCompanyMapping* m = FindCompany(o_, c.company_code);
    const ErpDocumentOptions& d = o_.document;
    const std::string sales_org = m != nullptr && !m->erp_company.empty() ? m->erp_company : d.sales_organization;
    const std::string customer = m != nullptr && !m->customer.empty() ? m->customer : d.customer;
    const std::string plant = m != nullptr && !m->location.empty() ? m->location : d.plant;
    auto sales_header = [&](const char* type_field, const std::string& type) {
      nlohmann::json b = {{type_field, type},
                          {"SalesOrganization", sales_org},
                          {"DistributionChannel", d.distribution_channel},
                          {"OrganizationDivision", d.division},
                          {"SoldToParty", customer},
                          {d.reference_field, ReferenceFor(c.command_id, kReferenceLen)}};
      if (!c.currency.empty()) b["TransactionCurrency"] = std::string(c.currency);
      return b;
    };
    auto items = [&](const char* item_field) {
      nlohmann::json list = nlohmann::json::array();
      if (c.command->lines() == nullptr) return list;
      for (const Line* l : *c.command->lines()) {
        nlohmann::json item = {{item_field, std::to_string(l->line_no() * 10)},
                               {"Material", l->sku() ? l->sku()->str() : ""},
                               {"RequestedQuantity", std::to_string(l->qty())}};
        if (l->uom() != nullptr && l->uom()->size() > 0) item["RequestedQuantityUnit"] = l->uom()->str();
        list.push_back(std::move(item));
      }
      return list;
    };
    nlohmann::json body;
    switch (c.kind) {
      case CommandKind::CreateSalesOrder:
        body = sales_header("SalesOrderType", d.sales_order_type);
        body["to_Item"] = items("SalesOrderItem");
        Set(&call, kSalesOrderSrv, "A_SalesOrder");
        break;
      case CommandKind::CreateCreditMemo:
        body = sales_header("CreditMemoRequestType", d.credit_memo_request_type);
        body["SDDocumentReason"] = "";
        body["to_Item"] = items("CreditMemoRequestItem");
        Set(&call, kCreditMemoSrv, "A_CreditMemoRequest");
        break;
      case CommandKind::PostGoodsIssue:
        call.method = "POST";
        call.path = std::string(kDeliverySrv) + "/PostGoodsIssue?DeliveryDocument=" +
                    UrlEncode(ODataQuote(c.business_key));
        call.headers.emplace_back("If-Match", etag.empty() ? std::string("*") : std::string(etag));
        break;
      case CommandKind::CreateInvoice:
        call.method = "POST";
        call.path = std::string(kBillingSrv) + "/BillingDocument/SAP__self.CreateFromSDDocument";
        body = {{"_Control",
                 {{"DefaultBillingDocumentDate", IsoDate(c.command->event_occurred_at_ns())},
                  {"DefaultBillingDocumentType", d.billing_type},
                  {"AutomPostingToAcctgIsDisabled", false}}},
                {"_Reference", nlohmann::json::array({{{"SDDocument", std::string(c.business_key)},
                                                       {"BillingDocumentType", d.billing_type}}})}};
        break;
      case CommandKind::PostInventoryAdjustment: {
        body = {{"GoodsMovementCode", "03"},
                {"DocumentDate", IsoDate(c.command->event_occurred_at_ns()) + "T00:00:00"},
                {"PostingDate", IsoDate(c.command->event_occurred_at_ns()) + "T00:00:00"},
                {"MaterialDocumentHeaderText", ReferenceFor(c.command_id, kHeaderTextLen)}};
        nlohmann::json list = nlohmann::json::array();
        if (c.command->lines() != nullptr) {
          for (const Line* l : *c.command->lines()) {
            const int64_t q = l->qty();
            nlohmann::json item = {{"Material", l->sku() ? l->sku()->str() : ""},
                                   {"Plant", plant},
                                   {"StorageLocation", d.storage_location},
                                   {"GoodsMovementType", q >= 0 ? "701" : "702"},
                                   {"QuantityInEntryUnit", std::to_string(q >= 0 ? q : -q)}};
            if (l->uom() != nullptr && l->uom()->size() > 0) item["EntryUnit"] = l->uom()->str();
            list.push_back(std::move(item));
          }
        }
        body["to_MaterialDocumentItem"] = list;
        Set(&call, kMaterialDocSrv, "A_MaterialDocumentHeader");
        break;
      }
      default:
        break;
    }
    if (!body.is_null()) call.body = body.dump();
    call.headers.emplace_back("Accept", "application/json");
    AddTraceHeaders(c, &call);
    return call;
  }

  bool PostIsIdempotent(CommandKind) const override { return false; }

  std::optional<HttpCall> BuildLookup(const CommandView& c) const override {
    HttpCall call;
    call.method = "GET";
    const std::string ref = ODataQuote(ReferenceFor(c.command_id, kReferenceLen));
    switch (c.kind) {
      case CommandKind::CreateSalesOrder:
        call.path = std::string(kSalesOrderSrv) + "/A_SalesOrder?$filter=" +
                    UrlEncode(o_.document.reference_field + " eq " + ref) + "&$select=SalesOrder&$top=1";
        break;
      case CommandKind::CreateCreditMemo:
        call.path = std::string(kCreditMemoSrv) + "/A_CreditMemoRequest?$filter=" +
                    UrlEncode(o_.document.reference_field + " eq " + ref) + "&$select=CreditMemoRequest&$top=1";
        break;
      case CommandKind::PostInventoryAdjustment:
        call.path = std::string(kMaterialDocSrv) + "/A_MaterialDocumentHeader?$filter=" +
                    UrlEncode("MaterialDocumentHeaderText eq " +
                              ODataQuote(ReferenceFor(c.command_id, kHeaderTextLen))) +
                    "&$select=MaterialDocument&$top=1";
        break;
      case CommandKind::PostGoodsIssue:
        return PrepareCall(c);
      case CommandKind::CreateInvoice:
        call.path = std::string(kBillingSrv) + "/BillingDocumentItem?$filter=" +
                    UrlEncode("ReferenceSDDocument eq " + ODataQuote(c.business_key)) +
                    "&$select=BillingDocument&$top=1";
        break;
      default:
        return std::nullopt;
    }
    call.headers.emplace_back("Accept", "application/json");
    return call;
  }

  LookupResult ParseLookup(const CommandView& c, const HttpResponse& r) const override {
    LookupResult out;
    if (c.kind == CommandKind::PostGoodsIssue) {
      const PrepareResult p = ParsePrepare(c, r);
      if (p.kind == PrepareResult::kAlreadyPosted) {
        out.verdict = LookupVerdict::kFound;
        out.document_id = p.document_id;
      } else if (p.kind == PrepareResult::kProceed) {
        out.verdict = LookupVerdict::kNotFound;
      } else {
        out.message = p.message;
      }
      return out;
    }
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    const nlohmann::json* rows = nullptr;
    if (r.status == 200 && j.is_object()) {
      if (j.contains("d") && j["d"].is_object() && j["d"].contains("results")) rows = &j["d"]["results"];
      else if (j.contains("value")) rows = &j["value"];
    }
    if (rows == nullptr || !rows->is_array()) {
      out.message = "look-up answered " + std::to_string(r.status) + ": " + ErrorMessage(r);
      return out;
    }
    if (rows->empty()) {
      out.verdict = LookupVerdict::kNotFound;
      return out;
    }
    out.verdict = LookupVerdict::kFound;
    out.document_id = JsonString((*rows)[0], DocumentField(c.kind));
    return out;
  }

  std::string DocumentId(const CommandView& c, const HttpResponse& r) const override {
    if (c.kind == CommandKind::PostGoodsIssue) return std::string(c.business_key);
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("d")) return JsonString(j["d"], DocumentField(c.kind));
    if (j.is_object() && j.contains("value") && j["value"].is_array() && !j["value"].empty()) {
      return JsonString(j["value"][0], DocumentField(c.kind));
    }
    return JsonString(j, DocumentField(c.kind));
  }

  bool LookupBeforeReject(CommandKind k) const override {
    return k == CommandKind::PostGoodsIssue || k == CommandKind::CreateInvoice;
  }

  std::optional<HttpCall> CsrfFetchCall() const override {
    HttpCall call;
    call.method = "GET";
    call.path = std::string(kSalesOrderSrv) + "/";
    call.headers.emplace_back("X-CSRF-Token", "Fetch");
    call.headers.emplace_back("Accept", "application/json");
    return call;
  }

  BatchFormat batch_format() const override { return BatchFormat::kMultipart; }

 private:
  static const char* DocumentField(CommandKind k) {
    switch (k) {
      case CommandKind::CreateSalesOrder: return "SalesOrder";
      case CommandKind::CreateCreditMemo: return "CreditMemoRequest";
      case CommandKind::CreateInvoice: return "BillingDocument";
      case CommandKind::PostInventoryAdjustment: return "MaterialDocument";
      default: return "DeliveryDocument";
    }
  }
  static void Set(HttpCall* call, std::string_view root, std::string_view entity) {
    call->method = "POST";
    call->path = std::string(root) + "/" + std::string(entity);
    call->batch_root = std::string(root);
    call->batch_url = std::string(entity);
  }

  HttpTargetOptions o_;
};

}  // namespace

Result<std::unique_ptr<ErpDialect>> CreateSapDialect(const HttpTargetOptions& options) {
  return std::unique_ptr<ErpDialect>(new SapDialect(options));
}

}  // namespace ordersync
