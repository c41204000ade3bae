// Deterministic ERP command ids. A command id is derived only from the business fact it
// posts, so a crash, a retry, a replay or a re-delivered event yields the same id, and an
// ERP that keys idempotency on it posts each fact once:
//
//   command_id := order_id "/" code "/" business_key
//   code       := SO | AL | GI | INV | CM | RA | CX | ADJ   (one per CommandKind)
//
// e.g. "SO-1001/GI/SHP-7" is the goods issue of shipment SHP-7 of order SO-1001.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "erp_generated.h"

namespace ordersync {

std::string_view CommandKindCode(CommandKind kind);

inline void MakeCommandId(std::string_view order_id, CommandKind kind, std::string_view business_key,
                          std::string* out) {
  out->assign(order_id).push_back('/');
  out->append(CommandKindCode(kind)).push_back('/');
  out->append(business_key);
}

}  // namespace ordersync
