// Document queries of the simulated ERPs: the period query `ordersync reconcile
// --source api` sends (adapters/reconcile/*_document_query.cc), answered over the
// documents held, in the real system's shape and with its paging. Called with mu_ held.
// Documents are listed in creation order; a page never holds more than
// ErpHttpSimOptions::query_page_max of them.
//
//   netsuite  POST /services/rest/query/v1/suiteql?limit=L&offset=O   (Prefer: transient)
//             {"q":"SELECT ... FROM transaction t WHERE ... t.createddate >= TO_TIMESTAMP('<t>', ..)
//                   AND t.createddate < TO_TIMESTAMP('<t>', ..) ..."}
//             -> {"links":[{"rel":"next",...}], "count", "hasMore", "offset", "totalResults", "items":[...]}
//   sap_s4    GET <service>/<set>?$filter=CreationDate ge datetime'<d>' and CreationDate le datetime'<d>'
//                 ...&$expand=<items>&$top=&$skip=&$inlinecount=allpages
//             -> {"d":{"results":[...], "__count":"n", "__next":"<url>"}}
//   d365_bc   GET companies(<id>)/<collection>?$filter=lastModifiedDateTime ge <t> and
//                 lastModifiedDateTime lt <t> ...&$expand=<lines>   (Prefer: odata.maxpagesize=n)
//             -> {"@odata.context", "value":[...], "@odata.nextLink":"<url>&$skiptoken=<n>"}
//   oracle    GET <resource>?q=CreationDate >= '<t>' and CreationDate < '<t>' ...
//                 &limit=&offset=&totalResults=true&expand=<lines>
//             -> {"items":[...], "count", "hasMore", "limit", "offset", "totalResults", "links"}
//
// Only the period is read from a query (the rest of a SuiteQL statement or a $filter is
// taken as the connector writes it: documents carrying a reference). A query without a
// period the simulator can read gets the real system's 400.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/http_client.h"
#include "adapters/erp/connectors/sim/sim_internal.h"
#include "adapters/records/field_parse.h"

