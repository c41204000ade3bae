// libFuzzer target: the EDI X12 reader, the partner mapping and the 997 builder on
// arbitrary bytes. Asserts the reader's promises: it never crashes, every view points
// into the document's own storage, a set the reader accepts has its ST first and SE
// last, mapped events pass the engine's validator (AnalyzeX12 checks that itself), and a
// 997 for any readable group reads back as a clean interchange.
// Seeds: tests/edi/samples (the shared X12 samples). Smoke run in CTest
// (FuzzTest.X12ReaderSmoke); long sessions: docs/edi.md, "Fuzzing the reader".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/edi/edi_analysis.h"
#include "adapters/edi/functional_ack.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

bool Inside(const ordersync::X12Document& doc, std::string_view v) {
  if (v.empty()) return true;
  const char* begin = doc.storage.get();
  return v.data() >= begin && v.data() + v.size() <= begin + doc.storage_size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ordersync;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  EdiOptions partners;
  EdiPartnerProfile p;
  p.name = "FUZZ";
  p.isa_qualifier = "ZZ";
  p.isa_id = "VENDOR";
  p.sku_qualifier = "UP";
  p.uom_map = {{"CA", "CS"}};
  partners.partners.push_back(p);
  EdiAnalysis a = AnalyzeX12(input, partners, /*allow_unknown=*/true, ValidatorOptions{});
  const X12Document& doc = *a.doc;
  size_t sets = 0;
  for (const X12Interchange& x : doc.interchanges) {
    Require(Inside(doc, x.text));
    for (const X12Group& g : x.groups) {
      Require(Inside(doc, g.text));
      for (const X12TransactionSet& s : g.sets) {
        ++sets;
        Require(!s.segments.empty() && s.segments.front().id() == "ST");
        Require(Inside(doc, s.text));
        for (const X12Segment& seg : s.segments) {
          for (std::string_view e : seg.elements) Require(Inside(doc, e));
        }
        if (s.fault.ok()) Require(s.segments.back().id() == "SE");
      }
      std::vector<X12Fault> faults(g.sets.size());
      const std::string ack = Build997(x, g, faults, X12Fault{}, 1, 1'700'000'000'000'000'000);
      auto back = ParseX12(ack);
      Require(back->interchanges.size() == 1 && back->interchanges[0].groups.size() == 1);
      const X12Interchange& bx = back->interchanges[0];
      // A 997 for a sender whose ids are printable reads back clean.
      bool printable = true;
      for (const std::string* id : {&x.sender_id, &x.receiver_id}) {
        for (char c : *id) printable &= (c > ' ' && c < 0x7f && c != '*' && c != '~' && c != '>');
      }
      for (std::string_view v : {g.gs.at(2), g.gs.at(3), g.functional_id, g.control}) {
        for (char c : v) printable &= (c >= ' ' && c < 0x7f && c != '*' && c != '~' && c != '>');
      }
      for (const X12TransactionSet& s : g.sets) {
        for (std::string_view v : {s.id, s.control}) {
          for (char c : v) printable &= (c >= ' ' && c < 0x7f && c != '*' && c != '~' && c != '>');
        }
      }
      if (printable && x.usage.size() == 1) {
        Require(bx.groups[0].fault.ok());
        Require(bx.groups[0].sets.size() == 1 && bx.groups[0].sets[0].fault.ok());
      }
    }
  }
  Require(a.sets.size() == sets);
  for (const EdiSetResult& r : a.sets) Require(r.fault.ok() || r.events.empty());
  return 0;
}
