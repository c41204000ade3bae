#include "adapters/edi/x12_reader.h"

#include <cstring>

namespace ordersync {
namespace {

constexpr size_t kIsaFields = 16;
// No real ISA is longer than this (106 bytes fixed width, plus generous padding).
constexpr size_t kMaxIsaBytes = 512;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsLineBreak(char c) { return c == '\r' || c == '\n'; }
bool IsAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Printable form of a byte for descriptions.
std::string Show(char c) {
  if (c == '\n') return "LF";
  if (c == '\r') return "CR";
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    char buf[8];
    std::snprintf(buf, sizeof(buf), "0x%02x", static_cast<unsigned char>(c));
    return buf;
  }
  return std::string("'") + c + "'";
}

std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 40)) out += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  if (s.size() > 40) out += "...";
  return out + "'";
}

void SetFault(X12Fault* f, std::string reason, std::string description, std::string ack_code = "",
              std::string_view segment_id = {}, uint32_t segment_position = 0) {
  if (!f->ok()) return;  // the first fault wins
  f->reason = std::move(reason);
  f->description = std::move(description);
  f->ack_code = std::move(ack_code);
  f->segment_id = std::string(segment_id);
  f->segment_position = segment_position;
}

// Where the byte range of a segment ends in storage: after its terminator.
const char* SegmentEnd(const X12Segment& s) {
  const std::string_view last = s.elements.back();
  return last.data() + last.size() + 1;
}

std::string_view Span(const X12Segment& first, const X12Segment& last) {
  const char* begin = first.elements[0].data();
  return std::string_view(begin, static_cast<size_t>(SegmentEnd(last) - begin));
}

class Parser {
 public:
  explicit Parser(std::string_view input) : in_(input), doc_(std::make_unique<X12Document>()) {
    doc_->storage = std::make_unique<char[]>(input.size() + 1);
    doc_->storage_size = input.size() + 1;
  }

  std::unique_ptr<X12Document> Run() {
    if (in_.size() >= 3 && static_cast<unsigned char>(in_[0]) == 0xEF && static_cast<unsigned char>(in_[1]) == 0xBB &&
        static_cast<unsigned char>(in_[2]) == 0xBF) {
      pos_ = 3;
      doc_->warnings.push_back("UTF-8 byte order mark before the ISA skipped");
    }
    SkipSpace();
    if (pos_ >= in_.size()) {
      SetFault(&doc_->fault, "edi_missing_segment:ISA", "the file is empty");
      return std::move(doc_);
    }
    while (pos_ < in_.size()) {
      if (in_.compare(pos_, 3, "ISA") != 0) {
        SetFault(&doc_->fault, "edi_missing_segment:ISA",
                 doc_->interchanges.empty()
                     ? "the file does not start with an ISA interchange header (starts " + Quoted(in_.substr(pos_, 12)) + ")"
                     : "data after the last IEA at byte " + std::to_string(pos_) + " is not an interchange (" +
                           Quoted(in_.substr(pos_, 12)) + ")");
        break;
      }
      if (!ReadInterchange()) break;  // the rest of the file cannot be delimited
      SkipSpace();
    }
    return std::move(doc_);
  }

 private:
  void SkipSpace() {
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
  }

  // Appends bytes to storage, dropping line breaks (all of them when the terminator is not
  // a line break; CR only when it is LF).
  std::string_view Store(std::string_view raw, char terminator, bool* had_break) {
    char* out = doc_->storage.get() + used_;
    size_t n = 0;
    for (char c : raw) {
      if (IsLineBreak(c) && c != terminator) {
        *had_break = true;
        continue;
      }
      out[n++] = c;
    }
    used_ += n;
    return std::string_view(out, n);
  }
  void StoreTerminator(char t) { doc_->storage[used_++] = t; }

