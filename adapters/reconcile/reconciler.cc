#include "adapters/reconcile/reconciler.h"

#include <algorithm>
#include <unordered_map>

#include "adapters/records/field_parse.h"
#include "engine/command_id.h"

namespace ordersync {
namespace {

bool InPeriod(int64_t t, const ReconcileWindow& w) { return t >= w.from_ns && t < w.to_ns; }

std::string KindName(std::optional<CommandKind> k) { return k ? EnumNameCommandKind(*k) : "?"; }

void Append(std::string* s, const std::string& part) {
  if (!s->empty()) s->append("; ");
  s->append(part);
}

// The fields of `doc` that differ from `c` (only those the export has).
std::string Compare(const OurCommand& c, const ErpDocument& d) {
  std::string diff;
  if (d.kind && *d.kind != c.origin.kind) {
    Append(&diff, std::string("kind ") + EnumNameCommandKind(c.origin.kind) + " here, " + d.kind_text + " in the ERP");
  }
  if (!d.order_id.empty() && d.order_id != c.order_id) {
    Append(&diff, "order " + c.order_id + " here, " + d.order_id + " in the ERP");
  }
  if (c.content_known) {
    if (!d.company_code.empty() && d.company_code != c.company_code) {
      Append(&diff, "company " + c.company_code + " here, " + d.company_code + " in the ERP");
    }
    if (!d.currency.empty() && !c.currency.empty() && d.currency != c.currency) {
      Append(&diff, "currency " + c.currency + " here, " + d.currency + " in the ERP");
    }
    if (d.quantity && *d.quantity != c.quantity) {
      Append(&diff, "quantity " + std::to_string(c.quantity) + " here, " + std::to_string(*d.quantity) + " in the ERP");
    }
    if (d.amount_minor && *d.amount_minor != c.amount_minor) {
      Append(&diff, "amount " + FormatMoneyMinor(c.amount_minor) + " here, " + FormatMoneyMinor(*d.amount_minor) +
                        " in the ERP");
    }
  }
  return diff;
}

Difference Ours(DifferenceClass cls, const OurCommand& c) {
  Difference d;
  d.cls = cls;
  d.command_id = c.origin.command_id;
  d.order_id = c.order_id;
  d.kind = c.origin.kind;
  d.has_ours = true;
  d.partition = c.partition;
  d.acked_at_ns = c.acked_at_ns;
  d.our_document = c.erp_document_id;
  return d;
}

void WithDocument(Difference* d, const ErpDocument& doc) {
  d->erp_document = doc.document_number;
  d->posted_at_ns = doc.posted_at_ns;
  d->export_line = doc.line;
  if (!d->kind) d->kind = doc.kind;
  if (d->order_id.empty()) d->order_id = doc.order_id;
}

constexpr size_t kNoDocument = SIZE_MAX;

struct DocChain {
  size_t first;
  size_t last;
};

// The documents of one external id, iterated in export order.
struct DocList {
  size_t first;
  const std::vector<size_t>* next;

