// EdiAnalysis: what ordersync makes of one X12 file, before anything is submitted: the
// parsed document, the partner of each interchange, and per transaction set either its
// milestone events (encoded and checked by the engine's validator) or why it is
// rejected, with the rule "a broken interchange rejects the interchange, a broken group
// the group, a bad set only itself". `ordersync edi check` prints it; the ingestor
// (edi_ingestor.h) submits its events and acknowledges it.
//
// Thread-safety: AnalyzeX12 is a pure function of its arguments.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/edi/edi_options.h"
#include "adapters/edi/x12_mapper.h"
#include "adapters/edi/x12_reader.h"
#include "engine/envelope_validator.h"

namespace ordersync {

struct EdiEvent {
  EnvelopeSpec spec;
  std::string bytes;  // the encoded Envelope (passed ValidateEnvelope)
};

struct EdiSetResult {
  size_t interchange = 0, group = 0, set = 0;  // indices into the document
  std::string key;                             // X12SetKey
  std::string set_id;                          // ST01
  std::string partner;                         // profile name ("" when unknown)
  X12Fault fault;       // effective: the set's own, its group's or its interchange's
  std::string review;   // accepted, deliberately not applied (why)
  std::vector<EdiEvent> events;
};

// A rejected part of the file that goes to the quarantine (the largest broken unit).
struct EdiRejectedPart {
  std::string reason, description, partner, key;
  std::string_view text;  // views into the document
};

struct EdiAnalysis {
  std::unique_ptr<X12Document> doc;
  // Per interchange: its partner profile (points into `profiles`), null when unknown.
  std::vector<const EdiPartnerProfile*> partners;
  std::vector<X12Fault> interchange_faults;  // the ISA/IEA fault, or edi_unknown_partner
  std::vector<EdiSetResult> sets;            // in file order
  std::vector<EdiRejectedPart> rejected;     // for the quarantine
  std::vector<EdiPartnerProfile> profiles;   // copies of the profiles used
  size_t events = 0;
  bool any_rejected = false;
};

// `allow_unknown`: senders without a profile get DefaultPartnerProfile instead of
// edi_unknown_partner.
EdiAnalysis AnalyzeX12(std::string_view content, const EdiOptions& partners, bool allow_unknown,
                       const ValidatorOptions& validation);

}  // namespace ordersync