  // Splits stored segment text on the element separator.
  static void Split(std::string_view text, char e, X12Segment* seg) {
    seg->elements.clear();
    size_t start = 0;
    while (true) {
      const size_t at = text.find(e, start);
      if (at == std::string_view::npos) {
        seg->elements.push_back(text.substr(start));
        return;
      }
      seg->elements.push_back(text.substr(start, at - start));
      start = at + 1;
    }
  }

  // Reads the ISA at pos_ and its separators. False: the ISA is unreadable (the
  // interchange is recorded with edi_bad_isa and the rest of the file cannot be split).
  bool ReadIsa(X12Interchange* x) {
    const size_t start = pos_;
    auto bad = [&](const std::string& why) {
      SetFault(&x->fault, "edi_bad_isa", why, "", "ISA", 1);
      return false;
    };
    if (start + 4 > in_.size()) return bad("the file ends inside the ISA");
    const char e = in_[start + 3];
    if (IsAlnum(e) || IsSpace(e)) return bad("no element separator after 'ISA' (found " + Show(e) + ")");
    std::string_view fields[kIsaFields + 1];
    size_t q = start + 4;
    const size_t limit = std::min(in_.size(), start + kMaxIsaBytes);
    for (size_t k = 1; k < kIsaFields; ++k) {
      size_t at = q;
      while (at < limit && in_[at] != e && !IsLineBreak(in_[at])) ++at;
      if (at >= limit || in_[at] != e) {
        return bad("ISA has " + std::to_string(k - 1) + " of its 16 elements before " +
                   (at >= limit ? std::string("the end") : std::string("a line break")) + " (element separator " +
                   Show(e) + ")");
      }
      fields[k] = in_.substr(q, at - q);
      q = at + 1;
    }
    if (q >= in_.size()) return bad("the file ends before ISA16");
    char component = in_[q];
    char terminator = q + 1 < in_.size() ? in_[q + 1] : 0;
    size_t end = q + 2;  // just after the terminator
    if (IsLineBreak(component)) {
      // "...*P*" then a line break: ISA16 is missing and the line break ends the segment.
      terminator = component;
      component = 0;
      end = q + 1;
      doc_->warnings.push_back("ISA16 (component separator) missing; the line break ends the ISA");
    } else if (IsLineBreak(terminator) && !IsAlnum(component)) {
      // Either ISA16 = `component` with line-break terminators, or ISA16 is missing and
      // `component` is really the terminator. The GS line decides: it ends with the
      // terminator.
      size_t r = q + 1;
      while (r < in_.size() && IsSpace(in_[r])) ++r;
      size_t line_end = r;
      while (line_end < in_.size() && !IsLineBreak(in_[line_end])) ++line_end;
      if (line_end > r && in_[line_end - 1] == component) {
        terminator = component;
        component = 0;
        end = q + 1;
        doc_->warnings.push_back(std::string("ISA16 (component separator) missing: ") + Show(terminator) +
                                 " after ISA15 is the segment terminator, as the following segments show");
      }
    }
    if (terminator == 0) return bad("the file ends before the ISA's segment terminator");
    if (IsAlnum(terminator) || terminator == ' ' || terminator == e) {
      return bad("no segment terminator after ISA16 (found " + Show(terminator) + ")");
    }
    if (component != 0 && (IsAlnum(component) || component == e || IsSpace(component))) {
      return bad("ISA16 component separator " + Show(component) + " is not a delimiter");
    }
    // Field checks (widths relaxed: several real senders do not pad).
    auto digits = [&](int k, size_t min_len, size_t max_len) -> bool {
      const std::string_view v = Trim(fields[k]);
      return v.size() >= min_len && v.size() <= max_len && IsDigits(v);
    };
    auto text = [&](int k, size_t min_len, size_t max_len) -> bool {
      const std::string_view v = Trim(fields[k]);
      return v.size() >= min_len && fields[k].size() <= max_len;
    };
    struct Check {
      int k;
      bool ok;
      const char* what;
    } checks[] = {
        {1, digits(1, 2, 2), "2-digit authorization qualifier"},
        {2, text(2, 0, 10), "authorization information of at most 10 characters"},
        {3, digits(3, 2, 2), "2-digit security qualifier"},
        {4, text(4, 0, 10), "security information of at most 10 characters"},
        {5, text(5, 2, 2), "2-character sender id qualifier"},
        {6, text(6, 1, 15), "sender id of 1-15 characters"},
        {7, text(7, 2, 2), "2-character receiver id qualifier"},
        {8, text(8, 1, 15), "receiver id of 1-15 characters"},
        {9, digits(9, 6, 6), "date YYMMDD"},
        {10, digits(10, 4, 4), "time HHMM"},
        {11, fields[11].size() == 1, "one repetition separator / standards id character"},
        {12, digits(12, 5, 5), "5-digit version"},
        {13, digits(13, 1, 9), "control number of 1-9 digits"},
        {14, digits(14, 1, 1), "acknowledgment requested flag 0/1"},
        {15, fields[15] == "P" || fields[15] == "T" || fields[15] == "I", "usage indicator P, T or I"},
    };
    for (const Check& c : checks) {
      if (!c.ok) {
        char name[8];
        std::snprintf(name, sizeof(name), "ISA%02d", c.k);
        return bad(std::string(name) + " " + Quoted(fields[c.k]) + " is not a " + c.what);
      }
    }
    if (fields[6].size() != 15 || fields[8].size() != 15 || fields[2].size() != 10) {
      doc_->warnings.push_back("ISA fields are not padded to their fixed widths");
    }
    // Store the ISA (without line breaks) and split it.
    bool had_break = false;
    const std::string_view stored = Store(in_.substr(start, (component != 0 ? q + 1 : q) - start), terminator, &had_break);
    StoreTerminator(terminator);
    Split(stored, e, &x->isa);
    if (component == 0) {
      // The split ends with the empty element after ISA15's separator: that is ISA16.
      if (x->isa.elements.size() < kIsaFields + 1) {
        x->isa.elements.push_back(std::string_view(stored.data() + stored.size(), 0));
      }
    }
    x->isa.elements.resize(kIsaFields + 1);
    x->isa.position = 1;
    x->element_separator = e;
    x->component_separator = component;
    x->segment_terminator = terminator;
    x->sender_qualifier = std::string(Trim(fields[5]));
    x->sender_id = std::string(Trim(fields[6]));
    x->receiver_qualifier = std::string(Trim(fields[7]));
    x->receiver_id = std::string(Trim(fields[8]));
    x->control = std::string(Trim(fields[13]));
    x->usage = std::string(fields[15]);
    pos_ = end;
    return true;
  }

