#include "adapters/edi/x12_mapper.h"

#include <ctime>
#include <map>
#include <optional>

namespace ordersync {
namespace {

using Segments = std::vector<X12Segment>;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string ElementName(std::string_view id, size_t i) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02zu", i);
  return std::string(id) + buf;
}

// A set-level rejection with the 997 details (AK3/AK4).
X12Fault Fault(std::string reason, std::string description, const X12Segment* seg = nullptr, size_t element = 0,
               const char* element_code = "", const char* segment_code = "8") {
  X12Fault f;
  f.reason = std::move(reason);
  f.description = std::move(description);
  f.ack_code = "5";  // one or more segments in error
  if (seg != nullptr) {
    f.segment_id = std::string(seg->id());
    f.segment_position = seg->position;
  }
  f.element_position = static_cast<uint32_t>(element);
  f.element_code = element_code;
  (void)segment_code;
  return f;
}

X12Fault BadElement(const X12Segment& seg, size_t i, const std::string& why) {
  const bool missing = Trim(seg.at(i)).empty();
  return Fault("edi_bad_element:" + ElementName(seg.id(), i),
               ElementName(seg.id(), i) + " (segment " + std::to_string(seg.position) + ") " +
                   (missing ? "is missing" : "'" + std::string(seg.at(i).substr(0, 40)) + "' " + why),
               &seg, i, missing ? "1" : "7");
}

X12Fault MissingSegment(std::string_view id, std::string_view set_id, const std::string& why = "") {
  X12Fault f = Fault("edi_missing_segment:" + std::string(id),
                     std::string(set_id) + " without " + std::string(id) + (why.empty() ? "" : " " + why));
  f.segment_id = std::string(id);
  f.element_code = "";
  return f;
}

// An integer quantity > 0 ("12", "12.000"); nullopt otherwise.
std::optional<int64_t> Quantity(std::string_view s) {
  s = Trim(s);
  const size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  if (dot != std::string_view::npos) {
    for (char c : s.substr(dot + 1)) {
      if (c != '0') return std::nullopt;
    }
  }
  if (!IsDigits(whole) || whole.size() > 15) return std::nullopt;
  const int64_t v = std::stoll(std::string(whole));
  if (v <= 0) return std::nullopt;
  return v;
}

std::string Uom(const EdiPartnerProfile& p, std::string_view code) {
  code = Trim(code);
  for (const auto& [from, to] : p.uom_map) {
    if (from == code) return to;
  }
  return std::string(code);
}

// The SKU among (qualifier, id) element pairs starting at the given positions; `case_code`
// is the element holding a U.P.C. case code (qualifier "UC"), 0 if none.
std::string FindSku(const X12Segment& seg, std::initializer_list<size_t> pair_starts, size_t case_code,
                    const std::string& qualifier) {
  if (qualifier == "UC" && case_code != 0) return std::string(Trim(seg.at(case_code)));
  for (size_t q : pair_starts) {
    const std::string_view qual = Trim(seg.at(q)), id = Trim(seg.at(q + 1));
    if (id.empty()) continue;
    if (qualifier.empty() || qual == qualifier) return std::string(id);
  }
  if (qualifier.empty() && case_code != 0) return std::string(Trim(seg.at(case_code)));
  return "";
}

X12Fault MissingSku(const X12Segment& seg, const std::string& qualifier) {
  return Fault("edi_missing_sku:" + (qualifier.empty() ? std::string("any") : qualifier),
               std::string(seg.id()) + " (segment " + std::to_string(seg.position) + ") carries no product id" +
                   (qualifier.empty() ? "" : " with qualifier " + qualifier + " (the partner's sku_qualifier)"),
               &seg, 0, "", "8");
}

const X12Segment* First(const Segments& segs, std::string_view id) {
  for (const X12Segment& s : segs) {
    if (s.id() == id) return &s;
  }
  return nullptr;
}

// The first N9/REF (`id`) with qualifier `qualifier`, its value.
std::string RefValue(const Segments& segs, size_t from, size_t to, std::string_view qualifier) {
  for (size_t i = from; i < to && i < segs.size(); ++i) {
    const X12Segment& s = segs[i];
    if ((s.id() == "REF" || s.id() == "N9") && Trim(s.at(1)) == qualifier && !Trim(s.at(2)).empty()) {
      return std::string(Trim(s.at(2)));
    }
  }
  return "";
}

// Segments whose first element is mandatory in every set we read.
X12Fault CheckCommonSegments(const Segments& segs) {
  for (const X12Segment& s : segs) {
    if ((s.id() == "N1" || s.id() == "N9" || s.id() == "REF") && Trim(s.at(1)).empty()) {
      return BadElement(s, 1, "");
    }
  }
  return {};
}

// GS04 (CCYYMMDD) + GS05 (HHMM[SS]) as ns since the epoch, UTC; 0 if unreadable.
int64_t GroupTime(const X12Group& g) {
  const std::string_view date = Trim(g.gs.at(4)), time = Trim(g.gs.at(5));
  if (!IsDigits(date) || (date.size() != 8 && date.size() != 6)) return 0;
  // CCYYMMDD; version 002001 and older groups use YYMMDD (taken as 20YY).
  const std::string d = date.size() == 8 ? std::string(date) : "20" + std::string(date);
  std::tm tm{};
  tm.tm_year = std::stoi(d.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(d.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(d.substr(6, 2));
  // Years 1970..2200: occurred_at_ns is int64 nanoseconds (overflows in 2262).
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 70 || tm.tm_year > 300) {
    return 0;
  }
  if (IsDigits(time) && time.size() >= 4) {
    tm.tm_hour = std::stoi(std::string(time.substr(0, 2))) % 24;
    tm.tm_min = std::stoi(std::string(time.substr(2, 2))) % 60;
    if (time.size() >= 6) tm.tm_sec = std::stoi(std::string(time.substr(4, 2))) % 60;
  }
  const time_t secs = timegm(&tm);
  return secs <= 0 ? 0 : static_cast<int64_t>(secs) * 1'000'000'000;
}

struct Context {
  const X12Interchange& x;
  const X12Group& g;
  const X12TransactionSet& set;
  const EdiPartnerProfile& p;
  std::string key;
  int64_t occurred_at_ns;

  EnvelopeSpec Event(Milestone kind, std::string_view order_id, std::string_view loop) const {
    EnvelopeSpec e;
    e.event_id = key + ":" + std::string(loop);
    e.correlation_id = key;
    e.order_id = std::string(order_id);
    e.source = p.name;
    e.company_code = p.company_code;
    e.occurred_at_ns = occurred_at_ns;
    e.kind = kind;
    e.customer_id.clear();
    e.currency.clear();
    e.warehouse.clear();
    e.carrier.clear();
    return e;
  }
};

X12Fault CheckOrderId(const X12Segment& seg, size_t i) {
  const std::string_view v = Trim(seg.at(i));
  if (v.empty() || v.size() > 64) return BadElement(seg, i, "is not an order id of 1-64 characters");
  return {};
}

void Map940(const Context& c, X12SetMapping* out) {
  const Segments& segs = c.set.segments;
  const X12Segment* w05 = First(segs, "W05");
  if (w05 == nullptr) {
    out->fault = MissingSegment("W05", "940");
    return;
  }
  const std::string_view purpose = Trim(w05->at(1));
  if (purpose != "N" && purpose != "F" && purpose != "R") {
    out->fault = BadElement(*w05, 1, "is not N (new), F (cancel) or R (replace)");
    return;
  }
  if (X12Fault f = CheckOrderId(*w05, 2); !f.ok()) {
    out->fault = f;
    return;
  }
  const std::string order_id(Trim(w05->at(2)));
  if (purpose == "F") {
    EnvelopeSpec e = c.Event(Milestone::OrderCancelled, order_id, "0");
    const X12Segment* nte = First(segs, "NTE");
    e.reason = nte != nullptr && !Trim(nte->at(2)).empty()
                   ? std::string(Trim(nte->at(2)).substr(0, 1024))
                   : "cancelled by " + c.p.name + " (940 W05*F)";
    out->events.push_back(std::move(e));
    return;
  }
  EnvelopeSpec e = c.Event(Milestone::OrderAccepted, order_id, "0");
  e.currency = c.p.currency;
  for (const X12Segment& s : segs) {
    if (s.id() == "N1" && Trim(s.at(1)) == "ST") {
      e.customer_id = std::string(Trim(!Trim(s.at(4)).empty() ? s.at(4) : s.at(2)).substr(0, 128));
      break;
    }
  }
  if (e.customer_id.empty()) e.customer_id = c.p.name;
  uint32_t next_line = 1;
  std::string_view lx;
  for (const X12Segment& s : segs) {
    if (s.id() == "LX") lx = Trim(s.at(1));
    if (s.id() != "W01") continue;
    const std::optional<int64_t> qty = Quantity(s.at(1));
    if (!qty) {
      out->fault = BadElement(s, 1, "is not a whole quantity above 0");
      return;
    }
    const std::string_view uom = Trim(s.at(2));
    if (uom.size() != 2 || !(uom[0] >= 'A' && uom[0] <= 'Z')) {
      out->fault = BadElement(s, 2, "is not a unit of measure code");
      return;
    }
    LineSpec line;
    line.sku = FindSku(s, {4, 6, 15}, 3, c.p.sku_qualifier);
    if (line.sku.empty() || line.sku.size() > 128) {
      out->fault = MissingSku(s, c.p.sku_qualifier);
      return;
    }
    line.qty = *qty;
    line.uom = Uom(c.p, uom);
    line.line_no = next_line;
    if (IsDigits(lx) && lx.size() < 9 && std::stoul(std::string(lx)) >= next_line) {
      line.line_no = static_cast<uint32_t>(std::stoul(std::string(lx)));
    }
    next_line = line.line_no + 1;
    lx = {};
    e.lines.push_back(std::move(line));
  }
  if (e.lines.empty()) {
    out->fault = MissingSegment("W01", "940", "(an order needs at least one line)");
    return;
  }
  out->events.push_back(std::move(e));
}

void Map945(const Context& c, X12SetMapping* out) {
  const Segments& segs = c.set.segments;
  const X12Segment* w06 = First(segs, "W06");
  if (w06 == nullptr) {
    out->fault = MissingSegment("W06", "945");
    return;
  }
  if (X12Fault f = CheckOrderId(*w06, 2); !f.ok()) {
    out->fault = f;
    return;
  }
  const std::string order_id(Trim(w06->at(2)));
  std::string shipment(Trim(w06->at(4)));
  if (shipment.empty()) shipment = std::string(Trim(w06->at(5)));
  if (shipment.empty()) shipment = order_id;
  if (shipment.size() > 128) {
    out->fault = BadElement(*w06, 4, "is longer than 128 characters");
    return;
  }
  std::string warehouse;
  for (const X12Segment& s : segs) {
    if (s.id() == "N1" && Trim(s.at(1)) == "SF") {
      warehouse = std::string(Trim(!Trim(s.at(4)).empty() ? s.at(4) : s.at(2)).substr(0, 128));
      break;
    }
  }
  if (warehouse.empty()) warehouse = !c.p.warehouse.empty() ? c.p.warehouse : c.p.name;
  std::vector<LineSpec> lines;
  uint32_t next_line = 1;
  std::string_view lx;
  for (const X12Segment& s : segs) {
    if (s.id() == "LX") lx = Trim(s.at(1));
    if (s.id() != "W12") continue;
    if (Trim(s.at(3)).empty() || Trim(s.at(3)) == "0") continue;  // nothing of this line shipped
    const std::optional<int64_t> qty = Quantity(s.at(3));
    if (!qty) {
      out->fault = BadElement(s, 3, "is not a whole quantity shipped");
      return;
    }
    LineSpec line;
    line.sku = FindSku(s, {7, 16}, 6, c.p.sku_qualifier);
    if (line.sku.empty() || line.sku.size() > 128) {
      out->fault = MissingSku(s, c.p.sku_qualifier);
      return;
    }
    line.qty = *qty;
    line.uom = Uom(c.p, s.at(5));
    line.line_no = next_line;
    if (IsDigits(lx) && lx.size() < 9 && std::stoul(std::string(lx)) >= next_line) {
      line.line_no = static_cast<uint32_t>(std::stoul(std::string(lx)));
    }
    next_line = line.line_no + 1;
    lx = {};
    lines.push_back(std::move(line));
  }
  if (lines.empty()) {
    out->fault = MissingSegment("W12", "945", "(no line with a shipped quantity)");
    return;
  }
  std::string carrier;
  if (const X12Segment* w27 = First(segs, "W27")) carrier = std::string(Trim(w27->at(2)).substr(0, 128));
  std::string tracking = RefValue(segs, 0, segs.size(), "CN");
  EnvelopeSpec reserved = c.Event(Milestone::InventoryReserved, order_id, "R");
  reserved.business_key = shipment;
  reserved.warehouse = warehouse;
  reserved.lines = lines;
  EnvelopeSpec picked = c.Event(Milestone::PickCompleted, order_id, "P");
  picked.business_key = shipment;
  picked.warehouse = warehouse;
  picked.lines = lines;
  EnvelopeSpec shipped = c.Event(Milestone::ShipmentDispatched, order_id, "S");
  shipped.business_key = shipment;
  shipped.carrier = carrier;
  shipped.tracking_no = tracking.substr(0, 128);
  shipped.lines = std::move(lines);
  out->events.push_back(std::move(reserved));
  out->events.push_back(std::move(picked));
  out->events.push_back(std::move(shipped));
}

void Map856(const Context& c, X12SetMapping* out) {
  const Segments& segs = c.set.segments;
  const X12Segment* bsn = First(segs, "BSN");
  if (bsn == nullptr) {
    out->fault = MissingSegment("BSN", "856");
    return;
  }
  const std::string_view purpose = Trim(bsn->at(1));
  if (purpose != "00" && purpose != "05" && purpose != "06" && purpose != "14" && purpose != "01") {
    out->fault = BadElement(*bsn, 1, "is not a purpose this reader applies (00, 05, 06, 14, 01)");
    return;
  }
  const std::string shipment(Trim(bsn->at(2)));
  if (shipment.empty() || shipment.size() > 128) {
    out->fault = BadElement(*bsn, 2, "is not a shipment id of 1-128 characters");
    return;
  }
  // The HL tree: each HL's level, parent, and the range of segments it holds.
  struct Level {
    std::string id, parent, code;
    size_t begin = 0, end = 0;  // segments [begin, end)
  };
  std::vector<Level> levels;
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].id() != "HL") continue;
    if (!levels.empty()) levels.back().end = i;
    Level l{std::string(Trim(segs[i].at(1))), std::string(Trim(segs[i].at(2))), std::string(Trim(segs[i].at(3))),
            i, segs.size()};
    if (l.id.empty() || by_id.count(l.id) != 0) {
      out->fault = BadElement(segs[i], 1, "is not a unique hierarchical id");
      return;
    }
    if (!l.parent.empty() && by_id.count(l.parent) == 0) {
      out->fault = BadElement(segs[i], 2, "names no earlier HL");
      return;
    }
    by_id.emplace(l.id, levels.size());
    levels.push_back(std::move(l));
  }
  if (levels.empty()) {
    out->fault = MissingSegment("HL", "856");
    return;
  }
  if (!levels.empty()) levels.back().end = segs.size() - 1;  // before SE
  // The order loop an HL belongs to (itself or an ancestor), or none.
  auto order_of = [&](size_t index) -> std::optional<size_t> {
    for (size_t hops = 0; hops < levels.size(); ++hops) {
      if (levels[index].code == "O") return index;
      auto it = by_id.find(levels[index].parent);
      if (it == by_id.end()) return std::nullopt;
      index = it->second;
    }
    return std::nullopt;
  };
  // Shipment-wide carrier and tracking (from the levels above the orders).
  auto tracking_in = [&](const Level& l) -> std::string {
    std::string t = RefValue(segs, l.begin, l.end, "CN");
    if (!t.empty()) return t;
    for (size_t i = l.begin; i < l.end; ++i) {
      const X12Segment& s = segs[i];
      if (s.id() == "MAN" && (Trim(s.at(1)) == "SM" || Trim(s.at(1)) == "CP") && !Trim(s.at(2)).empty()) {
        return std::string(Trim(s.at(2)));
      }
    }
    return "";
  };
  std::string carrier, shipment_tracking;
  for (const Level& l : levels) {
    if (l.code != "S") continue;
    for (size_t i = l.begin; i < l.end; ++i) {
      if (segs[i].id() == "TD5" && carrier.empty()) {
        carrier = std::string(Trim(!Trim(segs[i].at(3)).empty() ? segs[i].at(3) : segs[i].at(5)));
      }
    }
    if (shipment_tracking.empty()) shipment_tracking = tracking_in(l);
  }
  std::vector<size_t> orders;
  for (size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].code == "O") orders.push_back(i);
  }
  if (orders.empty()) {
    out->fault = Fault("edi_missing_loop:HL-O", "856 without an order level (HL03 = O): no order to ship against",
                       nullptr);
    out->fault.segment_id = "HL";
    return;
  }
  if (purpose == "01") {
    out->review = "856 BSN01=01 cancels ship notice " + shipment +
                  ": a dispatched shipment cannot be withdrawn automatically (its goods issue may be posted); "
                  "kept for an operator";
    return;
  }
  for (size_t o : orders) {
    const Level& ol = levels[o];
    std::string order_id;
    for (size_t i = ol.begin; i < ol.end; ++i) {
      if (segs[i].id() == "PRF" && !Trim(segs[i].at(1)).empty()) {
        order_id = std::string(Trim(segs[i].at(1)));
        break;
      }
    }
    if (order_id.empty()) order_id = RefValue(segs, ol.begin, ol.end, c.p.order_ref_qualifier);
    if (order_id.empty() || order_id.size() > 64) {
      X12Fault f = Fault("edi_missing_order_ref:HL" + ol.id,
                         "HL O loop " + ol.id + " has no PRF01 and no REF*" + c.p.order_ref_qualifier +
                             " order id of 1-64 characters",
                         &segs[ol.begin]);
      out->fault = f;
      out->events.clear();
      return;
    }
    EnvelopeSpec e = c.Event(Milestone::ShipmentDispatched, order_id, ol.id);
    e.business_key = shipment;
    e.carrier = carrier.substr(0, 128);
    e.tracking_no = tracking_in(ol);
    uint32_t next_line = 1;
    for (size_t li = 0; li < levels.size(); ++li) {
      const Level& l = levels[li];
      if (l.code != "I" || order_of(li) != o) continue;
      if (e.tracking_no.empty()) {
        // Pack-level tracking numbers (MAN*SM under HL P) count for the order.
        auto parent = by_id.find(l.parent);
        if (parent != by_id.end()) e.tracking_no = tracking_in(levels[parent->second]);
      }
      const X12Segment* lin = nullptr;
      const X12Segment* sn1 = nullptr;
      for (size_t i = l.begin; i < l.end; ++i) {
        if (segs[i].id() == "LIN" && lin == nullptr) lin = &segs[i];
        if (segs[i].id() == "SN1" && sn1 == nullptr) sn1 = &segs[i];
      }
      if (lin == nullptr || sn1 == nullptr) {
        out->fault = MissingSegment(lin == nullptr ? "LIN" : "SN1", "856 item level HL" + l.id);
        out->events.clear();
        return;
      }
      const std::optional<int64_t> qty = Quantity(sn1->at(2));
      if (!qty) {
        out->fault = BadElement(*sn1, 2, "is not a whole quantity above 0");
        out->events.clear();
        return;
      }
      LineSpec line;
      line.sku = FindSku(*lin, {2, 4, 6, 8, 10}, 0, c.p.sku_qualifier);
      if (line.sku.empty() || line.sku.size() > 128) {
        out->fault = MissingSku(*lin, c.p.sku_qualifier);
        out->events.clear();
        return;
      }
      line.qty = *qty;
      line.uom = Uom(c.p, sn1->at(3));
      line.line_no = next_line;
      for (std::string_view n : {Trim(lin->at(1)), Trim(sn1->at(1))}) {
        if (IsDigits(n) && n.size() < 9 && std::stoul(std::string(n)) >= next_line) {
          line.line_no = static_cast<uint32_t>(std::stoul(std::string(n)));
          break;
        }
      }
      next_line = line.line_no + 1;
      e.lines.push_back(std::move(line));
    }
    if (e.tracking_no.empty()) e.tracking_no = shipment_tracking;
    e.tracking_no = e.tracking_no.substr(0, 128);
    if (e.lines.empty()) {
      out->fault = MissingSegment("SN1", "856 order level HL" + ol.id, "(no item shipped for the order)");
      out->events.clear();
      return;
    }
    out->events.push_back(std::move(e));
  }
}

