#include "adapters/config/config_checks.h"

#include <cctype>
#include <string>
#include <vector>

#include "adapters/config/option_names.h"
#include "adapters/erp/connectors/erp_kind.h"
#include "engine/router.h"

namespace ordersync {
namespace {

bool ValidTargetName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

// HTTP targets: the auth method has what it needs, and every command kind the routing
// can send to the target is one its ERP can take (erp_kind.h).
Status ValidateHttpTargets(const AppConfig& c, const std::string& in) {
  for (const ErpTargetOptions& t : c.erp.targets) {
    const std::optional<ErpKind> kind = ErpKindFromName(t.kind);
    if (!kind || !IsHttpErpKind(*kind)) continue;
    const std::string key = "erp.targets." + t.name;
    if (t.http.transport.base_url.empty()) {
      return Status::InvalidArgument(key + ".http.base_url: required for kind \"" + t.kind + "\"" + in);
    }
    const HttpAuthOptions& a = t.http.auth;
    auto need = [&](const std::string& field, const std::string& value) -> Status {
      if (!value.empty()) return Status::OK();
      return Status::InvalidArgument(key + ".auth." + field + ": required by method \"" + a.method + "\"" + in);
    };
    if (a.method == "basic") {
      ORDERSYNC_RETURN_IF_ERROR(need("username", a.username));
      ORDERSYNC_RETURN_IF_ERROR(need("password_file", a.password_file));
    } else if (a.method == "oauth2_client_secret" || a.method == "oauth2_jwt") {
      ORDERSYNC_RETURN_IF_ERROR(need("token_url", a.token_url));
      ORDERSYNC_RETURN_IF_ERROR(need("client_id", a.client_id));
      ORDERSYNC_RETURN_IF_ERROR(a.method == "oauth2_jwt" ? need("private_key_file", a.private_key_file)
                                                         : need("client_secret_file", a.client_secret_file));
    }
    if ((t.http.transport.client_cert_file.empty()) != (t.http.transport.client_key_file.empty())) {
      return Status::InvalidArgument(key + ".http: client_cert_file and client_key_file go together" + in);
    }
    // Every kind the routing can send here: try each rule's company code and one that no
    // rule names, for every command kind.
    const Router router(c.engine.routing);
    std::vector<std::string> companies = {std::string("\x01(any other company)")};
    for (const RouteRule& r : c.engine.routing.rules) {
      if (r.company_code != "*") companies.push_back(r.company_code);
    }
    for (const EnumName<CommandKind>& k : CommandKindNames()) {
      if (ErpKindSupports(*kind, k.value)) continue;
      for (const std::string& company : companies) {
        if (router.Route(company, k.value) != t.name) continue;
        const std::string who = company[0] == '\x01' ? std::string("companies no rule names")
                                                      : "company_code '" + company + "'";
        return Status::InvalidArgument(key + ": routing sends " + std::string(k.name) + " commands of " + who +
                                       " to this target, and a " + t.kind + " target cannot take " +
                                       std::string(k.name) + " (docs/erp-connectors.md); route that kind to "
                                       "another target with a [[routing.rules]] entry (kind = \"" +
                                       std::string(k.name) + "\")" + in);
      }
    }
  }
  return Status::OK();
}

// A master-data check that is on needs the file it reads.
Status ValidateMasterDataChecks(const AppConfig& c, const std::string& in) {
  const MasterDataCheckOptions& k = c.engine.master_data;
  const MasterDataOptions& f = c.master_data;
  auto need = [&](bool on, const char* check, const std::string& file, const char* key) -> Status {
    if (!on || !file.empty()) return Status::OK();
    return Status::InvalidArgument(std::string("master_data.checks.") + check + ": needs master_data." + key +
                                   " (the file it checks against)" + in);
  };
  ORDERSYNC_RETURN_IF_ERROR(need(k.customer, "customer", f.customers, "customers"));
  ORDERSYNC_RETURN_IF_ERROR(need(k.currency, "currency", f.customers, "customers"));
  ORDERSYNC_RETURN_IF_ERROR(need(k.credit_hold, "credit_hold", f.customers, "customers"));
  ORDERSYNC_RETURN_IF_ERROR(need(k.item, "item", f.items, "items"));
  ORDERSYNC_RETURN_IF_ERROR(need(k.uom, "uom", f.items, "items"));
  ORDERSYNC_RETURN_IF_ERROR(need(k.price, "price", f.prices, "prices"));
  return Status::OK();
}

// [cluster]: names usable in etcd keys, endpoints that are URLs, and lease timing in
// which keep-alives can work (docs/cluster.md "Safety margin").
Status ValidateCluster(const ClusterOptions& c, const std::string& in) {
  auto valid_name = [](const std::string& s) {
    if (s.empty() || s.size() > 128) return false;
    for (char ch : s) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')) return false;
    }
    return true;
  };
  if (!valid_name(c.name)) {
    return Status::InvalidArgument("cluster.name: '" + c.name +
                                   "' may use only letters, digits, '-', '_' and '.' (1..128)" + in);
  }
  if (!c.node_id.empty() && !valid_name(c.node_id)) {
    return Status::InvalidArgument("cluster.node_id: '" + c.node_id +
                                   "' may use only letters, digits, '-', '_' and '.' (1..128)" + in);
  }
  for (const std::string& e : c.etcd_endpoints) {
    if (e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0) {
      return Status::InvalidArgument("cluster.etcd_endpoints: '" + e +
                                     "' is not an etcd client URL (http://host:port)" + in);
    }
  }
  for (const std::string& u : c.nats_urls) {
    if (u.rfind("nats://", 0) != 0 && u.rfind("tls://", 0) != 0) {
      return Status::InvalidArgument("cluster.nats_urls: '" + u + "' is not a NATS URL (nats://host:port)" + in);
    }
  }
  if (c.enabled && c.node_id.empty()) {
    return Status::InvalidArgument("cluster.node_id: required when cluster.enabled = true (unique per node, "
                                   "stable across restarts)" + in);
  }
  auto valid_token = [](const std::string& s) {
    for (char ch : s) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_')) return false;
    }
    return !s.empty();
  };
  if (!valid_token(c.stream)) {
    return Status::InvalidArgument("cluster.stream: '" + c.stream + "' may use only letters, digits, '-' and '_'" + in);
  }
  if (!valid_token(c.subject_prefix)) {
    return Status::InvalidArgument("cluster.subject_prefix: '" + c.subject_prefix +
                                   "' may use only letters, digits, '-' and '_' (one subject token)" + in);
  }
  const uint64_t ttl_ms = uint64_t{c.lease_ttl_s} * 1000;
  if (uint64_t{c.safety_margin_ms} * 2 > ttl_ms) {
    return Status::InvalidArgument("cluster.safety_margin_ms: " + std::to_string(c.safety_margin_ms) +
                                   " is more than half of lease_ttl_s (" + std::to_string(ttl_ms) +
                                   " ms); the node would stop its partitions before its first keep-alive" + in);
  }
  if (uint64_t{c.request_timeout_ms} * 3 > ttl_ms) {
    return Status::InvalidArgument("cluster.request_timeout_ms: " + std::to_string(c.request_timeout_ms) +
                                   " is more than a third of lease_ttl_s; one slow keep-alive would use up the "
                                   "time between two" + in);
  }
  return Status::OK();
}

