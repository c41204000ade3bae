#include "adapters/edi/edi_analysis.h"

#include <cstring>

namespace ordersync {

EdiAnalysis AnalyzeX12(std::string_view content, const EdiOptions& options, bool allow_unknown,
                       const ValidatorOptions& validation) {
  EdiAnalysis a;
  a.doc = ParseX12(content);
  const X12Document& doc = *a.doc;
  if (!doc.fault.ok()) {
    a.any_rejected = true;
    // The unreadable tail (or the whole file) as one part.
    a.rejected.push_back({doc.fault.reason, doc.fault.description, "", "", content.substr(0, 64 * 1024)});
  }
  a.profiles.reserve(doc.interchanges.size());
  MilestoneBuilder builder;
  for (size_t xi = 0; xi < doc.interchanges.size(); ++xi) {
    const X12Interchange& x = doc.interchanges[xi];
    X12Fault xfault = x.fault;
    const EdiPartnerProfile* partner = nullptr;
    if (xfault.reason != "edi_bad_isa") {
      if (const EdiPartnerProfile* p = options.FindPartner(x.sender_qualifier, x.sender_id)) {
        a.profiles.push_back(*p);
        partner = &a.profiles.back();
      } else if (allow_unknown) {
        a.profiles.push_back(DefaultPartnerProfile(x));
        partner = &a.profiles.back();
      } else if (xfault.ok()) {
        xfault.reason = "edi_unknown_partner:" + x.sender_qualifier + "/" + x.sender_id;
        xfault.description = "no [[edi.partners]] profile has isa_qualifier = \"" + x.sender_qualifier +
                             "\" and isa_id = \"" + x.sender_id + "\"";
      }
    }
    a.partners.push_back(partner);
    a.interchange_faults.push_back(xfault);
    const std::string partner_name = partner != nullptr ? partner->name : "";
    if (!xfault.ok()) {
      a.any_rejected = true;
      a.rejected.push_back({xfault.reason, xfault.description, partner_name, "interchange " + x.control, x.text});
    }
    for (size_t gi = 0; gi < x.groups.size(); ++gi) {
      const X12Group& g = x.groups[gi];
      if (xfault.ok() && !g.fault.ok()) {
        a.any_rejected = true;
        a.rejected.push_back({g.fault.reason, g.fault.description, partner_name,
                              "interchange " + x.control + " group " + std::string(g.control), g.text});
      }
      for (size_t si = 0; si < g.sets.size(); ++si) {
        const X12TransactionSet& set = g.sets[si];
        EdiSetResult r;
        r.interchange = xi;
        r.group = gi;
        r.set = si;
        r.key = X12SetKey(x, g, set);
        r.set_id = std::string(set.id);
        r.partner = partner_name;
        if (!set.fault.ok()) {
          r.fault = set.fault;
        } else if (!xfault.ok()) {
          r.fault = xfault;
        } else if (!g.fault.ok()) {
          r.fault = g.fault;
        } else {
          X12SetMapping m = MapTransactionSet(x, g, set, *partner);
          r.fault = std::move(m.fault);
          r.review = std::move(m.review);
          for (EnvelopeSpec& spec : m.events) {
            EdiEvent e;
            e.bytes = std::string(builder.Build(spec));
            // Aligned copy for the verifier (std::string data is at least 8-byte aligned
            // for heap buffers; small-string storage may not be).
            std::vector<uint64_t> aligned((e.bytes.size() + 7) / 8 + 1);
            std::memcpy(aligned.data(), e.bytes.data(), e.bytes.size());
            const Envelope* envelope = nullptr;
            const Rejection rejection = ValidateEnvelope(reinterpret_cast<const uint8_t*>(aligned.data()),
                                                         e.bytes.size(), validation, &envelope);
            if (!rejection.ok()) {
              r.fault = X12Fault{};
              r.fault.reason = "edi_invalid_event:" + rejection.ToString();
              r.fault.description = "event " + spec.event_id + " mapped from the set breaks the event contract: " +
                                    rejection.Describe();
              r.fault.ack_code = "5";
              r.events.clear();
              break;
            }
            e.spec = std::move(spec);
            r.events.push_back(std::move(e));
          }
        }
        // Set-level parts go to the quarantine alone when the envelopes around them are fine.
        if (!r.fault.ok() && xfault.ok() && g.fault.ok()) {
          a.rejected.push_back({r.fault.reason, r.fault.description, partner_name, r.key, set.text});
        } else if (!r.review.empty()) {
          a.rejected.push_back({"edi_review:" + r.set_id, r.review, partner_name, r.key, set.text});
        }
        if (!r.fault.ok()) a.any_rejected = true;
        a.events += r.events.size();
        a.sets.push_back(std::move(r));
      }
    }
  }
  return a;
}

}  // namespace ordersync
