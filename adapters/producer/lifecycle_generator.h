// LifecycleGenerator: realistic, deterministic order lifecycles for the load generator,
// the demo and the tests. Each generated order is a list of EnvelopeSpecs in business
// order (accept, reserve, pick, ship, deliver, return or cancel); Disorder() turns the
// orders into one delivery stream with random interleaving, exact duplicates (the same
// envelope again) and business duplicates (the same fact under a new event_id).
//
// Orders come in three shapes, chosen so that the engine's result does not depend on the
// delivery order (what the property test checks):
//  - sequenced: one source numbers all the order's events (source_seq 1..n); may have
//    split reservations, picks and shipments, a return, or a cancellation before shipping;
//  - chained: unsequenced, each event needs the previous one (accept, reserve, pick, ship,
//    deliver, maybe return), so prerequisites alone fix the order;
//  - adjustment: a single InventoryAdjusted.
//
// Thread-safety: a generator is used by one thread; distinct generators are independent.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "adapters/producer/milestone_builder.h"

namespace ordersync {

struct GeneratorOptions {
  uint64_t seed = 1;
  // Prefix of generated order ids ("SO-" -> "SO-000001"); distinct prefixes keep runs apart.
  std::string order_prefix = "SO-";
  double sequenced_share = 0.6;   // of orders
  double adjustment_share = 0.05;
  double cancel_share = 0.1;      // of sequenced orders
  double return_share = 0.2;
  double same_day_share = 0.1;
  int max_lines = 3;
  int64_t base_time_ns = 1'750'000'000'000'000'000;
  std::vector<std::string> company_codes = {"1000"};
};

struct GeneratedOrder {
  std::string order_id;
  std::vector<EnvelopeSpec> events;  // in business order
};

class LifecycleGenerator {
 public:
  explicit LifecycleGenerator(GeneratorOptions options);

  // The next order (index increases by one each call).
  GeneratedOrder Next();

 private:
  GeneratedOrder Sequenced(const std::string& order_id);
  GeneratedOrder Chained(const std::string& order_id);
  GeneratedOrder Adjustment(const std::string& order_id);
  EnvelopeSpec Base(const std::string& order_id, Milestone kind, int step);
  std::vector<LineSpec> RandomLines();
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  GeneratorOptions options_;
  std::mt19937_64 rng_;
  uint64_t index_ = 0;
  uint64_t event_counter_ = 0;
  std::string company_code_;
  Priority priority_ = Priority::Standard;
};

struct DisorderOptions {
  uint64_t seed = 2;
  double exact_duplicate_share = 0.1;     // extra copies of random events
  double business_duplicate_share = 0.05; // extra copies under a new event_id
};

// All events of `orders`, shuffled across and within orders, with duplicates added.
std::vector<EnvelopeSpec> Disorder(const std::vector<GeneratedOrder>& orders, const DisorderOptions& options);

// All events of `orders`, each order's events in business order, orders one after another.
std::vector<EnvelopeSpec> InOrder(const std::vector<GeneratedOrder>& orders);

}  // namespace ordersync
