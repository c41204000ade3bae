// X12Reader: reads an ANSI X12 file (one or more ISA..IEA interchanges) into its
// envelopes and transaction sets, and checks the envelopes. It never throws and never
// reads out of bounds, whatever the input (tests/fuzz/x12_fuzz.cc).
//
// Grammar (separators come from each ISA; nothing is assumed about widths):
//
//   file        := [BOM] ws* interchange+            (ws: space, TAB, CR, LF)
//   interchange := "ISA" e ISA01 e ... e ISA15 e c t ws* segment-of-ISA*
//                  (e: element separator = the byte after "ISA"; c: ISA16, the component
//                   separator; t: the segment terminator = the byte after ISA16)
//   segment     := id (e element)* t ws*             (id: 2-3 upper-case letters/digits)
//   structure   := ISA (GS (ST segment* SE)* GE)* IEA
//
// Tolerated (each noted in X12Document::warnings): CR/LF and indentation after a
// terminator; CR/LF inside a segment when the terminator is not a line break (a wrapped
// line); a missing ISA16 (`...*P*~` followed by a line break: `~` is then the terminator,
// as the segments that follow show); ISA fields not padded to their fixed widths;
// IEA02/GE02 equal to ISA13/GS06 as numbers but not as text ("3438" vs "000003438").
//
// Checked, each failure with a stable reason code (docs/edi.md lists them all):
//   edi_missing_segment:ISA          the file does not start with an interchange
//   edi_bad_isa                      the ISA cannot be read (fields, separators)
//   edi_bad_segment                  a segment id that is not 2-3 letters/digits
//   edi_missing_segment:{IEA,GE,SE,GS}  an envelope not closed / a set outside a group
//   edi_unexpected_segment:<id>      a segment outside any transaction set
//   edi_segment_count:{SE01,GE01,IEA01}  declared count != actual count
//   edi_control_mismatch:{SE02,GE02,IEA02}  trailer control number != header's
// A failure of an interchange envelope rejects the interchange (all its groups and
// sets); of a group envelope, the group; of a set trailer, that set alone.
//
// Thread-safety: ParseX12 is a pure function; an X12Document is immutable once built.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ordersync {

// One segment: elements[0] is the segment id, elements[i] its i-th element. The views
// point into the owning X12Document.
struct X12Segment {
  std::vector<std::string_view> elements;
  uint32_t position = 0;  // 1-based position within its transaction set (ST = 1), or in the file

  std::string_view id() const { return elements.empty() ? std::string_view() : elements[0]; }
  // Element `i` (1-based), "" when absent.
  std::string_view at(size_t i) const { return i < elements.size() ? elements[i] : std::string_view(); }
};

// How a set, group or interchange failed: a reason code and what was wrong. Empty when ok.
struct X12Fault {
  std::string reason;       // e.g. "edi_segment_count:SE01"
  std::string description;  // e.g. "SE01 says 12 segments, the set has 9"
  // For the 997: AK5 (set) or AK9 (group) syntax error code, AK3 segment and AK4 element.
  std::string ack_code;     // X12 718 (set) / 716 (group) code, e.g. "4"
  std::string segment_id;   // AK301
  uint32_t segment_position = 0;  // AK302
  uint32_t element_position = 0;  // AK401 (0: no AK4)
  std::string element_code;       // AK403, X12 723 code, e.g. "1" mandatory element missing

  bool ok() const { return reason.empty(); }
};

struct X12TransactionSet {
  std::string_view id;       // ST01, e.g. "940"
  std::string_view control;  // ST02
  std::vector<X12Segment> segments;  // ST .. SE inclusive
  std::string_view text;     // the set's bytes in the (normalised) document, ST..SE
  X12Fault fault;            // envelope faults of this set (SE01, SE02, missing SE)
};

struct X12Group {
  X12Segment gs;
  std::string_view functional_id;  // GS01, e.g. "OW"
  std::string_view control;        // GS06
  std::vector<X12TransactionSet> sets;
  std::string_view text;
  X12Fault fault;  // GE01, GE02, missing GE
};

struct X12Interchange {
  X12Segment isa;
  std::string sender_qualifier, sender_id;      // ISA05, ISA06 (trimmed)
  std::string receiver_qualifier, receiver_id;  // ISA07, ISA08 (trimmed)
  std::string control;                          // ISA13 (trimmed)
  std::string usage;                            // ISA15: P(roduction) / T(est)
  char element_separator = '*';
  char component_separator = 0;  // 0 when ISA16 is missing
  char segment_terminator = '~';
  std::vector<X12Group> groups;
  std::string_view text;
  X12Fault fault;  // bad ISA, IEA01, IEA02, missing IEA
};

struct X12Document {
  std::vector<X12Interchange> interchanges;
  X12Fault fault;  // the file as a whole (no ISA at the start, data after the last IEA)
  std::vector<std::string> warnings;  // tolerated defects, for `ordersync edi check`
  // The normalised segment text every view points into (line breaks inside segments
  // removed). Stable: never resized after parsing.
  std::unique_ptr<char[]> storage;
  size_t storage_size = 0;
};

// Reads `input` (the whole file). Never fails as a call: faults are in the document.
std::unique_ptr<X12Document> ParseX12(std::string_view input);

// ISA/GS/ST control numbers compare as numbers when both are all digits (IEA02 "3438"
// matches ISA13 "000003438"), else as text.
bool SameControlNumber(std::string_view a, std::string_view b);

}  // namespace ordersync
