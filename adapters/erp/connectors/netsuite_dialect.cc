// NetSuite SuiteTalk REST record API (record/v1). Mapping table:
//
//   CreateSalesOrder        PUT   /record/v1/salesOrder/eid:<command_id>          upsert
//   PostGoodsIssue          POST  /record/v1/salesOrder/<id>/!transform/itemFulfillment
//   CreateInvoice           POST  /record/v1/salesOrder/<id>/!transform/invoice
//   CreateCreditMemo        PUT   /record/v1/creditMemo/eid:<command_id>          upsert
//   CancelSalesOrder        PATCH /record/v1/salesOrder/eid:<sales order command_id>
//   PostInventoryAdjustment PUT   /record/v1/inventoryAdjustment/eid:<command_id> upsert
//   (ConfirmAllocation, ReleaseAllocation: not supported, erp_kind.h)
//
// externalId = command_id on every record: NetSuite keeps it unique per record type, so
// the upserts are idempotent by themselves, and a transform repeated after an unknown
// outcome is found again with GET /record/v1/<type>/eid:<command_id> (read-before-retry)
// or refused as a duplicate externalId. <id> is the sales order's internal id, resolved
// with GET /record/v1/salesOrder/eid:<sales order command_id> (cached per order). The
// sales order's external id is its CreateSalesOrder command id, order_id/SO/order_id.
// Success is 204 with Location .../<type>/<internal id>; errors carry o:errorDetails.
#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/erp_dialect.h"
#include "engine/command_id.h"

namespace ordersync {
namespace {

constexpr std::string_view kRecord = "/services/rest/record/v1";

class NetSuiteDialect final : public ErpDialect {
 public:
  explicit NetSuiteDialect(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kNetSuite; }
  bool Supports(CommandKind k) const override { return ErpKindSupports(ErpKind::kNetSuite, k); }

  std::optional<HttpCall> PrepareCall(const CommandView& c) const override {
    if (!IsTransform(c.kind)) return std::nullopt;
    HttpCall call;
    call.method = "GET";
    call.path = std::string(kRecord) + "/salesOrder/eid:" + UrlEncode(SalesOrderExternalId(c)) + "?fields=id";
    return call;
  }
  std::string PrepareCacheKey(const CommandView& c) const override {
    return IsTransform(c.kind) ? "so:" + std::string(c.order_id) : "";
  }
  PrepareResult ParsePrepare(const CommandView& c, const HttpResponse& r) const override {
    PrepareResult out;
    if (r.status == 404) {
      out.kind = PrepareResult::kMissing;
      out.message = "sales order " + SalesOrderExternalId(c) + " not found in NetSuite";
      return out;
    }
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status == 200 && j.is_object() && j.contains("id")) {
      out.kind = PrepareResult::kProceed;
      out.value = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
      return out;
    }
    out.message = "cannot read the sales order's internal id: " + ErrorMessage(r);
    return out;
  }

