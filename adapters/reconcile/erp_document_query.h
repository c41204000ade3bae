// ErpDocumentQuery: how one ERP's API lists the documents created in a period — the
// requests (the real systems' published query shapes), their paging, and the mapping of
// each answer to ErpDocument — for ConnectorQuerySource (connector_query_source.h). One
// implementation per ERP with a query API:
//
//   netsuite       SuiteQL: POST /services/rest/query/v1/suiteql over `transaction`
//                  (externalid IS NOT NULL, createddate in the period), links rel=next
//                  (netsuite_document_query.cc)
//   sap_s4         OData v2 $filter on CreationDate and the reference field, $top/$skip,
//                  __next, __count (sap_document_query.cc)
//   d365_bc        OData v4 $filter on lastModifiedDateTime and externalDocumentNumber,
//                  Prefer: odata.maxpagesize, @odata.nextLink (bc_document_query.cc)
//   oracle_fusion  REST q= finder on CreationDate, limit/offset/hasMore/totalResults
//                  (oracle_document_query.cc)
//
// webhook and zmq targets have no query API (CreateErpDocumentQuery refuses them).
// Parsing is strict: an answer that is not the documented shape, or a document without
// its number, reference or creation time, is an error naming the collection, the page
// and the field — never a shorter list.
//
// Thread-safety: immutable after construction; pure functions of their arguments.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/erp_dialect.h"
#include "adapters/reconcile/erp_documents.h"
#include "engine/status.h"

namespace ordersync {

struct DocumentQueryWindow {
  int64_t from_ns = 0;  // creation time, inclusive
  int64_t to_ns = 0;    // exclusive
  uint32_t page_size = 500;
};

// The query of one collection (an ERP document type, in one company for BC).
struct DocumentQuery {
  std::string name;  // for errors: "salesOrders of company 6f1e..."
  HttpCall first;    // path relative to base_url
  // What every document of the collection is (NetSuite: read from each row instead).
  std::optional<CommandKind> kind;
  std::string kind_text;
  std::string company_code;  // BC: from the company the collection belongs to
};

// One page read.
struct QueryPage {
  // In: documents of this query read on its earlier pages.
  uint64_t read_before = 0;
  std::vector<ErpDocument> documents;
  // The next page's request (path relative to base_url, or an absolute URL the ERP
  // linked); nullopt: this was the last page.
  std::optional<HttpCall> next;
  // How many documents the whole query has, when the ERP says (checked at the end).
  std::optional<uint64_t> total;
};

class ErpDocumentQuery {
 public:
  virtual ~ErpDocumentQuery() = default;
  virtual ErpKind kind() const = 0;
  // The queries of a period, one per collection.
  virtual std::vector<DocumentQuery> Queries(const DocumentQueryWindow& window) const = 0;
  // Reads a 200 answer to `sent` (a request of `query`). Corruption naming the field
  // when the answer is not the documented shape.
  virtual Status ParsePage(const DocumentQuery& query, const HttpCall& sent, const HttpResponse& answer,
                           uint32_t page_size, QueryPage* page) const = 0;
};

// The query of `kind`. InvalidArgument for kinds without a query API (webhook, zmq).
Result<std::unique_ptr<ErpDocumentQuery>> CreateErpDocumentQuery(ErpKind kind, const HttpTargetOptions& options);

std::unique_ptr<ErpDocumentQuery> CreateNetSuiteDocumentQuery(const HttpTargetOptions& options);
std::unique_ptr<ErpDocumentQuery> CreateSapDocumentQuery(const HttpTargetOptions& options);
std::unique_ptr<ErpDocumentQuery> CreateBcDocumentQuery(const HttpTargetOptions& options);
std::unique_ptr<ErpDocumentQuery> CreateOracleDocumentQuery(const HttpTargetOptions& options);

// --- helpers shared by the queries ---

// The company_code whose [[companies]] entry maps to `erp_company`; `erp_company` itself
// when the target has a company map and none matches (so a stray company shows as a
// mismatch); "" when the target has no company map (nothing to compare).
std::string CompanyCodeOf(const HttpTargetOptions& o, std::string_view erp_company);

// Reads JSON answers strictly. Each returns Corruption "<where>: <field>: <why>".
class AnswerReader {
 public:
  explicit AnswerReader(std::string where) : where_(std::move(where)) {}
  const std::string& where() const { return where_; }
  Status Fail(std::string_view field, std::string_view why) const;
  // The body as JSON: an object.
  Status Parse(const HttpResponse& r, nlohmann::json* out) const;
  // j[key] as text (a string, or a number printed); `required`: missing/null/"" fails.
  Status Text(const nlohmann::json& j, const char* key, bool required, std::string* out) const;
  // j[key] as an array (required).
  Status Array(const nlohmann::json& j, const char* key, const nlohmann::json** out) const;
  // A whole number ("3", "3.000", 3, 3.0); missing/null: nullopt.
  Status Quantity(const nlohmann::json& j, const char* key, std::optional<int64_t>* out) const;
  // A decimal amount with at most 2 decimals (19.99, "19.99") in minor units; missing/null: nullopt.
  Status Amount(const nlohmann::json& j, const char* key, std::optional<int64_t>* out) const;
  // An RFC 3339 time (required).
  Status Time(const nlohmann::json& j, const char* key, int64_t* ns) const;
  // A count (non-negative integer, or its text); missing: nullopt.
  Status Count(const nlohmann::json& j, const char* key, std::optional<uint64_t>* out) const;
  // The collection envelope Oracle's REST APIs share (NetSuite REST, Oracle Fusion):
  // {"items": [...], "count", "totalResults", "hasMore": bool, ...}. Sets *items,
  // page->total and *has_more; a count that differs from the items, or a missing
  // hasMore, fails.
  Status ItemsPage(const nlohmann::json& j, const nlohmann::json** items, QueryPage* page, bool* has_more) const;

 private:
  std::string where_;
};

// "2024-05-01T10:30:00Z" / "2024-05-01" (UTC) of a timestamp.
std::string QueryTime(int64_t ns);
std::string QueryDate(int64_t ns);
// Appends "&name=value" (value URL-encoded) or "?name=value" to a path.
void AddQueryParam(std::string* path, std::string_view name, std::string_view value);

}  // namespace ordersync
