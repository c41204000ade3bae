#include "adapters/cli/edi_command.h"

#include "adapters/erp/connectors/jwt.h"  // Base64Encode / Base64Decode (OpenSSL)

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapters/admin/admin_client.h"
#include "adapters/edi/edi_analysis.h"

namespace ordersync {
namespace {

using json = nlohmann::json;
constexpr auto kIngestTimeout = std::chrono::seconds(300);

json ReportJson(const EdiFileReport& r) {
  json sets = json::array();
  for (const EdiFileReport::Set& s : r.set_reports) {
    json events = json::array();
    for (const EdiFileReport::Event& e : s.events) {
      events.push_back({{"event_id", e.event_id}, {"kind", e.kind}, {"order_id", e.order_id}, {"status", e.status},
                        {"outcome", e.reason}});
    }
    sets.push_back({{"key", s.key}, {"set", s.set_id}, {"partner", s.partner}, {"verdict", s.verdict},
                    {"reason", s.reason}, {"description", s.description}, {"events", events}});
  }
  return {{"file", r.file_name},       {"interchanges", r.interchanges}, {"sets", r.sets},
          {"sets_rejected", r.sets_rejected}, {"sets_review", r.sets_review}, {"events", r.events},
          {"accepted", r.accepted},    {"duplicate", r.duplicate},       {"rejected", r.any_rejected},
          {"acks_written", r.acks_written}, {"file_faults", r.file_faults}, {"set_reports", sets}};
}

std::string Dump(const json& j, int indent = -1) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

bool ReadFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    *error = "cannot open " + path;
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

std::string SpecLine(const EnvelopeSpec& e) {
  std::string line = std::string(EnumNameMilestone(e.kind)) + " order=" + e.order_id;
  if (!e.business_key.empty()) line += " key=" + e.business_key;
  if (!e.customer_id.empty()) line += " customer=" + e.customer_id;
  if (!e.carrier.empty()) line += " carrier=" + e.carrier;
  if (!e.tracking_no.empty()) line += " tracking=" + e.tracking_no;
  if (!e.warehouse.empty()) line += " warehouse=" + e.warehouse;
  if (!e.reason.empty()) line += " reason=\"" + e.reason + "\"";
  for (const LineSpec& l : e.lines) {
    line += " [" + std::to_string(l.line_no) + " " + l.sku + " " + std::to_string(l.qty) + " " + l.uom + "]";
  }
  return line;
}

int Check(const AppConfig& config, const EdiCommandOptions& o, std::ostream& out, std::ostream& err) {
  int rc = 0;
  json all = json::array();
  for (const std::string& path : o.files) {
    std::string content, error;
    if (!ReadFile(path, &content, &error)) {
      err << "ordersync edi check: " << error << "\n";
      rc = 2;
      continue;
    }
    EdiAnalysis a = AnalyzeX12(content, config.edi, /*allow_unknown=*/true, config.engine.validation);
    if (a.any_rejected && rc == 0) rc = 1;
    json sets = json::array();
    if (!o.json) out << path << ": " << a.doc->interchanges.size() << " interchange(s), " << a.sets.size()
                     << " transaction set(s), " << a.events << " event(s)" << (a.any_rejected ? ", REJECTED parts" : "")
                     << "\n";
    if (!a.doc->fault.ok()) {
      if (!o.json) out << "  file: rejected " << a.doc->fault.reason << " (" << a.doc->fault.description << ")\n";
    }
    for (size_t i = 0; i < a.doc->interchanges.size(); ++i) {
      const X12Interchange& x = a.doc->interchanges[i];
      if (o.json) continue;
      out << "  interchange " << (x.control.empty() ? "?" : x.control) << " from " << x.sender_qualifier << "/"
          << x.sender_id << " partner "
          << (a.partners[i] == nullptr ? "-"
              : config.edi.FindPartner(x.sender_qualifier, x.sender_id) != nullptr
                  ? a.partners[i]->name
                  : a.partners[i]->name + " (no [[edi.partners]] profile: default)")
          << (a.interchange_faults[i].ok() ? "" : ": rejected " + a.interchange_faults[i].reason + " (" +
                                                     a.interchange_faults[i].description + ")")
          << "\n";
    }
    for (const std::string& w : a.doc->warnings) {
      if (!o.json) out << "  note: " << w << "\n";
    }
    for (const EdiSetResult& s : a.sets) {
      json events = json::array();
      for (const EdiEvent& e : s.events) {
        events.push_back({{"event_id", e.spec.event_id}, {"summary", SpecLine(e.spec)}});
      }
      const std::string verdict = !s.fault.ok() ? "rejected" : !s.review.empty() ? "review" : "accepted";
      sets.push_back({{"key", s.key}, {"set", s.set_id}, {"partner", s.partner}, {"verdict", verdict},
                      {"reason", s.fault.ok() ? (s.review.empty() ? "" : "edi_review:" + s.set_id) : s.fault.reason},
                      {"description", s.fault.ok() ? s.review : s.fault.description}, {"events", events}});
      if (o.json) continue;
      out << "  set " << s.set_id << " " << s.key << ": " << verdict;
      if (!s.fault.ok()) out << " " << s.fault.reason << " (" << s.fault.description << ")";
      if (!s.review.empty()) out << " (" << s.review << ")";
      out << "\n";
      for (const EdiEvent& e : s.events) out << "    " << e.spec.event_id << "  " << SpecLine(e.spec) << "\n";
    }
    json warnings = a.doc->warnings;
    all.push_back({{"file", path}, {"rejected", a.any_rejected}, {"events", a.events},
                   {"file_fault", a.doc->fault.reason}, {"warnings", warnings}, {"sets", sets}});
  }
  if (o.json) out << Dump(all, 2) << "\n";
  return rc;
}

int Ingest(const AppConfig& config, const EdiCommandOptions& o, std::ostream& out, std::ostream& err) {
  const std::string endpoint = o.endpoint.empty() ? config.admin.endpoint : o.endpoint;
  if (endpoint.empty()) {
    err << "ordersync edi ingest: no admin endpoint ([admin] endpoint is empty; give --endpoint)\n";
    return 2;
  }
  std::string token;
  if (!config.admin.token_file.empty()) {
    Result<std::string> t = ReadTokenFile(config.admin.token_file);
    if (t.ok()) token = *t;
  }
  int rc = 0;
  json all = json::array();
  for (const std::string& path : o.files) {
    std::string content, error;
    if (!ReadFile(path, &content, &error)) {
      err << "ordersync edi ingest: " << error << "\n";
      rc = 2;
      continue;
    }
    const json args = {{"file_name", std::filesystem::path(path).filename().string()},
                       {"content_base64", Base64Encode(content)}};
    Result<json> r = AdminCall(endpoint, "edi.ingest", args, token, kIngestTimeout);
    if (!r.ok()) {
      err << "ordersync edi ingest: " << path << ": " << r.status().message()
          << " (is `ordersync serve` running with this [admin] endpoint?)" << "\n";
      return 2;
    }
    if (r->value("rejected", false) && rc == 0) rc = 1;
    if (o.json) {
      all.push_back(*r);
      continue;
    }
    out << path << ": " << r->value("sets", 0) << " sets (" << r->value("sets_rejected", 0) << " rejected, "
        << r->value("sets_review", 0) << " for review), " << r->value("events", 0) << " events durable ("
        << r->value("accepted", 0) << " accepted, " << r->value("duplicate", 0) << " duplicate), "
        << (*r)["acks_written"].size() << " 997(s) written\n";
    for (const json& f : (*r)["file_faults"]) out << "  rejected: " << f.get<std::string>() << "\n";
    for (const json& s : (*r)["set_reports"]) {
      out << "  set " << s.value("set", "") << " " << s.value("key", "") << ": " << s.value("verdict", "");
      if (!s.value("reason", "").empty()) out << " " << s.value("reason", "") << " (" << s.value("description", "") << ")";
      out << "\n";
      for (const json& e : s["events"]) {
        out << "    " << e.value("event_id", "") << "  " << e.value("kind", "") << " order=" << e.value("order_id", "")
            << "  " << e.value("status", "") << " (" << e.value("outcome", "") << ")\n";
      }
    }
  }
  if (o.json) out << Dump(all, 2) << "\n";
  return rc;
}

}  // namespace

void RegisterEdiAdminCommand(AdminServer* admin, EdiIngestor* ingestor) {
  admin->Register(
      "edi.ingest",
      {"take an X12 file in as if it arrived in the EDI inbox: {file_name, content_base64}", true,
       [ingestor](const json& args) -> Result<json> {
         const std::string name = args.value("file_name", "edi-ingest");
         Result<std::string> content = Status::InvalidArgument("missing");
         if (args.contains("content_base64") && args["content_base64"].is_string()) {
           content = Base64Decode(args["content_base64"].get<std::string>());
         }
         if (!content.ok()) return Status::InvalidArgument("edi.ingest needs content_base64 (the file, base64)");
         Result<EdiFileReport> report = ingestor->Ingest(name, *content);
         if (!report.ok()) return report.status();
         return ReportJson(*report);
       }});
}

void AddEdiSubcommand(CLI::App& app, EdiCommandOptions* o) {
  CLI::App* edi = app.add_subcommand("edi", "EDI X12 files: check how they map, or ingest them into a running engine");
  edi->require_subcommand(1);
  CLI::App* check = edi->add_subcommand(
      "check", "Parse X12 files and print each transaction set's milestone events or rejection reason (no engine; "
               "exit 1 if any part is rejected)");
  CLI::App* ingest = edi->add_subcommand(
      "ingest", "Send X12 files to a running `ordersync serve` (admin endpoint): events made durable, rejected parts "
                "quarantined, 997s written - as if the files had arrived in [ingress.edi] inbox_dir");
  for (CLI::App* sub : {check, ingest}) {
    sub->add_option("FILE", o->files, "X12 files")->required()->check(CLI::ExistingFile);
    sub->add_flag("--json", o->json, "Print JSON");
  }
  ingest->add_option("--endpoint", o->endpoint, "Admin endpoint; default: [admin] endpoint")->type_name("ENDPOINT");
  check->callback([o] { o->action = "check"; });
  ingest->callback([o] { o->action = "ingest"; });
}

int RunEdiCommand(const AppConfig& config, const EdiCommandOptions& o, std::ostream& out, std::ostream& err) {
  if (o.action == "check") return Check(config, o, out, err);
  return Ingest(config, o, out, err);
}

}  // namespace ordersync