  HttpCall BuildPost(const CommandView& c, std::string_view so_id) const override {
    HttpCall call;
    const ErpCompanyMapping* m = FindCompany(o_, c.company_code);
    const std::string subsidiary = m != nullptr && !m->erp_company.empty() ? m->erp_company : o_.document.subsidiary;
    const std::string location = m != nullptr && !m->location.empty() ? m->location : o_.document.location;
    const std::string customer = m != nullptr && !m->customer.empty() ? m->customer : o_.document.customer;
    nlohmann::json body = {{"externalId", std::string(c.command_id)}};
    auto items = [&](bool fulfil) {
      nlohmann::json list = nlohmann::json::array();
      if (c.command->lines() == nullptr) return list;
      for (const Line* l : *c.command->lines()) {
        nlohmann::json item;
        if (fulfil) {
          item = {{"orderLine", l->line_no()}, {"quantity", l->qty()}, {"itemReceive", true}};
        } else {
          item = {{"item", {{"externalId", l->sku() ? l->sku()->str() : ""}}},
                  {"quantity", l->qty()},
                  {"rate", MinorToDecimal(l->unit_price_minor())}};
          if (!location.empty()) item["location"] = {{"id", location}};
        }
        list.push_back(std::move(item));
      }
      return list;
    };
    auto header = [&] {
      if (!customer.empty()) body["entity"] = {{"id", customer}};
      if (!subsidiary.empty()) body["subsidiary"] = {{"id", subsidiary}};
      if (!location.empty()) body["location"] = {{"id", location}};
      if (!c.currency.empty()) body["currency"] = {{"refName", std::string(c.currency)}};
      body["tranDate"] = IsoDate(c.command->event_occurred_at_ns());
      body["otherRefNum"] = std::string(c.order_id);
    };
    switch (c.kind) {
      case CommandKind::CreateSalesOrder:
      case CommandKind::CreateCreditMemo: {
        const char* type = c.kind == CommandKind::CreateSalesOrder ? "salesOrder" : "creditMemo";
        call.method = "PUT";
        call.path = std::string(kRecord) + "/" + type + "/eid:" + UrlEncode(c.command_id);
        header();
        body["memo"] = "ordersync " + std::string(c.command_id);
        body["item"] = {{"items", items(false)}};
        break;
      }
      case CommandKind::PostGoodsIssue:
      case CommandKind::CreateInvoice: {
        const bool fulfil = c.kind == CommandKind::PostGoodsIssue;
        call.method = "POST";
        call.path = std::string(kRecord) + "/salesOrder/" + UrlEncode(so_id) + "/!transform/" +
                    (fulfil ? "itemFulfillment" : "invoice");
        body["tranDate"] = IsoDate(c.command->event_occurred_at_ns());
        if (fulfil) body["shipStatus"] = {{"id", "C"}};  // Shipped
        body["memo"] = "ordersync " + std::string(c.business_key);
        body["item"] = {{"items", items(fulfil)}};
        break;
      }
      case CommandKind::CancelSalesOrder:
        call.method = "PATCH";
        call.path = std::string(kRecord) + "/salesOrder/eid:" + UrlEncode(SalesOrderExternalId(c));
        body = {{"orderStatus", {{"id", "C"}}}, {"memo", "cancelled by ordersync " + std::string(c.command_id)}};
        break;
      case CommandKind::PostInventoryAdjustment: {
        call.method = "PUT";
        call.path = std::string(kRecord) + "/inventoryAdjustment/eid:" + UrlEncode(c.command_id);
        if (!subsidiary.empty()) body["subsidiary"] = {{"id", subsidiary}};
        if (!location.empty()) body["adjLocation"] = {{"id", location}};
        body["tranDate"] = IsoDate(c.command->event_occurred_at_ns());
        body["memo"] = "ordersync " + std::string(c.command_id);
        nlohmann::json list = nlohmann::json::array();
        if (c.command->lines() != nullptr) {
          for (const Line* l : *c.command->lines()) {
            nlohmann::json item = {{"item", {{"externalId", l->sku() ? l->sku()->str() : ""}}},
                                   {"adjustQtyBy", l->qty()}};
            if (!location.empty()) item["location"] = {{"id", location}};
            list.push_back(std::move(item));
          }
        }
        body["inventory"] = {{"items", list}};
        break;
      }
      default:
        break;  // unsupported kinds never get here (Post refuses them)
    }
    call.body = body.dump();
    AddTraceHeaders(c, &call);
    return call;
  }

  std::pair<std::string, std::string> CacheAfterPost(const CommandView& c, const HttpResponse& r) const override {
    if (c.kind != CommandKind::CreateSalesOrder) return {};
    return {"so:" + std::string(c.order_id), LocationId(r)};
  }

  bool PostIsIdempotent(CommandKind k) const override { return !IsTransform(k); }

  std::optional<HttpCall> BuildLookup(const CommandView& c) const override {
    HttpCall call;
    call.method = "GET";
    call.path = std::string(kRecord) + "/" + RecordType(c.kind) + "/eid:" +
                UrlEncode(c.kind == CommandKind::CancelSalesOrder ? SalesOrderExternalId(c) : std::string(c.command_id)) +
                "?fields=id";
    return call;
  }
  LookupResult ParseLookup(const CommandView&, const HttpResponse& r) const override {
    LookupResult out;
    if (r.status == 404) {
      out.verdict = LookupVerdict::kNotFound;
      return out;
    }
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status == 200 && j.is_object() && j.contains("id")) {
      out.verdict = LookupVerdict::kFound;
      out.document_id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
      return out;
    }
    out.message = "look-up answered " + std::to_string(r.status) + ": " + ErrorMessage(r);
    return out;
  }

  std::string DocumentId(const CommandView&, const HttpResponse& r) const override { return LocationId(r); }

  bool IsDuplicateAnswer(const CommandView&, const HttpResponse& r) const override {
    if (r.status != 400 && r.status != 409) return false;
    const std::string m = OErrorDetailsMessage(r.body);
    return m.find("DUP_RCRD") != std::string::npos || m.find("already exists") != std::string::npos;
  }

 private:
  static bool IsTransform(CommandKind k) {
    return k == CommandKind::PostGoodsIssue || k == CommandKind::CreateInvoice;
  }
  static std::string RecordType(CommandKind k) {
    switch (k) {
      case CommandKind::CreateSalesOrder: return "salesOrder";
      case CommandKind::PostGoodsIssue: return "itemFulfillment";
      case CommandKind::CreateInvoice: return "invoice";
      case CommandKind::CreateCreditMemo: return "creditMemo";
      case CommandKind::CancelSalesOrder: return "salesOrder";
      case CommandKind::PostInventoryAdjustment: return "inventoryAdjustment";
      default: return "salesOrder";
    }
  }
  static std::string SalesOrderExternalId(const CommandView& c) {
    std::string id;
    MakeCommandId(c.order_id, CommandKind::CreateSalesOrder, c.order_id, &id);
    return id;
  }

  HttpTargetOptions o_;
};

}  // namespace

Result<std::unique_ptr<ErpDialect>> CreateNetSuiteDialect(const HttpTargetOptions& options) {
  return std::unique_ptr<ErpDialect>(new NetSuiteDialect(options));
}

}  // namespace ordersync
