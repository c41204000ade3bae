// Generic webhook: every CommandKind is POSTed to base_url as one JSON object (the
// ErpCommand's fields; docs/erp-connectors.md has the shape) with the command id as the
// Idempotency-Key header (IETF httpapi draft): the server keeps the first answer per key
// and returns it for repeats, so an unknown outcome needs no look-up; a repeat answered
// with "Idempotent-Replayed: true" counts as AlreadyPosted. 409 (the first request with
// that key still running) is transient; 422 (key reused with a different body) and other
// 4xx are rejections with the server's message ("error"/"message"/"detail" or the body).
// The document id comes from the body's "document_id" or "id", else Location.
#include <nlohmann/json.hpp>

#include "adapters/erp/connectors/erp_dialect.h"

namespace ordersync {
namespace {

class WebhookDialect final : public ErpDialect {
 public:
  explicit WebhookDialect(const HttpTargetOptions& o) : o_(o) {}
  ErpKind kind() const override { return ErpKind::kWebhook; }
  bool Supports(CommandKind) const override { return true; }

  HttpCall BuildPost(const CommandView& c, std::string_view) const override {
    const ErpCommand* x = c.command;
    nlohmann::json lines = nlohmann::json::array();
    if (x->lines() != nullptr) {
      for (const Line* l : *x->lines()) {
        lines.push_back({{"line_no", l->line_no()},
                         {"sku", l->sku() ? l->sku()->str() : ""},
                         {"qty", l->qty()},
                         {"uom", l->uom() ? l->uom()->str() : ""},
                         {"unit_price_minor", l->unit_price_minor()}});
      }
    }
    nlohmann::json body = {{"command_id", std::string(c.command_id)},
                           {"kind", EnumNameCommandKind(c.kind)},
                           {"order_id", std::string(c.order_id)},
                           {"order_cmd_seq", x->order_cmd_seq()},
                           {"company_code", std::string(c.company_code)},
                           {"business_key", std::string(c.business_key)},
                           {"correlation_id", std::string(c.correlation_id)},
                           {"caused_by_event_id", x->caused_by_event_id() ? x->caused_by_event_id()->str() : ""},
                           {"priority", EnumNamePriority(x->priority())},
                           {"currency", std::string(c.currency)},
                           {"issued_at_ns", x->issued_at_ns()},
                           {"event_occurred_at_ns", x->event_occurred_at_ns()},
                           {"lines", lines}};
    HttpCall call;
    call.method = "POST";
    call.path = "";
    call.body = body.dump();
    call.headers.emplace_back("Idempotency-Key", std::string(c.command_id));
    call.headers.emplace_back("Accept", "application/json");
    AddTraceHeaders(c, &call);
    return call;
  }

  bool PostIsIdempotent(CommandKind) const override { return true; }
  std::optional<HttpCall> BuildLookup(const CommandView&) const override { return std::nullopt; }
  LookupResult ParseLookup(const CommandView&, const HttpResponse&) const override { return {}; }

  std::string DocumentId(const CommandView&, const HttpResponse& r) const override {
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    for (const char* key : {"document_id", "id"}) {
      if (j.is_object() && j.contains(key)) return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
    }
    return LocationId(r);
  }

  bool IsReplayedAnswer(const HttpResponse& r) const override {
    const std::string* h = r.Header("idempotent-replayed");
    return h != nullptr && (*h == "true" || *h == "?1");
  }

  std::string ErrorMessage(const HttpResponse& r) const override {
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object()) {
      for (const char* key : {"error", "message", "detail", "title"}) {
        if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
      }
    }
    return ErpDialect::ErrorMessage(r);
  }

 private:
  HttpTargetOptions o_;
};

}  // namespace

Result<std::unique_ptr<ErpDialect>> CreateWebhookDialect(const HttpTargetOptions& options) {
  return std::unique_ptr<ErpDialect>(new WebhookDialect(options));
}

}  // namespace ordersync