// [reconcile.schedule.<target>]: a defined target, a window that is not empty, and a
// source the target can give.
Status ValidateReconcileSchedules(const AppConfig& c, const std::string& in) {
  for (const ReconcileScheduleOptions& s : c.reconcile.schedules) {
    const std::string key = "reconcile.schedule." + s.target;
    const ErpTargetOptions* target = c.erp.FindTarget(s.target);
    if (target == nullptr) {
      return Status::InvalidArgument(key + ": ERP target '" + s.target + "' is not defined (no [erp.targets." +
                                     s.target + "] table)" + in);
    }
    if (s.lookback_s <= s.settle_s) {
      return Status::InvalidArgument(key + ".lookback_s: " + std::to_string(s.lookback_s) +
                                     " must exceed settle_s " + std::to_string(s.settle_s) +
                                     " (each run checks now - lookback_s .. now - settle_s)" + in);
    }
    if (s.source == kReconcileSourceExport && s.export_path.empty()) {
      return Status::InvalidArgument(key + ".export_path: required for source \"export\" (the file the ERP "
                                     "drops)" + in);
    }
    if (s.source == kReconcileSourceApi) {
      const std::optional<ErpKind> kind = ErpKindFromName(target->kind);
      if (!kind || !IsHttpErpKind(*kind)) {
        return Status::InvalidArgument(key + ".source: \"api\" needs an HTTP target, and '" + s.target +
                                       "' is kind \"" + target->kind + "\" (use source = \"export\")" + in);
      }
      if (!s.export_path.empty()) {
        return Status::InvalidArgument(key + ".export_path: only for source \"export\"" + in);
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status ValidateCrossReferences(const AppConfig& c, std::string_view origin) {
  const std::string in = " (in " + std::string(origin) + ")";
  for (const ErpTargetOptions& t : c.erp.targets) {
    if (!ValidTargetName(t.name)) {
      return Status::InvalidArgument("erp.targets: target name '" + t.name +
                                     "' may use only letters, digits, '-' and '_'" + in);
    }
    if (t.outbox_low_water > t.outbox_high_water) {
      return Status::InvalidArgument("erp.targets." + t.name + ".outbox_low_water: " +
                                     std::to_string(t.outbox_low_water) + " is above outbox_high_water " +
                                     std::to_string(t.outbox_high_water) + in);
    }
  }
  ORDERSYNC_RETURN_IF_ERROR(ValidateHttpTargets(c, in));
  auto undefined = [&](const std::string& key, const std::string& target) {
    return Status::InvalidArgument(key + ": ERP target '" + target + "' is not defined (no [erp.targets." +
                                   target + "] table)" + in);
  };
  if (!c.edi_ingress.inbox_dir.empty() && c.edi_ingress.functional_acks && c.edi_ingress.outbox_dir.empty()) {
    return Status::InvalidArgument("ingress.edi.outbox_dir: must be set when ingress.edi.inbox_dir is (997s are "
                                   "written there; or set ingress.edi.functional_acks = false)" + in);
  }
  for (size_t i = 0; i < c.edi.partners.size(); ++i) {
    const EdiPartnerProfile& p = c.edi.partners[i];
    for (char ch : p.name) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')) {
        return Status::InvalidArgument("edi.partners[" + std::to_string(i) + "].name: '" + p.name +
                                       "' may use only letters, digits, '-', '_' and '.'" + in);
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (c.edi.partners[j].isa_qualifier == p.isa_qualifier && c.edi.partners[j].isa_id == p.isa_id) {
        return Status::InvalidArgument("edi.partners[" + std::to_string(i) + "]: ISA sender " + p.isa_qualifier +
                                       "/" + p.isa_id + " is already edi.partners[" + std::to_string(j) + "]" + in);
      }
    }
  }
  ORDERSYNC_RETURN_IF_ERROR(ValidateMasterDataChecks(c, in));
  ORDERSYNC_RETURN_IF_ERROR(ValidateCluster(c.cluster, in));
  ORDERSYNC_RETURN_IF_ERROR(ValidateReconcileSchedules(c, in));
  const RoutingOptions& r = c.engine.routing;
  if (!r.default_target.empty() && c.erp.FindTarget(r.default_target) == nullptr) {
    return undefined("routing.default_target", r.default_target);
  }
  for (size_t i = 0; i < r.rules.size(); ++i) {
    if (c.erp.FindTarget(r.rules[i].target) == nullptr) {
      return undefined("routing.rules[" + std::to_string(i) + "].target", r.rules[i].target);
    }
  }
  return Status::OK();
}

}  // namespace ordersync
