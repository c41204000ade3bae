#include "adapters/reconcile/reconcile_report.h"

#include <algorithm>
#include <iomanip>

#include "adapters/records/field_parse.h"

namespace ordersync {
namespace {

nlohmann::json Time(int64_t ns) { return ns == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatTimestampNs(ns)); }

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || !it->is_string() ? std::string() : it->get<std::string>();
}

}  // namespace

nlohmann::json ReconcileReportJson(const ReconcileReport& r, const RepairOutcome* repair) {
  nlohmann::json differences = nlohmann::json::array();
  for (const Difference& d : r.differences) {
    nlohmann::json j = {{"class", DifferenceClassName(d.cls)},
                        {"command_id", d.command_id},
                        {"order_id", d.order_id},
                        {"kind", d.kind ? nlohmann::json(EnumNameCommandKind(*d.kind)) : nlohmann::json(nullptr)},
                        {"detail", d.detail}};
    if (d.has_ours) {
      j["acknowledged_at"] = Time(d.acked_at_ns);
      j["ordersync_document"] = d.our_document;
    }
    if (!d.erp_document.empty()) {
      j["erp_document"] = d.erp_document;
      j["posted_at"] = Time(d.posted_at_ns);
      if (d.export_line > 0) j["export_line"] = d.export_line;
    }
    if (d.cls == DifferenceClass::kMissingInErp) j["repairable"] = d.repairable;
    differences.push_back(std::move(j));
  }
  nlohmann::json out = {
      {"target", r.window.target},
      {"period",
       {{"from", FormatTimestampNs(r.window.from_ns)},
        {"to", FormatTimestampNs(r.window.to_ns)},
        {"margin_s", r.window.margin_ns / 1'000'000'000}}},
      {"source", r.source},
      {"clean", r.clean()},
      {"summary",
       {{"erp_documents", r.erp_documents},
        {"foreign_documents", r.foreign_documents},
        {"acknowledged", r.acknowledged},
        {"matched", r.matched},
        {"missing_in_erp", r.count(DifferenceClass::kMissingInErp)},
        {"unknown_to_ordersync", r.count(DifferenceClass::kUnknownToOrdersync)},
        {"mismatch", r.count(DifferenceClass::kMismatch)},
        {"pending", r.count(DifferenceClass::kPending)}}},
      {"differences", differences}};
  if (repair != nullptr) {
    nlohmann::json not_repairable = nlohmann::json::array();
    for (const auto& [id, why] : repair->not_repairable) not_repairable.push_back({{"command_id", id}, {"why", why}});
    out["repair"] = {{"dry_run", repair->dry_run},
                     {"commands", repair->commands},
                     {"repaired", repair->repaired},
                     {"not_repairable", not_repairable}};
  }
  return out;
}

void PrintReconcileTable(const nlohmann::json& r, std::ostream& out) {
  const nlohmann::json& p = r["period"];
  const nlohmann::json& s = r["summary"];
  out << "reconcile " << Str(r, "target") << ": " << Str(p, "from") << " .. " << Str(p, "to") << " (margin "
      << p.value("margin_s", 0) << " s), " << Str(r, "source") << "\n";
  out << "  " << s.value("acknowledged", 0) << " acknowledged here in the period, " << s.value("matched", 0)
      << " matched; " << s.value("erp_documents", 0) << " ERP documents read (" << s.value("foreign_documents", 0)
      << " without an ordersync id)\n";
  out << "  differences: " << s.value("missing_in_erp", 0) << " missing in ERP, " << s.value("unknown_to_ordersync", 0)
      << " unknown to ordersync, " << s.value("mismatch", 0) << " mismatch, " << s.value("pending", 0)
      << " pending -> " << (r.value("clean", false) ? "CLEAN" : "NOT CLEAN") << "\n";
  const nlohmann::json& diffs = r["differences"];
  if (!diffs.empty()) {
    size_t id_width = 10, order_width = 7;
    for (const auto& d : diffs) {
      id_width = std::max(id_width, Str(d, "command_id").size() + 2);
      order_width = std::max(order_width, Str(d, "order_id").size() + 2);
    }
    id_width = std::min<size_t>(id_width, 48);
    out << "\n"
        << std::left << std::setw(22) << "CLASS" << std::setw(static_cast<int>(id_width)) << "COMMAND"
        << std::setw(static_cast<int>(order_width)) << "ORDER" << std::setw(24) << "KIND" << std::setw(12) << "ERP DOC"
        << "DETAIL\n";
    for (const auto& d : diffs) {
      out << std::left << std::setw(22) << Str(d, "class") << std::setw(static_cast<int>(id_width))
          << Str(d, "command_id") << std::setw(static_cast<int>(order_width)) << Str(d, "order_id") << std::setw(24)
          << (d["kind"].is_string() ? d["kind"].get<std::string>() : "?") << std::setw(12) << Str(d, "erp_document")
          << Str(d, "detail") << "\n";
    }
  }
  if (r.contains("repair")) {
    const nlohmann::json& rep = r["repair"];
    const size_t n = rep["commands"].size();
    out << "\n";
    if (rep.value("dry_run", true)) {
      out << "repair (dry run): would re-drive " << n << " missing command(s) with their original ids;"
          << " run with --repair to do it\n";
    } else {
      out << "repair: re-drove " << rep.value("repaired", 0) << " command(s) into the outbox with their original ids"
          << " (the dispatcher posts them; reconcile again to confirm)\n";
    }
    for (const auto& id : rep["commands"]) out << "  " << id.get<std::string>() << "\n";
    for (const auto& nr : rep["not_repairable"]) {
      out << "  not repairable: " << Str(nr, "command_id") << ": " << Str(nr, "why") << "\n";
    }
  }
}

}  // namespace ordersync
