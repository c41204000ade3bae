// The TOML spellings of the enum-valued options, in one place so the loader, the dumper
// and the startup banner agree. Enum names of the contract (milestone kinds, command
// kinds) come from the FlatBuffers-generated tables, so a kind added to schemas/*.fbs
// becomes configurable without touching this file.
//
// Thread-safety: immutable after first use (function-local statics); call from any thread.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "engine/engine_options.h"

namespace ordersync {

// One spelling of one enum value.
template <typename E>
struct EnumName {
  std::string_view name;
  E value;
};

inline constexpr std::array<EnumName<Durability>, 3> kDurabilityNames{{
    {"wal", Durability::kWal},
    {"fsync", Durability::kFsync},
    {"none", Durability::kNone},
}};

inline constexpr std::array<EnumName<BillOn>, 2> kBillOnNames{{
    {"ship", BillOn::kShip},
    {"delivery", BillOn::kDelivery},
}};

inline constexpr std::array<std::string_view, 7> kLogLevelNames{
    "trace", "debug", "info", "warn", "error", "critical", "off"};

inline constexpr std::array<std::string_view, 2> kLogFormatNames{"text", "json"};

// [erp.targets.<name>.auth] method and jwt_algorithm (adapters/erp/connectors/).
inline constexpr std::array<std::string_view, 4> kHttpAuthMethodNames{"none", "basic", "oauth2_client_secret",
                                                                       "oauth2_jwt"};
inline constexpr std::array<std::string_view, 2> kJwtAlgorithmNames{"RS256", "PS256"};

// Every milestone kind a producer can send (Milestone::NONE excluded), by schema name:
// "OrderAccepted", "InventoryReserved", ...
std::span<const EnumName<Milestone>> MilestoneKindNames();

// Every ERP command kind by schema name: "CreateSalesOrder", "ConfirmAllocation", ...
std::span<const EnumName<CommandKind>> CommandKindNames();

// The spelling of `value` in `names`, or "?" if it has none (a value this build does not
// know, e.g. from a newer schema).
template <typename E>
std::string_view NameOf(std::span<const EnumName<E>> names, E value) {
  for (const EnumName<E>& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

inline std::string_view DurabilityName(Durability d) {
  return NameOf<Durability>(kDurabilityNames, d);
}
inline std::string_view BillOnName(BillOn b) { return NameOf<BillOn>(kBillOnNames, b); }

}  // namespace ordersync
