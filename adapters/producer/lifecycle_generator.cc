#include "adapters/producer/lifecycle_generator.h"

#include <algorithm>
#include <cstdio>

namespace ordersync {
namespace {

const char* const kSkus[] = {"SKU-1001", "SKU-1002", "SKU-2001", "SKU-2002", "SKU-3001",
                             "SKU-3002", "SKU-4001", "SKU-5001", "SKU-6001", "SKU-7001"};

std::vector<LineSpec> Scale(const std::vector<LineSpec>& lines, int64_t num, int64_t den) {
  std::vector<LineSpec> out;
  for (const LineSpec& l : lines) {
    int64_t q = l.qty * num / den;
    if (q <= 0) continue;
    LineSpec s = l;
    s.qty = q;
    out.push_back(s);
  }
  return out;
}

std::vector<LineSpec> Minus(const std::vector<LineSpec>& all, const std::vector<LineSpec>& part) {
  std::vector<LineSpec> out;
  for (const LineSpec& l : all) {
    int64_t q = l.qty;
    for (const LineSpec& p : part) {
      if (p.line_no == l.line_no) q -= p.qty;
    }
    if (q > 0) {
      LineSpec s = l;
      s.qty = q;
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

LifecycleGenerator::LifecycleGenerator(GeneratorOptions options)
    : options_(std::move(options)), rng_(options_.seed) {}

std::vector<LineSpec> LifecycleGenerator::RandomLines() {
  int n = std::uniform_int_distribution<int>(1, std::max(1, options_.max_lines))(rng_);
  std::vector<LineSpec> lines;
  for (int i = 0; i < n; ++i) {
    LineSpec l;
    l.line_no = static_cast<uint32_t>(i + 1);
    l.sku = kSkus[std::uniform_int_distribution<size_t>(0, std::size(kSkus) - 1)(rng_)];
    l.qty = std::uniform_int_distribution<int64_t>(2, 40)(rng_);
    l.unit_price_minor = std::uniform_int_distribution<int64_t>(100, 50000)(rng_);
    lines.push_back(l);
  }
  return lines;
}

EnvelopeSpec LifecycleGenerator::Base(const std::string& order_id, Milestone kind, int step) {
  EnvelopeSpec s;
  char id[64];
  std::snprintf(id, sizeof(id), "%s-e%llu", order_id.c_str(), static_cast<unsigned long long>(++event_counter_));
  s.event_id = id;
  s.correlation_id = "trace-" + order_id;
  s.order_id = order_id;
  s.kind = kind;
  s.company_code = company_code_;
  s.priority = priority_;
  s.occurred_at_ns = options_.base_time_ns + static_cast<int64_t>(index_) * 1'000'000 + step * 60'000'000'000LL;
  return s;
}

GeneratedOrder LifecycleGenerator::Next() {
  ++index_;
  char id[64];
  std::snprintf(id, sizeof(id), "%s%06llu", options_.order_prefix.c_str(), static_cast<unsigned long long>(index_));
  company_code_ = options_.company_codes[index_ % options_.company_codes.size()];
  priority_ = Chance(options_.same_day_share) ? Priority::SameDay : Priority::Standard;
  if (Chance(options_.adjustment_share)) return Adjustment(id);
  return Chance(options_.sequenced_share) ? Sequenced(id) : Chained(id);
}

GeneratedOrder LifecycleGenerator::Sequenced(const std::string& order_id) {
  GeneratedOrder o{order_id, {}};
  const std::vector<LineSpec> lines = RandomLines();
  int step = 0;
  auto add = [&](EnvelopeSpec s, const char* source) {
    s.source = source;
    s.source_seq = o.events.size() + 1;
    o.events.push_back(std::move(s));
  };
  const char* source = "WMS-EAST";
  EnvelopeSpec accept = Base(order_id, Milestone::OrderAccepted, step++);
  accept.lines = lines;
  add(accept, source);
  // Reservations: one, or split in two.
  std::vector<std::vector<LineSpec>> parts;
  if (Chance(0.3)) {
    auto first = Scale(lines, 1, 2);
    parts = {first, Minus(lines, first)};
  } else {
    parts = {lines};
  }
  int n = 0;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    EnvelopeSpec r = Base(order_id, Milestone::InventoryReserved, step++);
    r.business_key = order_id + "-R" + std::to_string(++n);
    r.lines = part;
    add(r, source);
  }
  const bool cancel = Chance(options_.cancel_share);
  n = 0;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (cancel && n > 0) break;  // cancelled mid-picking
    EnvelopeSpec p = Base(order_id, Milestone::PickCompleted, step++);
    p.business_key = order_id + "-P" + std::to_string(++n);
    p.lines = part;
    add(p, source);
  }
  if (cancel) {
    EnvelopeSpec c = Base(order_id, Milestone::OrderCancelled, step++);
    c.reason = "customer request";
    add(c, source);
    return o;
  }
  n = 0;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    EnvelopeSpec s = Base(order_id, Milestone::ShipmentDispatched, step++);
    s.business_key = order_id + "-S" + std::to_string(++n);
    s.tracking_no = "1Z" + std::to_string(event_counter_);
    s.lines = part;
    add(s, source);
    EnvelopeSpec d = Base(order_id, Milestone::DeliveryConfirmed, step++);
    d.business_key = s.business_key;
    d.signed_by = "front desk";
    add(d, source);
  }
  if (Chance(options_.return_share)) {
    EnvelopeSpec r = Base(order_id, Milestone::ReturnReceived, step++);
    r.business_key = order_id + "-RT1";
    r.lines = {parts[0][0]};
    r.lines[0].qty = 1;
    add(r, source);
  }
  return o;
}

GeneratedOrder LifecycleGenerator::Chained(const std::string& order_id) {
  GeneratedOrder o{order_id, {}};
  const std::vector<LineSpec> lines = RandomLines();
  int step = 0;
  auto add = [&](Milestone kind, const std::string& key, std::vector<LineSpec> l, const char* source) {
    EnvelopeSpec s = Base(order_id, kind, step++);
    s.source = source;
    s.business_key = key;
    s.lines = std::move(l);
    o.events.push_back(std::move(s));
  };
  add(Milestone::OrderAccepted, "", lines, "SALES");
  add(Milestone::InventoryReserved, order_id + "-R1", lines, "WMS-WEST");
  add(Milestone::PickCompleted, order_id + "-P1", lines, "WMS-WEST");
  add(Milestone::ShipmentDispatched, order_id + "-S1", lines, "TMS");
  o.events.back().tracking_no = "1Z" + std::to_string(event_counter_);
  add(Milestone::DeliveryConfirmed, order_id + "-S1", {}, "TMS");
  if (Chance(options_.return_share)) {
    std::vector<LineSpec> r = {lines[0]};
    r[0].qty = 1;
    add(Milestone::ReturnReceived, order_id + "-RT1", r, "WMS-WEST");
  }
  return o;
}

GeneratedOrder LifecycleGenerator::Adjustment(const std::string& order_id) {
  GeneratedOrder o{order_id, {}};
  EnvelopeSpec s = Base(order_id, Milestone::InventoryAdjusted, 0);
  s.source = "WMS-EAST";
  s.business_key = order_id + "-ADJ";
  s.sku = kSkus[index_ % std::size(kSkus)];
  s.delta_qty = Chance(0.5) ? -3 : 5;
  s.reason = "cycle count";
  o.events.push_back(std::move(s));
  return o;
}

std::vector<EnvelopeSpec> InOrder(const std::vector<GeneratedOrder>& orders) {
  std::vector<EnvelopeSpec> out;
  for (const GeneratedOrder& o : orders) out.insert(out.end(), o.events.begin(), o.events.end());
  return out;
}

std::vector<EnvelopeSpec> Disorder(const std::vector<GeneratedOrder>& orders, const DisorderOptions& options) {
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> coin(0, 1);
  std::vector<EnvelopeSpec> out = InOrder(orders);
  const size_t originals = out.size();
  for (size_t i = 0; i < originals; ++i) {
    if (coin(rng) < options.exact_duplicate_share) out.push_back(out[i]);
    if (coin(rng) < options.business_duplicate_share) {
      EnvelopeSpec again = out[i];
      again.event_id += "-dup";
      out.push_back(std::move(again));
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

}  // namespace ordersync
