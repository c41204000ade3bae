#include "adapters/erp/connectors/erp_dialect.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/jwt.h"

namespace ordersync {

// Defined in the per-ERP files.
Result<std::unique_ptr<ErpDialect>> CreateNetSuiteDialect(const HttpTargetOptions& options);
Result<std::unique_ptr<ErpDialect>> CreateSapDialect(const HttpTargetOptions& options);
Result<std::unique_ptr<ErpDialect>> CreateBcDialect(const HttpTargetOptions& options);
Result<std::unique_ptr<ErpDialect>> CreateOracleDialect(const HttpTargetOptions& options);
Result<std::unique_ptr<ErpDialect>> CreateWebhookDialect(const HttpTargetOptions& options);

namespace {
std::string_view View(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }
}  // namespace

std::optional<CommandView> CommandView::From(std::string_view buffer) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(buffer.data()), buffer.size());
  if (!VerifyErpCommandBuffer(verifier)) return std::nullopt;
  CommandView v;
  v.command = GetErpCommand(buffer.data());
  v.command_id = View(v.command->command_id());
  v.order_id = View(v.command->order_id());
  v.company_code = View(v.command->company_code());
  v.business_key = View(v.command->business_key());
  v.currency = View(v.command->currency());
  v.correlation_id = View(v.command->correlation_id());
  v.kind = v.command->kind();
  if (v.command_id.empty() || v.order_id.empty()) return std::nullopt;
  return v;
}

Result<std::unique_ptr<ErpDialect>> CreateErpDialect(ErpKind kind, const HttpTargetOptions& options) {
  switch (kind) {
    case ErpKind::kNetSuite: return CreateNetSuiteDialect(options);
    case ErpKind::kSapS4: return CreateSapDialect(options);
    case ErpKind::kD365Bc: return CreateBcDialect(options);
    case ErpKind::kOracleFusion: return CreateOracleDialect(options);
    case ErpKind::kWebhook: return CreateWebhookDialect(options);
    case ErpKind::kZmq: break;
  }
  return Status::InvalidArgument("no HTTP dialect for kind " + std::string(ErpKindName(kind)));
}

std::string ErpDialect::ErrorMessage(const HttpResponse& r) const {
  std::string m = ODataErrorMessage(r.body);
  if (m.empty()) m = OErrorDetailsMessage(r.body);
  if (m.empty()) m = BodyExcerpt(r.body);
  return m;
}

std::string ReferenceFor(std::string_view command_id, size_t max_len) {
  if (command_id.size() <= max_len) return std::string(command_id);
  return "OS-" + Sha256Hex(command_id).substr(0, max_len > 3 ? max_len - 3 : 0);
}

const ErpCompanyMapping* FindCompany(const HttpTargetOptions& o, std::string_view company_code) {
  for (const ErpCompanyMapping& m : o.companies) {
    if (m.company_code == company_code) return &m;
  }
  return nullptr;
}

double MinorToDecimal(int64_t minor) { return static_cast<double>(minor) / 100.0; }

std::string IsoDate(int64_t ns) {
  std::time_t t = ns > 0 ? static_cast<std::time_t>(ns / 1'000'000'000) : std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

std::string LocationId(const HttpResponse& r) {
  const std::string* loc = r.Header("location");
  if (loc == nullptr) return "";
  std::string_view s = *loc;
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  const size_t slash = s.rfind('/');
  return std::string(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

std::string ODataQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else out.push_back(c);
  }
  return out + "'";
}

std::string ODataErrorMessage(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const nlohmann::json& e = j["error"];
  std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
  std::string msg;
  if (e.contains("message")) {
    const nlohmann::json& m = e["message"];
    if (m.is_string()) msg = m.get<std::string>();
    else if (m.is_object() && m.contains("value") && m["value"].is_string()) msg = m["value"].get<std::string>();
  }
  if (msg.empty()) return "";
  return code.empty() ? msg : msg + " (" + code + ")";
}

std::string OErrorDetailsMessage(std::string_view body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return "";
  std::string out;
  if (j.contains("o:errorDetails") && j["o:errorDetails"].is_array()) {
    for (const nlohmann::json& d : j["o:errorDetails"]) {
      if (!d.is_object()) continue;
      std::string detail = d.value("detail", "");
      const std::string code = d.value("o:errorCode", "");
      if (!code.empty()) detail += " (" + code + ")";
      if (!out.empty()) out += "; ";
      out += detail;
    }
  }
  if (out.empty()) {
    out = j.value("detail", "");
    if (out.empty()) out = j.value("title", "");
  }
  return out;
}

std::string BodyExcerpt(std::string_view body) {
  std::string out(body.substr(0, 300));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (body.size() > 300) out += "...";
  return out;
}

void AddTraceHeaders(const CommandView& c, HttpCall* call) {
  auto clean = [](std::string_view v) {  // no header injection through ids
    std::string out(v.substr(0, 200));
    for (char& ch : out) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
    }
    return out;
  };
  if (!c.correlation_id.empty()) call->headers.emplace_back("X-Correlation-ID", clean(c.correlation_id));
  call->headers.emplace_back("X-Ordersync-Command-Id", clean(c.command_id));
  call->headers.emplace_back("X-Ordersync-Order-Id", clean(c.order_id));
  call->headers.emplace_back("X-Ordersync-Order-Seq", std::to_string(c.command->order_cmd_seq()));
}

}  // namespace ordersync