namespace ordersync {
namespace {

using nlohmann::json;

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerDay = 86'400'000'000'000;

std::string Param(const SimRequest& r, const std::string& k) {
  auto it = r.params.find(k);
  return it == r.params.end() ? "" : it->second;
}

// The text after `start` in `s` up to the first `end` character (nullopt: no `start`).
std::optional<std::string> After(const std::string& s, const std::string& start, char end) {
  const size_t p = s.find(start);
  if (p == std::string::npos) return std::nullopt;
  const size_t from = p + start.size();
  const size_t to = s.find(end, from);
  return s.substr(from, to == std::string::npos ? std::string::npos : to - from);
}

bool Time(const std::optional<std::string>& text, int64_t* ns) {
  return text.has_value() && ParseTimestampNs(*text, ns);
}

uint64_t Count(const std::string& text, uint64_t fallback) {
  if (text.empty()) return fallback;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  return end != nullptr && *end == '\0' ? v : fallback;
}

std::string Iso(int64_t ns, const char* zone = "Z") {
  std::string s = FormatTimestampNs(ns - ns % 1'000'000'000);  // whole seconds, "...Z"
  if (std::string_view(zone) != "Z" && !s.empty()) s = s.substr(0, s.size() - 1) + zone;
  return s;
}

std::string Money(int64_t minor) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%lld.%02lld", minor < 0 ? "-" : "", std::llabs(minor) / 100LL,
                std::llabs(minor) % 100LL);
  return buf;
}

int64_t Minor(const json& v) {
  if (v.is_number()) return std::llround(v.get<double>() * 100.0);
  if (v.is_string()) return std::llround(std::strtod(v.get<std::string>().c_str(), nullptr) * 100.0);
  return 0;
}

int64_t Number(const json& v) {
  if (v.is_number()) return static_cast<int64_t>(std::llround(v.get<double>()));
  if (v.is_string()) return std::strtoll(v.get<std::string>().c_str(), nullptr, 10);
  return 0;
}

json Body(const SimDocument& d) {
  json b = json::parse(d.body.empty() ? "{}" : d.body, nullptr, false);
  return b.is_object() ? b : json::object();
}

// The top-level scalar fields of a posted body (what the real record echoes back).
json Scalars(const json& body) {
  json out = json::object();
  for (const auto& [k, v] : body.items()) {
    if (!v.is_array() && !v.is_object()) out[k] = v;
  }
  return out;
}

// The query string of `params` with `skip_key` replaced by `skip`.
std::string QueryString(const std::map<std::string, std::string>& params, const std::string& skip_key, uint64_t skip,
                        const std::string& drop = "") {
  std::string out;
  for (const auto& [k, v] : params) {
    if (k == skip_key || k == drop) continue;
    out += (out.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
  }
  return out + (out.empty() ? "" : "&") + UrlEncode(skip_key) + "=" + std::to_string(skip);
}

}  // namespace

void ErpHttpSimulator::Impl::ApplyQueryFault(SimAnswer* a) const {
  if (query_fault_ == "truncated") a->body.resize(a->body.size() / 2);
}

// ---------------------------------------------------------------- NetSuite SuiteQL

SimAnswer ErpHttpSimulator::Impl::QueryNetSuite(const SimRequest& req) {
  auto error = [](int status, const std::string& code, const std::string& detail) {
    return Json(status, json{{"type", "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"},
                             {"title", "Bad Request"},
                             {"status", status},
                             {"o:errorDetails", json::array({{{"detail", detail}, {"o:errorCode", code}}})}}
                            .dump());
  };
  if (req.method != "POST") return error(405, "INVALID_REQUEST", "SuiteQL queries are POST requests");
  const std::string* prefer = req.Header("prefer");
  if (prefer == nullptr || prefer->find("transient") == std::string::npos) {
    return error(400, "INVALID_REQUEST", "The request header Prefer: transient is required for SuiteQL");
  }
  const json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  const std::string q = body.is_object() && body.contains("q") && body["q"].is_string() ? body["q"].get<std::string>() : "";
  int64_t from = 0, to = 0;
  if (q.find("FROM transaction") == std::string::npos ||
      !Time(After(q, "t.createddate >= TO_TIMESTAMP('", '\''), &from) ||
      !Time(After(q, "t.createddate < TO_TIMESTAMP('", '\''), &to)) {
    return error(400, "INVALID_SEARCH", "Invalid search query. Detailed unprocessed description follows. " + q.substr(0, 200));
  }
  static const std::map<std::string, std::string> kTypes = {{"salesOrder", "SalesOrd"},
                                                           {"itemFulfillment", "ItemShip"},
                                                           {"invoice", "CustInvc"},
                                                           {"creditMemo", "CustCred"},
                                                           {"inventoryAdjustment", "InvAdjst"}};
  std::vector<const SimDocument*> docs;
  for (const auto& [collection, type] : kTypes) {
    auto it = documents_.find(collection);
    if (it == documents_.end()) continue;
    for (const SimDocument& d : it->second) {
      if (!d.reference.empty() && d.created_ns >= from && d.created_ns < to) docs.push_back(&d);
    }
  }
  std::sort(docs.begin(), docs.end(), [](const SimDocument* a, const SimDocument* b) {
    return a->created_ns != b->created_ns ? a->created_ns < b->created_ns : Number(a->id) < Number(b->id);
  });
  const uint64_t limit = std::min<uint64_t>(std::max<uint64_t>(Count(Param(req, "limit"), 1000), 1), o_.query_page_max);
  const uint64_t offset = Count(Param(req, "offset"), 0);
  std::unordered_map<std::string_view, const SimDocument*> sales_orders;  // internal id -> record
  if (auto it = documents_.find("salesOrder"); it != documents_.end()) {
    for (const SimDocument& so : it->second) sales_orders.emplace(so.id, &so);
  }
  json items = json::array();
  for (uint64_t i = offset; i < docs.size() && items.size() < limit; ++i) {
    const SimDocument& d = *docs[i];
    const json b = Body(d);
    json header = b;  // a transform inherits the sales order's header fields
    if (!d.parent.empty()) {
      if (auto so = sales_orders.find(d.parent); so != sales_orders.end()) header = Body(*so->second);
    }
    const std::string type = kTypes.at(d.collection);
    const bool adjustment = type == "InvAdjst";
    const json* lines = adjustment ? (b.contains("inventory") ? &b["inventory"] : nullptr)
                                   : (b.contains("item") ? &b["item"] : nullptr);
    int64_t quantity = 0, amount = 0;
    bool priced = false;
    if (lines != nullptr && lines->contains("items") && (*lines)["items"].is_array()) {
      for (const json& l : (*lines)["items"]) {
        const int64_t q = Number(l.value(adjustment ? "adjustQtyBy" : "quantity", json(0)));
        quantity += adjustment ? q : std::llabs(q);
        if (l.contains("rate")) {
          priced = true;
          amount += std::llabs(q) * Minor(l["rate"]);
        }
      }
    }
    json item = {{"links", json::array()},
                 {"externalid", d.reference},
                 {"type", type},
                 {"createdat", Iso(d.created_ns)},
                 {"quantity", std::to_string(quantity)}};
    if (query_fault_ != "no_number") item["id"] = d.id;
    item["tranid"] = d.number;
    if (header.contains("otherRefNum")) item["otherrefnum"] = header["otherRefNum"];
    if (header.contains("subsidiary")) item["subsidiary"] = header["subsidiary"].value("id", "");
    if (header.contains("currency")) item["currency"] = header["currency"].value("refName", "");
    if (priced && !adjustment) item["foreigntotal"] = Money(amount);
    items.push_back(std::move(item));
  }
  const bool more = offset + items.size() < docs.size();
  const std::string self = base_url() + req.path;
  json links = json::array({{{"rel", "self"}, {"href", self + "?limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset)}}});
  if (more) {
    links.push_back({{"rel", "next"},
                     {"href", self + "?limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset + limit)}});
  }
  SimAnswer a = Json(200, json{{"links", links},
                               {"count", items.size()},
                               {"hasMore", more},
                               {"items", items},
                               {"offset", offset},
                               {"totalResults", docs.size()}}
                              .dump());
  ApplyQueryFault(&a);
  return a;
}

// ---------------------------------------------------------------- SAP OData v2

SimAnswer ErpHttpSimulator::Impl::QuerySap(const SimRequest& req, const std::string& entity_set,
                                          const std::string& key_field) {
  const std::string filter = Param(req, "$filter");
  int64_t from = 0, to = 0;
  if (!Time(After(filter, "CreationDate ge datetime'", '\''), &from) ||
      !Time(After(filter, "CreationDate le datetime'", '\''), &to)) {
    return Json(400, json{{"error", {{"code", "/IWBEP/CM_MGW_RT/003"},
                                     {"message", {{"lang", "en"}, {"value", "Invalid filter expression: '" + filter + "'"}}}}}}
                         .dump());
  }
  const bool material = entity_set == "A_MaterialDocumentHeader";
  const std::string items_nav = material ? "to_MaterialDocumentItem" : "to_Item";
  const bool expand = Param(req, "$expand").find(items_nav) != std::string::npos;
  std::vector<const SimDocument*> docs;
  if (auto it = documents_.find(entity_set); it != documents_.end()) {
    for (const SimDocument& d : it->second) {
      const int64_t day = d.created_ns - d.created_ns % kNsPerDay;  // CreationDate is a date
      if (!d.reference.empty() && day >= from && day <= to) docs.push_back(&d);
    }
  }
  const uint64_t skip = Count(Param(req, "$skip"), 0);
  const uint64_t top = Count(Param(req, "$top"), UINT64_MAX);
  const uint64_t page = std::min<uint64_t>(top, o_.query_page_max);
  json results = json::array();
  for (uint64_t i = skip; i < docs.size() && results.size() < page; ++i) {
    const SimDocument& d = *docs[i];
    const json b = Body(d);
    json r = Scalars(b);
    const std::string uri = base_url() + req.path + "('" + d.id + "')";
    r["__metadata"] = {{"id", uri}, {"uri", uri}, {"type", entity_set.substr(2) + "Type"}};
    if (query_fault_ != "no_number") r[key_field] = d.id;
    else r.erase(key_field);
    if (material) r["MaterialDocumentYear"] = Iso(d.created_ns).substr(0, 4);
    const int64_t ms = (d.created_ns - d.created_ns % kNsPerDay) / kNsPerMs;
    r["CreationDate"] = "/Date(" + std::to_string(ms) + ")/";
    const int64_t secs = (d.created_ns % kNsPerDay) / 1'000'000'000;
    char t[32];
    std::snprintf(t, sizeof(t), "PT%02lldH%02lldM%02lldS", static_cast<long long>(secs / 3600),
                  static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    r["CreationTime"] = t;
    if (expand) {
      json lines = b.contains(items_nav) && b[items_nav].is_array() ? b[items_nav] : json::array();
      r[items_nav] = {{"results", lines}};
    } else {
      r[items_nav] = {{"__deferred", {{"uri", uri + "/" + items_nav}}}};
    }
    results.push_back(std::move(r));
  }
  json d = {{"results", results}};
  if (Param(req, "$inlinecount") == "allpages") d["__count"] = std::to_string(docs.size());
  const uint64_t next = skip + results.size();
  // Server-side paging: the server cut the page short of what the client asked for.
  if (next < docs.size() && results.size() < top && results.size() == page) {
    std::map<std::string, std::string> params = req.params;
    if (top != UINT64_MAX) params["$top"] = std::to_string(top - results.size());
    d["__next"] = base_url() + req.path + "?" + QueryString(params, "$skip", next);
  }
  SimAnswer a = Json(200, json{{"d", d}}.dump());
  ApplyQueryFault(&a);
  return a;
}

// ---------------------------------------------------------------- Business Central

SimAnswer ErpHttpSimulator::Impl::QueryBc(const SimRequest& req, const std::string& company,
                                         const std::string& collection) {
  const std::string filter = Param(req, "$filter");
  int64_t from = 0, to = 0;
  if (!Time(After(filter, "lastModifiedDateTime ge ", ' '), &from) ||
      !Time(After(filter, "lastModifiedDateTime lt ", ' '), &to)) {
    return Json(400, json{{"error", {{"code", "BadRequest"}, {"message", "Invalid filter clause: " + filter}}}}.dump());
  }
  const std::string lines_field = collection == "salesOrders"     ? "salesOrderLines"
                                  : collection == "salesInvoices" ? "salesInvoiceLines"
                                                                  : "salesCreditMemoLines";
  const bool expand = Param(req, "$expand").find(lines_field) != std::string::npos;
  std::vector<const SimDocument*> docs;
  if (auto it = documents_.find(company + "/" + collection); it != documents_.end()) {
    for (const SimDocument& d : it->second) {
      if (!d.reference.empty() && d.created_ns >= from && d.created_ns < to) docs.push_back(&d);
    }
  }
  uint64_t page = o_.query_page_max;
  if (const std::string* prefer = req.Header("prefer")) {
    if (auto n = After(*prefer, "odata.maxpagesize=", ',')) page = std::min<uint64_t>(page, std::max<uint64_t>(Count(*n, page), 1));
  }
  const uint64_t skip = Count(Param(req, "$skiptoken"), 0);
  json value = json::array();
  for (uint64_t i = skip; i < docs.size() && value.size() < page; ++i) {
    const SimDocument& d = *docs[i];
    const json b = Body(d);
    json r = Scalars(b);
    r["@odata.etag"] = "W/\"1\"";
    r["id"] = d.id;
    if (query_fault_ != "no_number") r["number"] = d.number;
    r["lastModifiedDateTime"] = Iso(d.created_ns);
    int64_t amount = 0;
    const json lines = b.contains(lines_field) && b[lines_field].is_array() ? b[lines_field] : json::array();
    for (const json& l : lines) amount += Number(l.value("quantity", json(0))) * Minor(l.value("unitPrice", json(0)));
    r["totalAmountExcludingTax"] = static_cast<double>(amount) / 100.0;
    if (expand) r[lines_field] = lines;
    value.push_back(std::move(r));
  }
  json out = {{"@odata.context", base_url() + "/api/v2.0/$metadata#companies(" + company + ")/" + collection},
              {"value", value}};
  if (skip + value.size() < docs.size()) {
    out["@odata.nextLink"] = base_url() + req.path + "?" + QueryString(req.params, "$skiptoken", skip + value.size());
  }
  SimAnswer a = Json(200, out.dump());
  ApplyQueryFault(&a);
  return a;
}

// ---------------------------------------------------------------- Oracle Fusion

SimAnswer ErpHttpSimulator::Impl::QueryOracle(const SimRequest& req, const std::string& resource) {
  const std::string q = Param(req, "q");
  int64_t from = 0, to = 0;
  if (!Time(After(q, "CreationDate >= '", '\''), &from) || !Time(After(q, "CreationDate < '", '\''), &to)) {
    return Json(400, json{{"title", "Bad Request"}, {"status", "400"}, {"detail", "URL request parameter q with value " + q + " is not valid."}}.dump());
  }
  const bool order = resource == "salesOrdersForOrderHub";
  const std::string lines_field = order ? "lines"
                                  : resource == "receivablesInvoices" ? "receivablesInvoiceLines"
                                                                      : "receivablesCreditMemoLines";
  const std::string expand_param = Param(req, "expand");
  const bool expand = expand_param == "all" || expand_param.find(lines_field) != std::string::npos;
  std::vector<const SimDocument*> docs;
  if (auto it = documents_.find(resource); it != documents_.end()) {
    for (const SimDocument& d : it->second) {
      if (!d.reference.empty() && d.created_ns >= from && d.created_ns < to) docs.push_back(&d);
    }
  }
  const uint64_t limit = std::min<uint64_t>(std::max<uint64_t>(Count(Param(req, "limit"), 25), 1), o_.query_page_max);
  const uint64_t offset = Count(Param(req, "offset"), 0);
  json items = json::array();
  for (uint64_t i = offset; i < docs.size() && items.size() < limit; ++i) {
    const SimDocument& d = *docs[i];
    const json b = Body(d);
    json r = Scalars(b);
    if (order) {
      r["HeaderId"] = Number(json(d.id));
      if (query_fault_ != "no_number") r["OrderNumber"] = d.number;
    } else if (query_fault_ != "no_number") {
      r["CustomerTransactionId"] = Number(json(d.id));
    }
    r["CreationDate"] = Iso(d.created_ns, "+00:00");
    if (expand) r[lines_field] = b.contains(lines_field) ? b[lines_field] : json::array();
    items.push_back(std::move(r));
  }
  const bool more = offset + items.size() < docs.size();
  json out = {{"items", items}, {"count", items.size()}, {"hasMore", more}, {"limit", limit}, {"offset", offset}};
  if (Param(req, "totalResults") == "true") out["totalResults"] = docs.size();
  out["links"] = json::array({{{"rel", "self"}, {"href", base_url() + req.path}, {"name", resource}, {"kind", "collection"}}});
  SimAnswer a = Json(200, out.dump());
  ApplyQueryFault(&a);
  return a;
}

}  // namespace ordersync