void Map180(const Context& c, X12SetMapping* out) {
  const Segments& segs = c.set.segments;
  const X12Segment* bgn = First(segs, "BGN");
  if (bgn == nullptr) {
    out->fault = MissingSegment("BGN", "180");
    return;
  }
  std::string return_id(Trim(bgn->at(2)));
  if (return_id.empty()) return_id = RefValue(segs, 0, segs.size(), "RA");
  if (return_id.empty() || return_id.size() > 128) {
    out->fault = BadElement(*bgn, 2, "is not a return id (and there is no N9*RA)");
    return;
  }
  const std::string order_id = RefValue(segs, 0, segs.size(), c.p.order_ref_qualifier);
  if (order_id.empty() || order_id.size() > 64) {
    out->fault = Fault("edi_missing_order_ref:" + c.p.order_ref_qualifier,
                       "180 without an N9/REF*" + c.p.order_ref_qualifier + " naming the order returned (1-64 characters)");
    out->fault.segment_id = "N9";
    return;
  }
  EnvelopeSpec e = c.Event(Milestone::ReturnReceived, order_id, "0");
  e.business_key = return_id;
  uint32_t line_no = 0;
  for (const X12Segment& s : segs) {
    if (s.id() != "BLI") continue;
    ++line_no;
    const std::optional<int64_t> qty = Quantity(s.at(3));
    if (!qty) {
      out->fault = BadElement(s, 3, "is not a whole quantity above 0");
      return;
    }
    LineSpec line;
    line.sku = FindSku(s, {1, 5, 7, 9}, 0, c.p.sku_qualifier);
    if (line.sku.empty() || line.sku.size() > 128) {
      out->fault = MissingSku(s, c.p.sku_qualifier);
      return;
    }
    line.qty = *qty;
    line.uom = Uom(c.p, s.at(4));
    line.line_no = line_no;
    e.lines.push_back(std::move(line));
  }
  if (e.lines.empty()) {
    out->fault = MissingSegment("BLI", "180");
    return;
  }
  out->events.push_back(std::move(e));
}

}  // namespace

