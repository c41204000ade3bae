// The ERP export file the simulator writes: the documents an ERP holds, one per line, as
// an ERP's own export (or report) of posted documents gives them, and as `ordersync
// reconcile` reads them (docs/reconcile.md, "The ERP export"). CSV (by default) or JSON
// lines (path ending .jsonl):
//
//   document_number,external_id,kind,order_id,company_code,quantity,amount,currency,posted_at
//   DOC-17,SO-1/GI/SHP-1,PostGoodsIssue,SO-1,1000,3,59.97,EUR,2024-05-01T10:30:00.123Z
//
// Thread-safety: pure functions (plus the file write).
#pragma once

#include <string>
#include <vector>

#include "adapters/erp/erp_simulator.h"
#include "engine/status.h"

namespace ordersync {

// The export text of `documents` (CSV, or JSON lines when `json_lines`).
std::string ErpExportText(const std::vector<ErpPosting>& documents, bool json_lines);
// Writes it to `path` (JSON lines when the path ends in .jsonl), atomically (rename).
Status WriteErpExportFile(const std::vector<ErpPosting>& documents, const std::string& path);

}  // namespace ordersync
