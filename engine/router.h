// Router: maps a company_code and a command kind to an ERP target name, by the first
// matching [routing] rule, else the default target. An empty result means "no route":
// the event becomes a business_rule exception rather than a silent drop.
// Thread-safety: immutable after construction; any thread.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine_options.h"

namespace ordersync {

class Router {
 public:
  explicit Router(const RoutingOptions& options) : options_(options) {}

  std::string_view Route(std::string_view company_code, CommandKind kind) const {
    for (const RouteRule& r : options_.rules) {
      if ((r.company_code == "*" || r.company_code == company_code) && (!r.match_kind || r.kind == kind)) {
        return r.target;
      }
    }
    return options_.default_target;
  }

  // Every target a command can be routed to (rules' targets and the default), once each.
  std::vector<std::string> Targets() const {
    std::vector<std::string> out;
    auto add = [&out](const std::string& t) {
      if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    };
    for (const RouteRule& r : options_.rules) add(r.target);
    add(options_.default_target);
    return out;
  }

 private:
  const RoutingOptions& options_;
};

}  // namespace ordersync
