// ErpDialect: what one ERP's API looks like, for the generic HttpConnector: the request
// that posts each CommandKind (the mapping table of that ERP), how the command id is
// written into the document and looked up again, where the document number is in an
// answer, which answers mean "already there", and the ERP's own error message. One
// implementation per ERP (netsuite_dialect.cc, sap_dialect.cc, bc_dialect.cc,
// oracle_dialect.cc, webhook_dialect.cc); docs/erp-connectors.md describes each table.
//
// Every call here is a pure function of the command, the options and an answer: no I/O,
// no state. Thread-safety: immutable after construction; any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/erp/connectors/erp_kind.h"
#include "adapters/erp/connectors/http_client.h"
#include "adapters/erp/connectors/http_target_options.h"
#include "erp_generated.h"

namespace ordersync {

// One request of an attempt, relative to the target's base_url.
struct HttpCall {
  std::string method = "POST";
  std::string path;  // appended to base_url ("" for the webhook: base_url itself)
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // $batch: the service root the call belongs to and its URL relative to it; "" = the
  // call cannot go into a batch.
  std::string batch_root;
  std::string batch_url;
};

// Reads an ErpCommand; string_views point into the buffer.
struct CommandView {
  const ErpCommand* command = nullptr;
  std::string_view command_id, order_id, company_code, business_key, currency, correlation_id;
  CommandKind kind = CommandKind::CreateSalesOrder;

  static std::optional<CommandView> From(std::string_view buffer);
};

enum class LookupVerdict : uint8_t { kFound, kNotFound, kError };

struct LookupResult {
  LookupVerdict verdict = LookupVerdict::kError;
  std::string document_id;  // kFound
  std::string message;      // kError
};

// Outcome of the step some posts need first (PrepareCall).
struct PrepareResult {
  enum Kind : uint8_t { kProceed, kAlreadyPosted, kMissing, kError } kind = kError;
  std::string value;        // kProceed: passed to BuildPost (an internal id, an ETag)
  std::string document_id;  // kAlreadyPosted
  std::string message;
};

enum class BatchFormat : uint8_t { kNone, kMultipart, kJson };

class ErpDialect {
 public:
  virtual ~ErpDialect() = default;
  virtual ErpKind kind() const = 0;
  // Must agree with ErpKindSupports (checked by a test).
  virtual bool Supports(CommandKind kind) const = 0;

  // A request some posts need first (NetSuite: the sales order's internal id for a
  // transform; SAP goods issue: the delivery's ETag and status). nullopt = none.
  virtual std::optional<HttpCall> PrepareCall(const CommandView&) const { return std::nullopt; }
  // Results of PrepareCall may be cached under this key across commands ("" = no cache).
  virtual std::string PrepareCacheKey(const CommandView&) const { return ""; }
  virtual PrepareResult ParsePrepare(const CommandView&, const HttpResponse&) const { return {}; }

  virtual HttpCall BuildPost(const CommandView& c, std::string_view prepared) const = 0;
  // After a Posted answer: a value to cache for later commands of the order under
  // PrepareCacheKey-style key (NetSuite: the new sales order's internal id). "" = none.
  virtual std::pair<std::string, std::string> CacheAfterPost(const CommandView&, const HttpResponse&) const {
    return {};
  }
  // Whether the post is idempotent by itself (upsert, Idempotency-Key), so an unknown
  // outcome needs no look-up before the next attempt.
  virtual bool PostIsIdempotent(CommandKind kind) const = 0;
  // Finds the document a command created, by the command id written into it.
  virtual std::optional<HttpCall> BuildLookup(const CommandView& c) const = 0;
  virtual LookupResult ParseLookup(const CommandView& c, const HttpResponse& r) const = 0;
  // The document number in a 2xx answer (body or Location).
  virtual std::string DocumentId(const CommandView& c, const HttpResponse& r) const = 0;
  // A non-2xx answer that says the document already exists (then: look up its number).
  virtual bool IsDuplicateAnswer(const CommandView&, const HttpResponse&) const { return false; }
  // A 2xx answer that is a replay of an earlier one (webhook Idempotent-Replayed).
  virtual bool IsReplayedAnswer(const HttpResponse&) const { return false; }
  // A 4xx of this kind may mean "already done" without saying so (SAP billing of a billed
  // delivery, Oracle's duplicate source id): look up before calling it Rejected.
  virtual bool LookupBeforeReject(CommandKind) const { return false; }
  // The ERP's own error message from a non-2xx answer (OData error.message, NetSuite
  // o:errorDetails, ...), or a short excerpt of the body.
  virtual std::string ErrorMessage(const HttpResponse& r) const;
  // SAP: the request that fetches a CSRF token (X-CSRF-Token: Fetch). nullopt = no CSRF.
  virtual std::optional<HttpCall> CsrfFetchCall() const { return std::nullopt; }
  virtual BatchFormat batch_format() const { return BatchFormat::kNone; }
  // The $batch endpoint of a service root.
  virtual std::string BatchPath(const std::string& batch_root) const { return batch_root + "/$batch"; }
};

// The dialect of `kind` (an HTTP kind). Fails on options the dialect needs and lacks.
Result<std::unique_ptr<ErpDialect>> CreateErpDialect(ErpKind kind, const HttpTargetOptions& options);

// --- helpers shared by the dialects ---

// The value written into a reference field of at most max_len characters: the command
// id itself when it fits, else "OS-" + the first max_len-3 hex digits of its SHA-256
// (deterministic, so a look-up finds it again).
std::string ReferenceFor(std::string_view command_id, size_t max_len);
// The company mapping of `company_code`, or null.
const ErpCompanyMapping* FindCompany(const HttpTargetOptions& o, std::string_view company_code);
// Amount in minor units as a decimal number for JSON (e.g. 1999 -> 19.99).
double MinorToDecimal(int64_t minor);
// "2024-05-01" (UTC) of a nanosecond timestamp; today when 0.
std::string IsoDate(int64_t ns);
// The last path segment of a Location header, or "".
std::string LocationId(const HttpResponse& r);
// Quote for an OData string literal ('' doubles a quote).
std::string ODataQuote(std::string_view s);
// The message of an OData error body ({"error":{"message":{"value"}}} or
// {"error":{"message":"..."}}), or "".
std::string ODataErrorMessage(std::string_view body);
// NetSuite / Oracle REST error bodies: o:errorDetails[].detail joined, else title/detail.
std::string OErrorDetailsMessage(std::string_view body);
// Bytes of `body` fit for a message: at most 300, control characters replaced.
std::string BodyExcerpt(std::string_view body);
// The headers ordersync puts on every posting request, for the ERP's logs and tracing:
// X-Correlation-ID, X-Ordersync-Command-Id, X-Ordersync-Order-Id, X-Ordersync-Order-Seq.
// ERPs ignore them; no idempotency decision rests on them.
void AddTraceHeaders(const CommandView& c, HttpCall* call);

}  // namespace ordersync
