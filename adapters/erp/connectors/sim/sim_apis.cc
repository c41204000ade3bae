// The resources of each simulated ERP (see erp_http_simulator.h). Called with mu_ held.
// Each posting resource: faults first (PostingFaults), then the real system's duplicate
// rule, then a business rejection (Rejects), then the new document, then maybe a lost
// reply (LoseReply).
#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/jwt.h"
#include "adapters/erp/connectors/sim/sim_internal.h"

namespace ordersync {
namespace {

using nlohmann::json;

// "Field eq 'value'" of an OData $filter (the only form the connectors send).
std::pair<std::string, std::string> ParseEqFilter(const std::string& filter) {
  const size_t eq = filter.find(" eq '");
  if (eq == std::string::npos || filter.size() < eq + 6) return {};
  std::string value;
  for (size_t i = eq + 5; i < filter.size(); ++i) {
    if (filter[i] == '\'') {
      if (i + 1 < filter.size() && filter[i + 1] == '\'') {
        value.push_back('\'');
        ++i;
        continue;
      }
      break;
    }
    value.push_back(filter[i]);
  }
  return {filter.substr(0, eq), value};
}

std::string Param(const SimRequest& r, const std::string& k) {
  auto it = r.params.find(k);
  return it == r.params.end() ? "" : it->second;
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') s = s.substr(1, s.size() - 2);
  return s;
}

std::string Str(const json& j, const char* k) {
  if (!j.is_object() || !j.contains(k)) return "";
  return j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
}

}  // namespace

SimAnswer ErpHttpSimulator::Impl::RejectAnswer(const std::string& what) {
  const std::string msg = what + " (simulated business rejection)";
  if (o_.api == "netsuite" || o_.api == "oracle_fusion") {
    return Json(400, json{{"type", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"},
                          {"title", "Bad Request"},
                          {"status", 400},
                          {"o:errorDetails", json::array({{{"detail", msg}, {"o:errorCode", "USER_ERROR"}}})}}
                         .dump());
  }
  if (o_.api == "sap_s4") {
    return Json(400, json{{"error", {{"code", "V1/392"}, {"message", {{"lang", "en"}, {"value", msg}}}}}}.dump());
  }
  if (o_.api == "d365_bc") {
    return Json(400, json{{"error", {{"code", "Internal_ValidationError"}, {"message", msg}}}}.dump());
  }
  return Json(400, json{{"error", msg}}.dump());
}

// ---------------------------------------------------------------- NetSuite

SimAnswer ErpHttpSimulator::Impl::HandleNetSuite(const SimRequest& req) {
  static const std::string kPrefix = "/services/rest/record/v1/";
  auto not_found = [] {
    return Json(404, json{{"title", "Not Found"},
                          {"status", 404},
                          {"o:errorDetails", json::array({{{"detail", "The record instance does not exist. Provide a valid record instance ID."},
                                                           {"o:errorCode", "NONEXISTENT_ID"}}})}}
                         .dump());
  };
  if (req.path == "/services/rest/query/v1/suiteql") return QueryNetSuite(req);
  if (req.path.rfind(kPrefix, 0) != 0) return not_found();
  const std::string rest = req.path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string::npos) return not_found();
  const std::string type = rest.substr(0, slash);
  const std::string tail = rest.substr(slash + 1);
  auto created = [&](const std::string& t, const std::string& id) {
    SimAnswer a = Json(204, "");
    a.headers.emplace_back("Location", "https://sim.suitetalk.api.netsuite.com" + kPrefix + t + "/" + id);
    return a;
  };
  const json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (tail.rfind("eid:", 0) == 0) {
    const std::string eid = tail.substr(4);
    const std::vector<const SimDocument*> found = Find(type, eid);
    if (req.method == "GET") {
      if (found.empty()) return not_found();
      return Json(200, json{{"id", found[0]->id}, {"externalId", eid}}.dump());
    }
    if (req.method == "PUT") {  // upsert
      if (auto f = PostingFaults(req)) return *f;
      if (!found.empty()) {
        const std::string* cmd = req.Header("x-ordersync-command-id");
        if (cmd != nullptr && posted_command_ids_.count(*cmd)) ++summary_.base.duplicates_received;
        if (LoseReply()) {
          SimAnswer a;
          a.withhold = true;
          return a;
        }
        return created(type, found[0]->id);  // update of the same record
      }
      if (Rejects(req)) return RejectAnswer("Invalid Field Value for the following field: item");
      const std::string kind = type == "salesOrder" ? "CreateSalesOrder"
                               : type == "creditMemo" ? "CreateCreditMemo"
                                                      : "PostInventoryAdjustment";
      SimDocument& d = Post(req, type, eid, true, kind, NextId("", 1000));
      if (LoseReply()) {
        SimAnswer a;
        a.withhold = true;
        return a;
      }
      return created(type, d.id);
    }
    if (req.method == "PATCH") {
      if (auto f = PostingFaults(req)) return *f;
      if (found.empty()) return not_found();
      const std::string id = found[0]->id;
      SimDocument* so = FindById(type, id);
      const std::string* cmd = req.Header("x-ordersync-command-id");
      if (so->state == "C" || (cmd != nullptr && posted_command_ids_.count(*cmd))) {
        ++summary_.base.duplicates_received;  // a repeated cancel: same record, same state
      } else {
        if (Rejects(req)) return RejectAnswer("Cannot cancel an order with fulfilled lines");
        so->state = "C";
        Post(req, "salesOrderCancel", eid, true, "CancelSalesOrder", id);
      }
      if (LoseReply()) {
        SimAnswer a;
        a.withhold = true;
        return a;
      }
      return created(type, id);
    }
    return Json(405, R"j({"title":"Method Not Allowed","status":405})j");
  }
  // <type>/<id>/!transform/<target>
  const size_t t = tail.find("/!transform/");
  if (req.method == "POST" && t != std::string::npos && type == "salesOrder") {
    const std::string so_id = tail.substr(0, t);
    const std::string target = tail.substr(t + 12);
    if (target != "itemFulfillment" && target != "invoice") return not_found();
    if (auto f = PostingFaults(req)) return *f;
    if (FindById("salesOrder", so_id) == nullptr) return not_found();
    const std::string eid = Str(body, "externalId");
    if (!eid.empty() && !Find(target, eid).empty()) {
      ++summary_.base.duplicates_received;
      return Json(400, json{{"title", "Bad Request"},
                            {"status", 400},
                            {"o:errorDetails", json::array({{{"detail", "A record with the same external ID already exists: " + eid},
                                                             {"o:errorCode", "DUP_RCRD"}}})}}
                           .dump());
    }
    if (Rejects(req)) return RejectAnswer("You have entered an Invalid Field Value for the following field: item");
    SimDocument& d =
        Post(req, target, eid, true, target == "invoice" ? "CreateInvoice" : "PostGoodsIssue", NextId("", 5000));
    d.parent = so_id;
    if (LoseReply()) {
      SimAnswer a;
      a.withhold = true;
      return a;
    }
    return created(target, d.id);
  }
  return not_found();
}

// ---------------------------------------------------------------- SAP S/4HANA

SimAnswer ErpHttpSimulator::Impl::HandleSap(const SimRequest& req) {
  static const std::string kV2 = "/sap/opu/odata/sap/";
  static const std::string kBilling = "/sap/opu/odata4/sap/api_billingdocument/srvd_a2x/sap/billingdocument/0001/";
  auto error = [](int status, const std::string& code, const std::string& msg) {
    return Json(status, json{{"error", {{"code", code}, {"message", {{"lang", "en"}, {"value", msg}}}}}}.dump());
  };
  auto lost = [] {
    SimAnswer a;
    a.withhold = true;
    return a;
  };
  const json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  // Creates keyed by a reference field: sales orders, credit memo requests, material docs.
  struct Entity {
    const char* service;
    const char* set;
    const char* key;
    const char* kind;
    uint64_t first;
  };
  static const Entity kEntities[] = {
      {"API_SALES_ORDER_SRV", "A_SalesOrder", "SalesOrder", "CreateSalesOrder", 1000000},
      {"API_CREDIT_MEMO_REQUEST_SRV", "A_CreditMemoRequest", "CreditMemoRequest", "CreateCreditMemo", 60000000},
      {"API_MATERIAL_DOCUMENT_SRV", "A_MaterialDocumentHeader", "MaterialDocument", "PostInventoryAdjustment",
       4900000000},
  };
  for (const Entity& e : kEntities) {
    const std::string path = kV2 + e.service + "/" + e.set;
    if (req.path == kV2 + e.service + "/" || req.path == kV2 + e.service) {
      return Json(200, json{{"d", {{"EntitySets", json::array({e.set})}}}}.dump());
    }
    if (req.path != path) continue;
    const std::string ref_field = std::string(e.set) == "A_MaterialDocumentHeader" ? "MaterialDocumentHeaderText"
                                                                                     : "PurchaseOrderByCustomer";
    if (req.method == "GET") {
      if (Param(req, "$filter").find("CreationDate ge ") != std::string::npos) return QuerySap(req, e.set, e.key);
      auto [field, value] = ParseEqFilter(Param(req, "$filter"));
      json rows = json::array();
      for (const SimDocument* d : Find(e.set, value)) rows.push_back({{e.key, d->id}});
      (void)field;
      return Json(200, json{{"d", {{"results", rows}}}}.dump());
    }
    if (req.method != "POST") return error(405, "405", "Method not allowed");
    if (auto f = PostingFaults(req)) return *f;
    // The reference field may be a configured extension field: take any YY1_ field too.
    std::string reference = Str(body, ref_field.c_str());
    if (body.is_object()) {
      for (const auto& [k, v] : body.items()) {
        if (k.rfind("YY1_", 0) == 0 && v.is_string()) reference = v.get<std::string>();
      }
    }
    if (Rejects(req)) return error(400, "V1/392", std::string("Material is blocked for sales in ") + e.set);
    SimDocument& d = Post(req, e.set, reference, false, e.kind, NextId(std::string(e.set) + ":", e.first).substr(std::string(e.set).size() + 1));
    if (LoseReply()) return lost();
    SimAnswer a = Json(201, json{{"d", {{e.key, d.id}, {ref_field, reference}}}}.dump());
    a.headers.emplace_back("Location", req.path + "('" + d.id + "')");
    return a;
  }
  // Outbound delivery: header read (ETag + goods movement status) and PostGoodsIssue.
  const std::string delivery_srv = kV2 + "API_OUTBOUND_DELIVERY_SRV;v=0002/";
  if (req.path.rfind(delivery_srv + "A_OutbDeliveryHeader(", 0) == 0 && req.method == "GET") {
    const size_t open = req.path.find('(');
    const std::string dlv = Unquote(req.path.substr(open + 1, req.path.rfind(')') - open - 1));
    const bool issued = !Find("GoodsIssue", dlv).empty();
    SimAnswer a = Json(200, json{{"d", {{"DeliveryDocument", dlv}, {"OverallGoodsMovementStatus", issued ? "C" : "A"}}}}.dump());
    a.headers.emplace_back("ETag", std::string("W/\"") + (issued ? "2" : "1") + "\"");
    return a;
  }
  if (req.path == delivery_srv + "PostGoodsIssue" && req.method == "POST") {
    const std::string dlv = Unquote(Param(req, "DeliveryDocument"));
    if (dlv.empty()) return error(400, "/IWBEP/CM_MGW_RT/022", "Parameter DeliveryDocument is missing");
    if (auto f = PostingFaults(req)) return *f;
    const bool issued = !Find("GoodsIssue", dlv).empty();
    const std::string* if_match = req.Header("if-match");
    if (if_match == nullptr) return error(428, "/IWBEP/CM_MGW_RT/004", "Precondition required (If-Match)");
    if (*if_match != "*" && *if_match != std::string("W/\"") + (issued ? "2" : "1") + "\"") {
      return error(412, "/IWBEP/CM_MGW_RT/004", "Precondition failed: the delivery was changed");
    }
    if (issued) {
      ++summary_.base.duplicates_received;
      return error(400, "VL/609", "Goods issue for delivery " + dlv + " has already been posted");
    }
    if (Rejects(req)) return error(400, "VL/361", "Delivery " + dlv + ": picking quantity does not match");
    Post(req, "GoodsIssue", dlv, true, "PostGoodsIssue", dlv);
    if (LoseReply()) return lost();
    return Json(200, json{{"d", {{"DeliveryDocument", dlv}, {"OverallGoodsMovementStatus", "C"}}}}.dump());
  }
  // Billing (OData v4).
  if (req.path == kBilling + "BillingDocument/SAP__self.CreateFromSDDocument" && req.method == "POST") {
    std::string sd;
    if (body.is_object() && body.contains("_Reference") && body["_Reference"].is_array() && !body["_Reference"].empty()) {
      sd = Str(body["_Reference"][0], "SDDocument");
    }
    if (sd.empty()) return error(400, "BAD_REQUEST", "_Reference/SDDocument missing");
    if (auto f = PostingFaults(req)) return *f;
    if (!Find("BillingDocument", sd).empty()) {
      ++summary_.base.duplicates_received;
      return error(400, "VF/016", "Document " + sd + " is already fully billed; no billing document created");
    }
    if (Rejects(req)) return error(400, "VF/163", "Billing for " + sd + " blocked: pricing incomplete");
    SimDocument& d = Post(req, "BillingDocument", sd, true, "CreateInvoice", NextId("", 90000000));
    if (LoseReply()) return lost();
    return Json(200, json{{"@odata.context", "$metadata#BillingDocument"},
                          {"value", json::array({{{"BillingDocument", d.id}, {"SDDocument", sd}}})}}
                         .dump());
  }
  if (req.path == kBilling + "BillingDocumentItem" && req.method == "GET") {
    auto [field, value] = ParseEqFilter(Param(req, "$filter"));
    json rows = json::array();
    for (const SimDocument* d : Find("BillingDocument", value)) rows.push_back({{"BillingDocument", d->id}});
    return Json(200, json{{"value", rows}}.dump());
  }
  return error(404, "/IWBEP/CM_MGW_RT/020", "Resource not found for segment '" + req.path + "'");
}

// ---------------------------------------------------------------- Business Central

SimAnswer ErpHttpSimulator::Impl::HandleBc(const SimRequest& req) {
  auto error = [](int status, const std::string& code, const std::string& msg) {
    return Json(status, json{{"error", {{"code", code}, {"message", msg}}}}.dump());
  };
  const size_t api = req.path.find("/api/v2.0/companies(");
  if (api == std::string::npos) return error(404, "BadRequest_NotFound", "The request URL is not valid.");
  const std::string rest = req.path.substr(api + 20);
  const size_t close = rest.find(")/");
  if (close == std::string::npos) return error(404, "BadRequest_NotFound", "The request URL is not valid.");
  const std::string company = rest.substr(0, close);
  const std::string collection = rest.substr(close + 2);
  static const std::map<std::string, std::pair<std::string, std::string>> kCollections = {
      {"salesOrders", {"CreateSalesOrder", "S-ORD"}},
      {"salesInvoices", {"CreateInvoice", "S-INV"}},
      {"salesCreditMemos", {"CreateCreditMemo", "S-CR"}}};
  auto it = kCollections.find(collection);
  if (it == kCollections.end()) return error(404, "BadRequest_NotFound", "Resource '" + collection + "' not found");
  const std::string key = company + "/" + collection;
  if (req.method == "GET") {
    if (Param(req, "$filter").find("lastModifiedDateTime ge ") != std::string::npos) {
      return QueryBc(req, company, collection);
    }
    auto [field, value] = ParseEqFilter(Param(req, "$filter"));
    json rows = json::array();
    for (const SimDocument* d : Find(key, value)) rows.push_back({{"id", d->id}, {"number", d->number}});
    return Json(200, json{{"value", rows}}.dump());
  }
  if (req.method != "POST") return error(405, "BadRequest_MethodNotAllowed", "Method not allowed");
  const json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (!body.is_object()) return error(400, "BadRequest", "Invalid JSON body");
  if (auto f = PostingFaults(req)) return *f;
  if (Rejects(req)) return error(400, "Internal_ValidationError", "Item is blocked. Customer No. must not be blank");
  const std::string reference = Str(body, "externalDocumentNumber");
  const std::string number = NextId(it->second.second, 101001);
  // BC has no uniqueness on externalDocumentNumber: a repeat makes a second document.
  SimDocument& d = Post(req, key, reference, false, it->second.first, Sha256Hex(number).substr(0, 32), number);
  if (LoseReply()) {
    SimAnswer a;
    a.withhold = true;
    return a;
  }
  SimAnswer a = Json(201, json{{"@odata.etag", "W/\"1\""}, {"id", d.id}, {"number", d.number},
                               {"externalDocumentNumber", reference}}.dump());
  a.headers.emplace_back("Location", req.path + "(" + d.id + ")");
  return a;
}

// ---------------------------------------------------------------- Oracle Fusion

SimAnswer ErpHttpSimulator::Impl::HandleOracle(const SimRequest& req) {
  static const std::string kPrefix = "/fscmRestApi/resources/11.13.18.05/";
  if (req.path.rfind(kPrefix, 0) != 0) return Json(404, R"j({"title":"Not Found","status":"404"})j");
  const std::string resource = req.path.substr(kPrefix.size());
  const bool order = resource == "salesOrdersForOrderHub";
  if (!order && resource != "receivablesInvoices" && resource != "receivablesCreditMemos") {
    return Json(404, R"j({"title":"Not Found","status":"404"})j");
  }
  if (req.method == "GET") {
    // q=SourceTransactionId='X';SourceTransactionSystem='S'  or  q=TransactionNumber='X'
    const std::string q = Param(req, "q");
    if (q.find("CreationDate >= ") != std::string::npos) return QueryOracle(req, resource);
    std::string value;
    const size_t p = q.find("='");
    if (p != std::string::npos) value = q.substr(p + 2, q.find('\'', p + 2) - p - 2);
    json items = json::array();
    for (const SimDocument* d : Find(resource, value)) {
      items.push_back(order ? json{{"OrderNumber", d->number}, {"HeaderId", d->id}}
                            : json{{"CustomerTransactionId", d->id}});
    }
    return Json(200, json{{"items", items}, {"count", items.size()}, {"hasMore", false}}.dump());
  }
  if (req.method != "POST") return Json(405, R"j({"title":"Method Not Allowed","status":"405"})j");
  const json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (auto f = PostingFaults(req)) return *f;
  const std::string reference = order ? Str(body, "SourceTransactionId") : Str(body, "TransactionNumber");
  if (!Find(resource, reference).empty()) {
    ++summary_.base.duplicates_received;
    SimAnswer a;
    a.status = 400;
    a.content_type = "text/plain";
    a.body = order ? "The order with source transaction " + reference + " from source system " +
                         Str(body, "SourceTransactionSystem") + " already exists."
                   : "The transaction number " + reference + " already exists for this transaction source.";
    return a;
  }
  if (Rejects(req)) return RejectAnswer(order ? "The value of the attribute ProductNumber isn't valid"
                                              : "The bill-to customer account isn't valid");
  const std::string id = NextId(resource + ":", 300100000);
  SimDocument& d = Post(req, resource, reference, true,
                        order ? "CreateSalesOrder" : resource == "receivablesInvoices" ? "CreateInvoice" : "CreateCreditMemo",
                        id.substr(resource.size() + 1), order ? NextId("OH", 500001) : "");
  if (LoseReply()) {
    SimAnswer a;
    a.withhold = true;
    return a;
  }
  SimAnswer a = Json(201, order ? json{{"HeaderId", d.id}, {"OrderNumber", d.number}, {"SourceTransactionId", reference}}.dump()
                                : json{{"CustomerTransactionId", d.id}, {"TransactionNumber", reference}}.dump());
  a.headers.emplace_back("Location", req.path + "/" + d.id);
  return a;
}

// ---------------------------------------------------------------- webhook

SimAnswer ErpHttpSimulator::Impl::HandleWebhook(const SimRequest& req) {
  if (req.method != "POST") return Json(405, R"j({"error":"POST only"})j");
  const std::string* key = req.Header("idempotency-key");
  if (key == nullptr || key->empty()) return Json(400, R"j({"error":"Idempotency-Key header required"})j");
  const std::string hash = Sha256Hex(req.body);
  auto it = idempotency_.find(*key);
  if (it != idempotency_.end()) {
    if (it->second.body_hash != hash) {
      return Json(422, R"j({"error":"Idempotency-Key reused with a different request body"})j");
    }
    if (!it->second.done) return Json(409, R"j({"error":"a request with this Idempotency-Key is in progress"})j");
    ++summary_.replayed;
    ++summary_.base.duplicates_received;
    SimAnswer a = it->second.answer;
    a.headers.emplace_back("Idempotent-Replayed", "true");
    return a;
  }
  const json body = json::parse(req.body, nullptr, false);
  if (!body.is_object()) return Json(400, R"j({"error":"body is not a JSON object"})j");
  if (auto f = PostingFaults(req)) return *f;  // nothing stored: a retry is a first request
  // A rejection is not stored: the same key may be sent again after the data is fixed.
  if (Rejects(req)) return RejectAnswer("command refused by the receiver");
  SimDocument& d = Post(req, "webhook", *key, true, Str(body, "kind"), NextId("WH-", 1));
  SimAnswer a = Json(201, json{{"document_id", d.id}, {"command_id", *key}}.dump());
  idempotency_[*key] = StoredAnswer{hash, a, true};
  if (LoseReply()) {
    SimAnswer lost;
    lost.withhold = true;
    return lost;
  }
  return a;
}

}  // namespace ordersync
