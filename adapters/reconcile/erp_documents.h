// ErpDocument: one document as the ERP records it — what `ordersync reconcile` compares
// ordersync's acknowledgements with — and the reader of an ERP export file of them.
//
// Export file (docs/reconcile.md, "The ERP export"): CSV with a header row, or JSON
// lines, one document each. Columns (case-insensitive; aliases in brackets; other
// columns are ignored, as ERP reports carry many):
//
//   document_number (document, document_id, doc_no)      required
//   external_id     (reference, external_reference,      required: the reference field
//                    command_id)                                   that carries our command_id
//   kind            (document_type, type)                CommandKind name, or an ERP document
//                                                        type: sales_order, goods_issue,
//                                                        delivery, invoice, credit_memo, ...
//   order_id        (order)
//   company_code    (company)
//   quantity        (qty)                                integer, sum of the lines
//   amount                                               decimal (19.99), or amount_minor
//   amount_minor                                         integer minor units
//   currency
//   posted_at       (posting_time, posting_date)         RFC 3339 time or date, or ns
//
// Columns left empty are not compared. A line that cannot be read stops the reader with
// "file:line: column: why" (a reconcile on a half-read export would report false
// differences).
//
// Thread-safety: pure functions (plus the file read).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"
#include "erp_generated.h"

namespace ordersync {

struct ErpDocument {
  std::string document_number;
  std::string external_id;  // our command_id, as written into the document
  std::optional<CommandKind> kind;
  std::string kind_text;    // as the export wrote it
  std::string order_id;
  std::string company_code;
  std::optional<int64_t> quantity;
  std::optional<int64_t> amount_minor;
  std::string currency;
  int64_t posted_at_ns = 0;
  size_t line = 0;  // where it came from (0: an API answer)
};

// CommandKind of an export's kind text: the CommandKind name ("CreateInvoice") or a
// common ERP document type ("invoice", "goods_issue", "itemFulfillment", ...).
std::optional<CommandKind> ErpDocumentKind(std::string_view text);

// Reads an export's text. `origin` names it in errors.
Result<std::vector<ErpDocument>> ParseErpExport(std::string_view text, const std::string& origin);
Result<std::vector<ErpDocument>> ReadErpExportFile(const std::string& path);

// Writes documents as an export of JSON lines that ReadErpExportFile reads back with the
// same fields (kind as the CommandKind name, posted_at in ns). Used to hand documents
// read from an ERP's API to a running engine.
Status WriteErpDocumentsJsonLines(const std::vector<ErpDocument>& documents, const std::string& path);

}  // namespace ordersync
