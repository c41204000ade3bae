// MasterDataCheck: the master-data checks of an OrderAccepted event, as a pure function of
// the event, the snapshot and the options (engine_options.h MasterDataCheckOptions), and
// the verdict they give. Checks run in this order and the first that fails decides:
//
//   customer   unknown_customer | inactive_customer | customer_company_mismatch  -> master_data
//   currency   currency_mismatch (order vs customer)                              -> master_data
//   item       unknown_sku | inactive_sku (every line)                            -> master_data
//   uom        wrong_uom (every line)                                             -> master_data
//   price      no_list_price                                                      -> master_data
//              price_outside_tolerance (both prices shown)                        -> price_mismatch
//   credit     the customer is on credit hold                                     -> hold (parked: credit_hold)
//
// A reason is "<code>:<detail> (master data <version>)", e.g.
//   "wrong_uom:line 2 SKU-7 ordered in BOX, the item master says EA (master data md-1a2b3c4d5e6f)".
//
// The verdict is recorded in the event's log item (engine/log_record.h), so a replay
// decides as the original run did whatever master data is loaded then
// (engine/master_data_gate.h).
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine_options.h"
#include "engine/event_view.h"
#include "engine/lifecycle_rules.h"
#include "engine/master_data.h"

namespace ordersync {

struct MasterDataVerdict {
  enum class Kind : uint8_t {
    kNone = 0,       // no check applied (all off, or not an OrderAccepted)
    kPass = 1,       // checked against `version`, nothing wrong
    kException = 2,  // failure_class (kMasterData | kPriceMismatch) with `reason`
    kHold = 3,       // customer on credit hold: park until cleared
  };
  Kind kind = Kind::kNone;
  FailureClass failure_class = FailureClass::kMasterData;
  std::string version;
  std::string reason;  // kException: "<code>:<detail> (master data v)"; kHold: "credit_hold:<customer_id>"
};

// Evaluates the checks `options` turns on for OrderAccepted `event` against `data`.
// REQUIRES: event.kind == Milestone::OrderAccepted. Sets *out (kNone if no check is on).
void EvaluateMasterData(const MasterDataSnapshot& data, const MasterDataCheckOptions& options, const EventView& event,
                        MasterDataVerdict* out);

// The customer a hold verdict waits for ("credit_hold:<customer_id>" -> customer_id).
std::string_view HeldCustomer(const MasterDataVerdict& verdict);

}  // namespace ordersync