  struct Iterator {
    size_t i;
    const std::vector<size_t>* next;
    size_t operator*() const { return i; }
    Iterator& operator++() {
      i = (*next)[i];
      return *this;
    }
    bool operator!=(const Iterator& o) const { return i != o.i; }
  };
  Iterator begin() const { return {first, next}; }
  Iterator end() const { return {kNoDocument, next}; }
  size_t front() const { return first; }
};

}  // namespace

std::string_view DifferenceClassName(DifferenceClass c) {
  switch (c) {
    case DifferenceClass::kMissingInErp: return "missing_in_erp";
    case DifferenceClass::kUnknownToOrdersync: return "unknown_to_ordersync";
    case DifferenceClass::kMismatch: return "mismatch";
    case DifferenceClass::kPending: return "pending";
  }
  return "unknown";
}

bool ParseCommandId(std::string_view id, std::string* order_id, CommandKind* kind) {
  for (size_t slash = id.find('/'); slash != std::string_view::npos; slash = id.find('/', slash + 1)) {
    if (slash == 0) continue;
    const size_t next = id.find('/', slash + 1);
    if (next == std::string_view::npos || next + 1 >= id.size()) return false;
    const std::string_view code = id.substr(slash + 1, next - slash - 1);
    for (int k = static_cast<int>(CommandKind::MIN); k <= static_cast<int>(CommandKind::MAX); ++k) {
      if (CommandKindCode(static_cast<CommandKind>(k)) == code) {
        order_id->assign(id.substr(0, slash));
        *kind = static_cast<CommandKind>(k);
        return true;
      }
    }
  }
  return false;
}

ReconcileReport Reconcile(const OrdersyncView& ours, const std::vector<ErpDocument>& theirs,
                          const ReconcileWindow& w) {
  ReconcileReport report;
  report.window = w;
  report.erp_documents = theirs.size();
  // The documents of each external id, in export order: the first in by_id, the others
  // chained through next (no allocation per document).
  std::unordered_map<std::string_view, DocChain> by_id;
  by_id.reserve(theirs.size());
  std::vector<size_t> next(theirs.size(), kNoDocument);
  for (size_t i = 0; i < theirs.size(); ++i) {
    auto [pos, inserted] = by_id.try_emplace(theirs[i].external_id, DocChain{i, i});
    if (!inserted) {
      next[pos->second.last] = i;
      pos->second.last = i;
    }
  }
  std::vector<bool> consumed(theirs.size(), false);
  auto add = [&](Difference d) {
    ++report.counts[static_cast<size_t>(d.cls)];
    report.differences.push_back(std::move(d));
  };

  // Our side: every command of the target.
  for (const auto& [id, c] : ours.commands) {
    auto found = by_id.find(id);
    const DocList list{found == by_id.end() ? kNoDocument : found->second.first, &next};
    const DocList* docs = found == by_id.end() ? nullptr : &list;
    if (c.queue != OurCommand::Queue::kNone) {
      if (c.origin.issued_at_ns >= w.to_ns && c.origin.issued_at_ns != 0) continue;  // after the period
      Difference d = Ours(DifferenceClass::kPending, c);
      d.detail = c.queue == OurCommand::Queue::kOutbox
                     ? std::string("in the outbox, not acknowledged yet")
                     : "in the dead-letter queue (" + c.dead_letter_reason + "); `ordersync dlq` shows why";
      if (docs != nullptr) {
        WithDocument(&d, theirs[docs->front()]);
        d.detail += "; the ERP already has document " + theirs[docs->front()].document_number;
        for (size_t i : *docs) consumed[i] = true;
      }
      add(std::move(d));
      continue;
    }
    if (!c.acked) {
      // Issued, neither acknowledged nor queued: purged from the dead-letter queue (or in
      // flight past the checkpoint). Only a document in the ERP makes it a difference.
      if (docs == nullptr) continue;
      for (size_t i : *docs) {
        consumed[i] = true;
        if (theirs[i].posted_at_ns != 0 && !InPeriod(theirs[i].posted_at_ns, w)) continue;
        Difference d = Ours(DifferenceClass::kUnknownToOrdersync, c);
        WithDocument(&d, theirs[i]);
        d.detail = "posted in the ERP, never acknowledged here (its dead letter was purged?)";
        add(std::move(d));
      }
      continue;
    }
    if (!InPeriod(c.acked_at_ns, w)) continue;  // outside: its documents are judged below
    ++report.acknowledged;
    if (docs == nullptr) {
      Difference d = Ours(DifferenceClass::kMissingInErp, c);
      d.detail = "acknowledged " + FormatTimestampNs(c.acked_at_ns) +
                 (c.erp_document_id.empty() ? std::string() : " as document " + c.erp_document_id) +
                 "; not in the ERP";
      d.repairable = c.content_known;
      if (!c.content_known) d.detail += "; cannot be re-driven: " + c.content_error;
      add(std::move(d));
      continue;
    }
    // The document the ERP answered with, else the first.
    size_t match = docs->front();
    for (size_t i : *docs) {
      if (theirs[i].document_number == c.erp_document_id) match = i;
    }
    for (size_t i : *docs) consumed[i] = true;
    std::string diff = Compare(c, theirs[match]);
    if (diff.empty()) {
      ++report.matched;
    } else {
      Difference d = Ours(DifferenceClass::kMismatch, c);
      WithDocument(&d, theirs[match]);
      d.detail = diff;
      add(std::move(d));
    }
    for (size_t i : *docs) {
      if (i == match) continue;
      Difference d = Ours(DifferenceClass::kUnknownToOrdersync, c);
      WithDocument(&d, theirs[i]);
      d.detail = "posted twice: document " + theirs[i].document_number + " besides " + theirs[match].document_number;
      add(std::move(d));
    }
  }

  // Their side: documents in the period not matched above.
  for (size_t i = 0; i < theirs.size(); ++i) {
    if (consumed[i]) continue;
    const ErpDocument& doc = theirs[i];
    if (doc.posted_at_ns != 0 && !InPeriod(doc.posted_at_ns, w)) continue;
    auto known = ours.commands.find(doc.external_id);
    if (known != ours.commands.end()) {
      const OurCommand& c = known->second;  // acknowledged outside the period
      if (doc.posted_at_ns == 0 || std::abs(doc.posted_at_ns - c.acked_at_ns) <= w.margin_ns) continue;
      Difference d = Ours(DifferenceClass::kMismatch, c);
      WithDocument(&d, doc);
      d.detail = "posted " + FormatTimestampNs(doc.posted_at_ns) + " in the ERP, acknowledged " +
                 FormatTimestampNs(c.acked_at_ns) + " here";
      add(std::move(d));
      continue;
    }
    Difference d;
    d.cls = DifferenceClass::kUnknownToOrdersync;
    d.command_id = doc.external_id;
    WithDocument(&d, doc);
    auto other = ours.other_targets.find(doc.external_id);
    std::string order_id;
    CommandKind kind;
    if (other != ours.other_targets.end()) {
      d.detail = "carries a command of target " + other->second + ", not " + w.target;
    } else if (ParseCommandId(doc.external_id, &order_id, &kind)) {
      d.detail = "carries an ordersync command id that was never acknowledged here";
      if (d.order_id.empty()) d.order_id = order_id;
      if (!d.kind) d.kind = kind;
    } else {
      ++report.foreign_documents;
      continue;
    }
    add(std::move(d));
  }

  std::sort(report.differences.begin(), report.differences.end(), [](const Difference& a, const Difference& b) {
    if (a.cls != b.cls) return a.cls < b.cls;
    if (a.command_id != b.command_id) return a.command_id < b.command_id;
    return a.erp_document < b.erp_document;
  });
  return report;
}

}  // namespace ordersync
