// Reconciler: compares what ordersync holds as acknowledged by one ERP target in a
// period (ordersync_view.h) with the ERP's own documents (erp_documents.h) and classifies
// every difference:
//
//   missing_in_erp        acknowledged here in the period, no document there
//   unknown_to_ordersync  a document there carrying one of our command ids that was
//                         never acknowledged here (or for another target), or a second
//                         document for the same id (posted twice)
//   mismatch              the document's kind, order, company, currency, quantity or
//                         amount differs from the command; or it was posted far outside
//                         the time it was acknowledged here
//   pending               still in the outbox or the dead-letter queue: expected, not
//                         an error (listed so the picture is complete)
//
// The period is [from, to) of acknowledgement time here and of posting time there. A
// document up to `margin` outside the period still matches its command (no difference);
// differences are only reported for items inside the period. Documents whose external id
// is not an ordersync command id (other sources) are counted, not reported. A run is
// clean when it has no missing, unknown or mismatch differences (pending is allowed).
//
// Thread-safety: pure function of its inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/reconcile/erp_documents.h"
#include "adapters/reconcile/ordersync_view.h"

namespace ordersync {

enum class DifferenceClass : uint8_t { kMissingInErp, kUnknownToOrdersync, kMismatch, kPending };
inline constexpr DifferenceClass kDifferenceClasses[] = {DifferenceClass::kMissingInErp,
                                                         DifferenceClass::kUnknownToOrdersync,
                                                         DifferenceClass::kMismatch, DifferenceClass::kPending};
std::string_view DifferenceClassName(DifferenceClass c);

struct Difference {
  DifferenceClass cls = DifferenceClass::kMissingInErp;
  std::string command_id;
  std::string order_id;
  std::optional<CommandKind> kind;
  std::string detail;  // human readable, one line
  // Ours (when we know the command).
  bool has_ours = false;
  uint32_t partition = 0;
  int64_t acked_at_ns = 0;
  std::string our_document;  // the document number the ERP answered with
  // Theirs (when a document is involved).
  std::string erp_document;
  int64_t posted_at_ns = 0;
  size_t export_line = 0;
  // Missing ones: whether --repair can re-drive it (its content is known).
  bool repairable = false;
};

struct ReconcileWindow {
  std::string target;
  int64_t from_ns = 0;
  int64_t to_ns = 0;
  int64_t margin_ns = 0;
};

struct ReconcileReport {
  ReconcileWindow window;
  std::string source;  // "export <path>" | "api <target>"
  uint64_t erp_documents = 0;      // read from the source
  uint64_t foreign_documents = 0;  // without an ordersync command id
  uint64_t acknowledged = 0;       // acknowledged here in the period
  uint64_t matched = 0;            // of those, found and equal
  uint64_t counts[4] = {0, 0, 0, 0};  // by DifferenceClass
  std::vector<Difference> differences;  // by class, then command_id
  bool clean() const { return counts[0] == 0 && counts[1] == 0 && counts[2] == 0; }
  uint64_t count(DifferenceClass c) const { return counts[static_cast<size_t>(c)]; }
};

// "SO-1/GI/SHP-7" -> order "SO-1", PostGoodsIssue. False for ids of another shape.
bool ParseCommandId(std::string_view id, std::string* order_id, CommandKind* kind);

ReconcileReport Reconcile(const OrdersyncView& ours, const std::vector<ErpDocument>& theirs,
                          const ReconcileWindow& window);

}  // namespace ordersync
