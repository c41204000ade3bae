#include "adapters/erp/erp_sim_export.h"

#include <cstdio>
#include <ctime>
#include <fstream>

#include <nlohmann/json.hpp>

namespace ordersync {
namespace {

std::string Money(int64_t minor) {
  const bool negative = minor < 0;
  const uint64_t v = negative ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", negative ? "-" : "", static_cast<unsigned long long>(v / 100),
                static_cast<unsigned long long>(v % 100));
  return buf;
}

std::string Time(int64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%03lldZ", buf, static_cast<long long>((ns / 1'000'000) % 1000));
  return out;
}

// A CSV field, quoted when it must be.
std::string Csv(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string ErpExportText(const std::vector<ErpPosting>& documents, bool json_lines) {
  std::string out;
  if (!json_lines) out = "document_number,external_id,kind,order_id,company_code,quantity,amount,currency,posted_at\n";
  for (const ErpPosting& p : documents) {
    if (json_lines) {
      out += nlohmann::json{{"document_number", p.document_id},
                            {"external_id", p.command_id},
                            {"kind", EnumNameCommandKind(p.kind)},
                            {"order_id", p.order_id},
                            {"company_code", p.company_code},
                            {"quantity", p.quantity},
                            {"amount", Money(p.amount_minor)},
                            {"currency", p.currency},
                            {"posted_at", Time(p.posted_at_ns)}}
                 .dump();
      out += '\n';
      continue;
    }
    out += Csv(p.document_id) + ',' + Csv(p.command_id) + ',' + EnumNameCommandKind(p.kind) + ',' + Csv(p.order_id) +
           ',' + Csv(p.company_code) + ',' + std::to_string(p.quantity) + ',' + Money(p.amount_minor) + ',' +
           Csv(p.currency) + ',' + Time(p.posted_at_ns) + '\n';
  }
  return out;
}

Status WriteErpExportFile(const std::vector<ErpPosting>& documents, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out.is_open()) return Status::IOError("cannot write " + tmp);
    out << ErpExportText(documents, EndsWith(path, ".jsonl"));
    if (!out.good()) return Status::IOError("writing " + tmp + " failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("cannot rename " + tmp + " to " + path);
  return Status::OK();
}

}  // namespace ordersync
