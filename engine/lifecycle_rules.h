// The order lifecycle as data: one LifecycleRule per milestone kind, in one table
// (lifecycle_rules.cc). A rule says what must already be true of the order (else the event
// is parked until it is), which business rules can refuse the event for good (an
// exception), and how the event changes the order and which ERP commands it issues.
//
// Evaluate() decides; the rule's apply() changes state. Both are pure functions of the
// order and the event: no I/O, no clock, no threads. The EventProcessor adds dedup,
// sequencing, routing and persistence around them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/engine_options.h"
#include "engine/event_view.h"
#include "engine/order_state.h"
#include "erp_generated.h"

namespace ordersync {

// What an event waits for when it arrives early. Its name is the `<what>` in
// "missing_prerequisite:<what>".
enum class Prerequisite : uint8_t {
  kNone,
  kOrderAccepted,      // order_accepted: the order exists
  kReservationCovers,  // reservation: reserved qty covers picked + this pick, per line
  kPickCovers,         // pick: picked qty covers shipped + this shipment, per line
  kShipmentExists,     // shipment: the shipment_id was dispatched
  kShipmentCovers,     // shipment: shipped qty covers returned + this return, per line
  kSourceSeq,          // source_seq: the previous event of this (order, source)
  kCreditHold,         // credit_hold: the customer's credit hold is cleared (master data)
};
std::string_view PrerequisiteName(Prerequisite p);

enum class FailureClass : uint8_t {
  kInvalidInput,          // the event contradicts the order's own data (unknown line, sku)
  kBusinessRule,          // not allowed in the order's state (cancelled, over-reserved, ...)
  kMissingPrerequisite,   // parked too long: its prerequisite never arrived
  kConflictingDuplicate,  // same event_id or business key, different content
  kMasterData,            // customer / item / unit / currency / list price not as the master data says
  kPriceMismatch,         // unit price outside the tolerance of the list price
};
std::string_view FailureClassName(FailureClass c);

struct Verdict {
  enum class Kind : uint8_t { kApply, kPark, kException };
  Kind kind = Kind::kApply;
  Prerequisite waiting_for = Prerequisite::kNone;        // kPark
  FailureClass failure_class = FailureClass::kBusinessRule;  // kException
  std::string reason;                                    // kException: "order_cancelled", ...

  static Verdict Apply() { return {}; }
  static Verdict Park(Prerequisite p) { return {Kind::kPark, p, FailureClass::kMissingPrerequisite, {}}; }
  static Verdict Exception(FailureClass c, std::string reason) { return {Kind::kException, Prerequisite::kNone, c, std::move(reason)}; }
};

// Lines of a command: either the event's own lines or lines stored in the order.
struct LinesRef {
  const LineVector* event = nullptr;
  const std::vector<LineItem>* stored = nullptr;
};

// Receives the commands an applied event issues, in order.
class CommandEmitter {
 public:
  virtual ~CommandEmitter() = default;
  virtual void Emit(CommandKind kind, std::string_view business_key, LinesRef lines) = 0;
};

struct LifecycleRule {
  Milestone kind;
  // The order must be accepted first (else park: order_accepted).
  bool needs_order;
  // Further prerequisite checked after needs_order (else park).
  Prerequisite needs;
  // Refused with business_rule "order_cancelled" once the order is cancelled.
  bool refused_when_cancelled;
  // Every command kind the event may issue (for routing checks before anything changes).
  std::array<CommandKind, 2> emits;
  uint8_t emits_count;
  // Business rules waiting cannot fix; Verdict::Apply() if none is broken. May be null.
  Verdict (*guard)(const OrderState& order, const EventView& event);
  // Changes the order and emits commands. REQUIRES: Evaluate() returned kApply.
  void (*apply)(OrderState& order, const EventView& event, const EngineOptions& options, CommandEmitter& out);
};

// The rule for `kind`, or null for NONE / unknown kinds.
const LifecycleRule* FindRule(Milestone kind);

// Cancellation, prerequisites, line references and guards, in that order.
Verdict Evaluate(const LifecycleRule& rule, const OrderState& order, const EventView& event);

}  // namespace ordersync
