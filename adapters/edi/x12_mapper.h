// X12 mapper: turns one checked X12 transaction set into milestone events
// (adapters/producer EnvelopeSpec) under the sending partner's profile
// (adapters/edi/edi_options.h), or says precisely why it cannot.
//
//   940 W05*N  -> OrderAccepted (order W0502, lines from W01)
//   940 W05*R  -> OrderAccepted again: the engine's business dedup answers Duplicate when
//                 it is identical and records a conflicting_duplicate exception for
//                 review when it differs (never a second order, never silently dropped)
//   940 W05*F  -> OrderCancelled
//   945        -> InventoryReserved + PickCompleted + ShipmentDispatched for the shipped
//                 W12 lines (a 3PL's shipping advice implies the reservation and the
//                 pick); every business key is the 945's shipment id (W0604, else W0605,
//                 else the order id)
//   856        -> one ShipmentDispatched per HL O loop (order PRF01, else the profile's
//                 REF; shipment BSN02; carrier TD5; tracking REF*CN or MAN*SM/CP; lines
//                 from the HL I loops below it). BSN01 00/06/14 original, 05 replace (as
//                 the 940's R), 01 cancel: not applied, kept for review (`review`)
//   180        -> ReturnReceived (return BGN02, else N9*RA; order N9/REF with the
//                 profile's order_ref_qualifier; lines from BLI)
//   any other  -> edi_unsupported_set:<id>
//
// Event ids are "edi:<ISA05>/<ISA06>:<ISA13>:<GS06>:<ST02>:<loop>" (loop: "0", the HL01
// of an 856 order loop, or R/P/S for a 945's three milestones), so a resent file carries
// the same ids and is answered Duplicate. occurred_at is GS04/GS05 (UTC).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "adapters/edi/edi_options.h"
#include "adapters/edi/x12_reader.h"
#include "adapters/producer/milestone_builder.h"

namespace ordersync {

struct X12SetMapping {
  std::vector<EnvelopeSpec> events;
  X12Fault fault;      // why the set was rejected (then `events` is empty)
  std::string review;  // set accepted but deliberately not applied (856 BSN01=01), why
};

// Maps `set` of `group` in `interchange` for `partner`. REQUIRES: set.fault.ok().
X12SetMapping MapTransactionSet(const X12Interchange& interchange, const X12Group& group,
                                const X12TransactionSet& set, const EdiPartnerProfile& partner);

// The profile `ordersync edi check` uses for a sender with no [[edi.partners]] entry:
// named EDI-<ISA06>, first product id as SKU.
EdiPartnerProfile DefaultPartnerProfile(const X12Interchange& interchange);

// "edi:<ISA05>/<ISA06>:<ISA13>:<GS06>:<ST02>" (append ":<loop>" for an event id).
std::string X12SetKey(const X12Interchange& interchange, const X12Group& group, const X12TransactionSet& set);

}  // namespace ordersync