  // Reads segments after the ISA until IEA (inclusive), the next ISA or the end.
  void ReadSegments(const X12Interchange& x, std::vector<X12Segment>* out) {
    const char e = x.element_separator, t = x.segment_terminator;
    bool warned_break = false, warned_indent = false;
    uint32_t position = 1;
    while (true) {
      const size_t before = pos_;
      SkipSpace();
      if (pos_ > before && !IsLineBreak(t) && !warned_indent) {
        // Line breaks/indentation after a terminator: routine, noted once.
        warned_indent = true;
      }
      if (pos_ >= in_.size()) return;
      if (in_.compare(pos_, 3, "ISA") == 0 && pos_ + 3 < in_.size() && !IsAlnum(in_[pos_ + 3])) return;
      size_t end = in_.find(t, pos_);
      bool unterminated = false;
      if (end == std::string_view::npos) {
        end = in_.size();
        unterminated = true;
      }
      bool had_break = false;
      const std::string_view stored = Store(in_.substr(pos_, end - pos_), t, &had_break);
      StoreTerminator(t);
      pos_ = unterminated ? end : end + 1;
      if (had_break && !warned_break) {
        warned_break = true;
        doc_->warnings.push_back("line break inside a segment (a wrapped line) removed, first at segment " +
                                 std::to_string(position + 1) + " of interchange " + x.control);
      }
      if (unterminated) doc_->warnings.push_back("the last segment has no terminator");
      X12Segment seg;
      Split(stored, e, &seg);
      seg.position = ++position;
      const bool is_iea = seg.id() == "IEA";
      out->push_back(std::move(seg));
      if (is_iea) return;
    }
  }

