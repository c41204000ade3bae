#include "engine/order_state.h"

#include "engine/coding.h"
#include "storage_generated.h"

namespace ordersync {

namespace fb = flatbuffers;
namespace st = storage;

const LineState* OrderState::FindLine(uint32_t line_no) const {
  for (const LineState& l : lines) {
    if (l.line_no == line_no) return &l;
  }
  return nullptr;
}

LineState* OrderState::FindLine(uint32_t line_no) {
  return const_cast<LineState*>(static_cast<const OrderState*>(this)->FindLine(line_no));
}

const Fact* OrderState::FindFact(Milestone kind, std::string_view business_key) const {
  for (const Fact& f : facts) {
    if (f.kind == kind && f.business_key == business_key) return &f;
  }
  return nullptr;
}

Fact* OrderState::FindFact(Milestone kind, std::string_view business_key) {
  return const_cast<Fact*>(static_cast<const OrderState*>(this)->FindFact(kind, business_key));
}

const ParkedRef* OrderState::FindParked(Milestone kind, std::string_view business_key) const {
  for (const ParkedRef& p : parked) {
    if (p.kind == kind && p.business_key == business_key) return &p;
  }
  return nullptr;
}

const SeenEvent* OrderState::FindSeen(uint64_t id_hash) const {
  for (const SeenEvent& e : seen) {
    if (e.id_hash == id_hash) return &e;
  }
  return nullptr;
}

bool OrderState::HasShipment() const {
  for (const Fact& f : facts) {
    if (f.kind == Milestone::ShipmentDispatched) return true;
  }
  return false;
}

uint64_t OrderState::LastSeq(std::string_view source) const {
  for (const SourceCursor& c : cursors) {
    if (c.source == source) return c.last_seq;
  }
  return 0;
}

void OrderState::SetLastSeq(std::string_view source, uint64_t seq) {
  for (SourceCursor& c : cursors) {
    if (c.source == source) {
      c.last_seq = seq;
      return;
    }
  }
  cursors.push_back(SourceCursor{std::string(source), seq});
}

std::vector<LineItem> CopyLines(const LineVector* lines) {
  std::vector<LineItem> out;
  if (lines == nullptr) return out;
  out.reserve(lines->size());
  for (const Line* l : *lines) {
    out.push_back(LineItem{l->line_no(), std::string(ToView(l->sku())), l->qty(), std::string(ToView(l->uom())),
                           l->unit_price_minor()});
  }
  return out;
}

namespace {

fb::Offset<fb::String> Str(fb::FlatBufferBuilder* fbb, const std::string& s) { return fbb->CreateString(s); }

std::string Copy(const fb::String* s) { return s == nullptr ? std::string() : std::string(s->c_str(), s->size()); }

fb::Offset<fb::Vector<fb::Offset<Line>>> EncodeLines(fb::FlatBufferBuilder* fbb, const std::vector<LineItem>& lines) {
  std::vector<fb::Offset<Line>> out;
  out.reserve(lines.size());
  for (const LineItem& l : lines) {
    out.push_back(CreateLine(*fbb, l.line_no, Str(fbb, l.sku), l.qty, Str(fbb, l.uom), l.unit_price_minor));
  }
  return fbb->CreateVector(out);
}

}  // namespace

void EncodeOrderState(const OrderState& s, int64_t expire_at_ns, fb::FlatBufferBuilder* fbb, std::string* value) {
  fbb->Clear();
  std::vector<fb::Offset<st::LineState>> lines;
  lines.reserve(s.lines.size());
  for (const LineState& l : s.lines) {
    lines.push_back(st::CreateLineState(*fbb, l.line_no, Str(fbb, l.sku), Str(fbb, l.uom), l.unit_price_minor,
                                        l.ordered, l.reserved, l.picked, l.shipped, l.returned));
  }
  std::vector<fb::Offset<st::Fact>> facts;
  facts.reserve(s.facts.size());
  for (const Fact& f : s.facts) {
    facts.push_back(st::CreateFact(*fbb, static_cast<uint8_t>(f.kind), Str(fbb, f.business_key), f.fingerprint,
                                   Str(fbb, f.event_id), EncodeLines(fbb, f.lines), f.delivered, f.invoiced,
                                   f.at_ns));
  }
  std::vector<fb::Offset<st::SourceCursor>> cursors;
  cursors.reserve(s.cursors.size());
  for (const SourceCursor& c : s.cursors) {
    cursors.push_back(st::CreateSourceCursor(*fbb, Str(fbb, c.source), c.last_seq));
  }
  std::vector<fb::Offset<st::ParkedRef>> parked;
  parked.reserve(s.parked.size());
  for (const ParkedRef& p : s.parked) {
    parked.push_back(st::CreateParkedRef(*fbb, Str(fbb, p.event_id), static_cast<uint8_t>(p.kind),
                                         Str(fbb, p.business_key), p.fingerprint, Str(fbb, p.source), p.source_seq,
                                         Str(fbb, p.waiting_for), p.parked_at_ns, p.deadline_ns));
  }
  st::SeenEvent* seen_out = nullptr;
  auto seen = fbb->CreateUninitializedVectorOfStructs(s.seen.size(), &seen_out);
  for (size_t i = 0; i < s.seen.size(); ++i) seen_out[i] = st::SeenEvent(s.seen[i].id_hash, s.seen[i].fingerprint);
  auto root = st::CreateOrderState(*fbb, Str(fbb, s.order_id), s.accepted, s.cancelled, Str(fbb, s.customer_id),
                                   Str(fbb, s.currency), Str(fbb, s.company_code), fbb->CreateVector(lines),
                                   fbb->CreateVector(facts), fbb->CreateVector(cursors), fbb->CreateVector(parked),
                                   s.next_cmd_seq, s.accepted_at_ns, s.last_change_ns,
                                   seen, s.dedup_in_table);
  fbb->Finish(root);
  value->clear();
  PutFixed64(value, static_cast<uint64_t>(expire_at_ns));
  value->append(reinterpret_cast<const char*>(fbb->GetBufferPointer()), fbb->GetSize());
}

Status DecodeOrderState(std::string_view value, OrderState* s, int64_t* expire_at_ns) {
  if (value.size() < 8) return Status::Corruption("order state: shorter than its expire_at prefix");
  *expire_at_ns = static_cast<int64_t>(DecodeFixed64(value.data()));
  const auto* data = reinterpret_cast<const uint8_t*>(value.data() + 8);
  fb::Verifier verifier(data, value.size() - 8);
  if (!verifier.VerifyBuffer<st::OrderState>(nullptr)) return Status::Corruption("order state: buffer does not verify");
  const st::OrderState* in = fb::GetRoot<st::OrderState>(data);
  *s = OrderState();
  s->order_id = Copy(in->order_id());
  s->accepted = in->accepted();
  s->cancelled = in->cancelled();
  s->customer_id = Copy(in->customer_id());
  s->currency = Copy(in->currency());
  s->company_code = Copy(in->company_code());
  s->next_cmd_seq = in->next_cmd_seq();
  s->accepted_at_ns = in->accepted_at_ns();
  s->last_change_ns = in->last_change_ns();
  if (in->lines() != nullptr) {
    for (const st::LineState* l : *in->lines()) {
      s->lines.push_back(LineState{l->line_no(), Copy(l->sku()), Copy(l->uom()), l->unit_price_minor(), l->ordered(),
                                   l->reserved(), l->picked(), l->shipped(), l->returned()});
    }
  }
  if (in->facts() != nullptr) {
    for (const st::Fact* f : *in->facts()) {
      s->facts.push_back(Fact{static_cast<Milestone>(f->kind()), Copy(f->business_key()), f->fingerprint(),
                              Copy(f->event_id()), CopyLines(f->lines()), f->delivered(), f->invoiced(), f->at_ns()});
    }
  }
  if (in->cursors() != nullptr) {
    for (const st::SourceCursor* c : *in->cursors()) s->cursors.push_back(SourceCursor{Copy(c->source()), c->last_seq()});
  }
  if (in->parked() != nullptr) {
    for (const st::ParkedRef* p : *in->parked()) {
      s->parked.push_back(ParkedRef{Copy(p->event_id()), static_cast<Milestone>(p->kind()), Copy(p->business_key()),
                                    p->fingerprint(), Copy(p->source()), p->source_seq(), Copy(p->waiting_for()),
                                    p->parked_at_ns(), p->deadline_ns(), std::string()});
    }
  }
  if (in->seen_events() != nullptr) {
    s->seen.reserve(in->seen_events()->size());
    for (const st::SeenEvent* e : *in->seen_events()) s->seen.push_back(SeenEvent{e->id_hash(), e->fingerprint()});
    s->dedup_in_table = in->dedup_in_table();
  } else {
    s->dedup_in_table = true;  // written before event ids lived with the order
  }
  return Status::OK();
}

}  // namespace ordersync