std::string X12SetKey(const X12Interchange& x, const X12Group& g, const X12TransactionSet& set) {
  return "edi:" + x.sender_qualifier + "/" + x.sender_id + ":" + x.control + ":" + std::string(Trim(g.control)) + ":" +
         std::string(Trim(set.control));
}

EdiPartnerProfile DefaultPartnerProfile(const X12Interchange& x) {
  EdiPartnerProfile p;
  p.name = "EDI-" + x.sender_id;
  p.isa_qualifier = x.sender_qualifier;
  p.isa_id = x.sender_id;
  return p;
}

X12SetMapping MapTransactionSet(const X12Interchange& x, const X12Group& g, const X12TransactionSet& set,
                                const EdiPartnerProfile& partner) {
  X12SetMapping out;
  const std::string_view id = Trim(set.id);
  const bool supported = id == "940" || id == "945" || id == "856" || id == "180";
  if (!supported) {
    out.fault.reason = "edi_unsupported_set:" + std::string(id.substr(0, 8));
    out.fault.description = "transaction set " + std::string(id.substr(0, 8)) +
                            " is not read by ordersync (940, 945, 856 and 180 are)";
    out.fault.ack_code = "1";
    return out;
  }
  Context c{x, g, set, partner, X12SetKey(x, g, set), GroupTime(g)};
  if (c.occurred_at_ns <= 0) {
    out.fault = BadElement(g.gs, 4, "is not a date CCYYMMDD");
    return out;
  }
  if (X12Fault f = CheckCommonSegments(set.segments); !f.ok()) {
    out.fault = f;
    return out;
  }
  if (id == "940") Map940(c, &out);
  else if (id == "945") Map945(c, &out);
  else if (id == "856") Map856(c, &out);
  else Map180(c, &out);
  if (!out.fault.ok()) out.events.clear();
  for (const EnvelopeSpec& e : out.events) {
    if (e.event_id.size() > 128) {
      out.fault = Fault("edi_bad_element:ST02", "event id " + e.event_id + " is longer than 128 bytes");
      out.events.clear();
      break;
    }
  }
  return out;
}

}  // namespace ordersync