  static bool ValidId(std::string_view id) {
    if (id.size() < 2 || id.size() > 3) return false;
    for (char c : id) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    }
    return true;
  }

  static void CloseSet(X12Group* g, X12TransactionSet* s, bool with_se) {
    if (!with_se) {
      const X12Segment& last = s->segments.back();
      SetFault(&s->fault, "edi_missing_segment:SE",
               "transaction set " + std::string(s->control) + " has no SE trailer", "2", last.id(), last.position);
    }
    s->text = Span(s->segments.front(), s->segments.back());
    if (!with_se) return;
    const X12Segment& se = s->segments.back();
    const std::string_view count = Trim(se.at(1));
    if (!IsDigits(count) || count.size() > 9 || std::stoul(std::string(count)) != s->segments.size()) {
      SetFault(&s->fault, "edi_segment_count:SE01",
               "SE01 says " + Quoted(se.at(1)) + " segments, the set has " + std::to_string(s->segments.size()),
               "4", "SE", se.position);
    }
    if (se.at(2) != s->control) {
      SetFault(&s->fault, "edi_control_mismatch:SE02",
               "SE02 " + Quoted(se.at(2)) + " does not match ST02 " + Quoted(s->control), "3", "SE", se.position);
    }
  }

  static void CloseGroup(X12Group* g, const X12Segment* ge, const X12Segment& last) {
    g->text = Span(g->gs, ge != nullptr ? *ge : last);
    if (ge == nullptr) {
      SetFault(&g->fault, "edi_missing_segment:GE", "functional group " + std::string(g->control) + " has no GE trailer",
               "3");
      return;
    }
    const std::string_view count = Trim(ge->at(1));
    if (!IsDigits(count) || count.size() > 9 || std::stoul(std::string(count)) != g->sets.size()) {
      SetFault(&g->fault, "edi_segment_count:GE01",
               "GE01 says " + Quoted(ge->at(1)) + " transaction sets, the group has " + std::to_string(g->sets.size()),
               "5");
    }
    if (!SameControlNumber(ge->at(2), g->control)) {
      SetFault(&g->fault, "edi_control_mismatch:GE02",
               "GE02 " + Quoted(ge->at(2)) + " does not match GS06 " + Quoted(g->control), "4");
    }
  }

  void Structure(X12Interchange* x, std::vector<X12Segment>& segs) {
    X12Group* group = nullptr;
    X12TransactionSet* set = nullptr;
    const X12Segment* last = &x->isa;
    bool closed = false;
    auto fault_here = [&](std::string reason, std::string description, const X12Segment& seg) {
      if (group != nullptr) {
        SetFault(&group->fault, std::move(reason), std::move(description), "3", seg.id(), seg.position);
      } else {
        SetFault(&x->fault, std::move(reason), std::move(description), "", seg.id(), seg.position);
      }
    };
    for (X12Segment& seg : segs) {
      const std::string_view id = seg.id();
      if (!ValidId(id)) {
        if (set != nullptr) {
          seg.position = static_cast<uint32_t>(set->segments.size() + 1);
          set->segments.push_back(seg);
          SetFault(&set->fault, "edi_bad_segment",
                   "segment " + std::to_string(seg.position) + " of set " + std::string(set->control) +
                       " has no valid segment id: " + Quoted(seg.elements[0]),
                   "5", "", seg.position);
          last = &seg;
          continue;
        }
        fault_here("edi_bad_segment", "segment " + std::to_string(seg.position) + " has no valid segment id: " +
                                          Quoted(seg.elements[0]), seg);
        last = &seg;
        continue;
      }
      if (id == "ST") {
        if (set != nullptr) CloseSet(group, set, false);
        set = nullptr;
        if (group == nullptr) {
          SetFault(&x->fault, "edi_missing_segment:GS",
                   "transaction set " + std::string(seg.at(2)) + " is not inside a functional group (GS)", "", "ST",
                   seg.position);
          last = &seg;
          continue;
        }
        group->sets.emplace_back();
        set = &group->sets.back();
        set->id = seg.at(1);
        set->control = seg.at(2);
        seg.position = 1;
        set->segments.push_back(seg);
      } else if (set != nullptr && id == "SE") {
        seg.position = static_cast<uint32_t>(set->segments.size() + 1);
        set->segments.push_back(seg);
        CloseSet(group, set, true);
        set = nullptr;
      } else if (set != nullptr && id != "GS" && id != "GE" && id != "IEA") {
        seg.position = static_cast<uint32_t>(set->segments.size() + 1);
        set->segments.push_back(seg);
      } else if (id == "GS") {
        if (set != nullptr) CloseSet(group, set, false);
        set = nullptr;
        if (group != nullptr) CloseGroup(group, nullptr, *last);
        x->groups.emplace_back();
        group = &x->groups.back();
        group->gs = seg;
        group->functional_id = seg.at(1);
        group->control = seg.at(6);
      } else if (id == "GE") {
        if (set != nullptr) CloseSet(group, set, false);
        set = nullptr;
        if (group == nullptr) {
          SetFault(&x->fault, "edi_unexpected_segment:GE", "GE without a GS", "", "GE", seg.position);
        } else {
          CloseGroup(group, &seg, seg);
          group = nullptr;
        }
      } else if (id == "IEA") {
        if (set != nullptr) CloseSet(group, set, false);
        set = nullptr;
        if (group != nullptr) CloseGroup(group, nullptr, *last);
        group = nullptr;
        closed = true;
        x->text = Span(x->isa, seg);
        const std::string_view count = Trim(seg.at(1));
        if (!IsDigits(count) || count.size() > 9 || std::stoul(std::string(count)) != x->groups.size()) {
          SetFault(&x->fault, "edi_segment_count:IEA01",
                   "IEA01 says " + Quoted(seg.at(1)) + " functional groups, the interchange has " +
                       std::to_string(x->groups.size()),
                   "", "IEA", seg.position);
        }
        if (!SameControlNumber(seg.at(2), x->control)) {
          SetFault(&x->fault, "edi_control_mismatch:IEA02",
                   "IEA02 " + Quoted(seg.at(2)) + " does not match ISA13 " + Quoted(x->control), "", "IEA",
                   seg.position);
        }
        last = &seg;
        break;
      } else {
        fault_here("edi_unexpected_segment:" + std::string(id),
                   "segment " + std::string(id) + " outside any transaction set", seg);
      }
      last = &seg;
    }
    if (!closed) {
      if (set != nullptr) CloseSet(group, set, false);
      if (group != nullptr) CloseGroup(group, nullptr, *last);
      x->text = Span(x->isa, *last);
      SetFault(&x->fault, "edi_missing_segment:IEA", "interchange " + x->control + " has no IEA trailer");
    }
  }

  // Returns false when the file cannot be read past this interchange.
  bool ReadInterchange() {
    doc_->interchanges.emplace_back();
    X12Interchange* x = &doc_->interchanges.back();
    if (!ReadIsa(x)) {
      bool had_break = false;
      x->text = Store(in_.substr(pos_, std::min<size_t>(in_.size() - pos_, kMaxIsaBytes)), 0, &had_break);
      pos_ = in_.size();
      return false;
    }
    std::vector<X12Segment> segs;
    ReadSegments(*x, &segs);
    Structure(x, segs);
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t used_ = 0;
  std::unique_ptr<X12Document> doc_;
};

}  // namespace

bool SameControlNumber(std::string_view a, std::string_view b) {
  a = Trim(a);
  b = Trim(b);
  if (IsDigits(a) && IsDigits(b)) {
    while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
    while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
  }
  return a == b;
}

std::unique_ptr<X12Document> ParseX12(std::string_view input) { return Parser(input).Run(); }

}  // namespace ordersync
