#include "adapters/ingress/loadgen.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>
#include <thread>

#include <zmq.hpp>

#include "adapters/ingress/ack_client.h"
#include "adapters/producer/lifecycle_generator.h"
#include "adapters/producer/milestone_builder.h"

namespace ordersync {
namespace {

using SteadyClock = std::chrono::steady_clock;

// What an event is, so its final status can be checked (the AckClient cookie).
enum Kind : uint64_t { kOriginal = 0, kExactDuplicate = 1, kBusinessDuplicate = 2, kMalformed = 3 };

struct Item {
  std::string frame;
  Kind kind = kOriginal;
  bool same_day = false;
};

// Counters the progress line reads while producers run.
struct Shared {
  std::atomic<uint64_t> sent{0}, answered{0}, accepted{0}, duplicate{0}, rejected{0};
  std::atomic<uint64_t> busy_retries{0}, throttled_retries{0}, resends{0};
};

struct ProducerResult {
  uint64_t orders = 0, sent = 0, malformed = 0, duplicates = 0, same_day = 0;
  uint64_t accepted = 0, duplicate = 0, rejected = 0, unexpected = 0, unanswered = 0;
  std::string first_unexpected;
  AckClientStats client;
};

// Makes the delivery stream of one producer: windows of orders, each window's events
// in business order, then duplicated, displaced and spiked with malformed frames.
class StreamMaker {
 public:
  StreamMaker(const LoadgenOptions& options, uint32_t index, ProducerResult* result)
      : options_(options), rng_(options.seed * 7919 + index), result_(result), generator_(Generator(options, index)) {}

  Item Next() {
    if (items_.empty()) Refill();
    Item item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  static LifecycleGenerator Generator(const LoadgenOptions& options, uint32_t index) {
    GeneratorOptions go;
    go.seed = options.seed * 1000003 + index;
    go.order_prefix = (options.order_prefix.empty() ? "LG" + std::to_string(options.seed) + "-" : options.order_prefix) +
                      "P" + std::to_string(index) + "-";
    go.same_day_share = options.same_day_share;
    // Lifecycles that happened over the last minutes, so SLO histograms show live figures.
    go.base_time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch() - std::chrono::minutes(10))
                          .count();
    return LifecycleGenerator(go);
  }
  bool Chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  void Refill() {
    constexpr int kOrdersPerWindow = 200;
    std::vector<GeneratedOrder> orders;
    for (int i = 0; i < kOrdersPerWindow; ++i) orders.push_back(generator_.Next());
    result_->orders += orders.size();
    std::vector<std::pair<EnvelopeSpec, Kind>> stream;
    for (const EnvelopeSpec& e : InOrder(orders)) stream.emplace_back(e, kOriginal);
    const size_t originals = stream.size();
    // Out of order: move an event up to 64 places later than its business position.
    for (size_t i = 0; i < originals; ++i) {
      if (!Chance(options_.out_of_order_share)) continue;
      const size_t j = std::min(originals - 1, i + std::uniform_int_distribution<size_t>(1, 64)(rng_));
      std::swap(stream[i], stream[j]);
    }
    auto insert_at_random = [&](std::pair<EnvelopeSpec, Kind> e, size_t after) {
      const size_t pos = std::uniform_int_distribution<size_t>(after, stream.size())(rng_);
      stream.insert(stream.begin() + static_cast<ptrdiff_t>(pos), std::move(e));
    };
    for (size_t i = 0; i < originals; ++i) {
      const EnvelopeSpec original = stream[i].first;
      if (Chance(options_.exact_duplicate_share)) insert_at_random({original, kExactDuplicate}, i + 1);
      if (Chance(options_.business_duplicate_share)) {
        EnvelopeSpec again = original;
        again.event_id += "-dup";
        insert_at_random({std::move(again), kBusinessDuplicate}, i + 1);
      }
      if (Chance(options_.malformed_share)) {
        EnvelopeSpec bad = original;
        bad.event_id += "-bad";
        insert_at_random({std::move(bad), kMalformed}, 0);
      }
    }
    for (auto& [spec, kind] : stream) {
      Item item;
      item.kind = kind;
      item.same_day = spec.priority == Priority::SameDay;
      if (kind == kMalformed) {
        // Three kinds of fault, in turn: a newer schema, a missing field, a cut frame.
        switch (malformed_counter_++ % 3) {
          case 0: spec.schema_version = 2; break;
          case 1: spec.order_id.clear(); break;
          default: break;
        }
      }
      item.frame.assign(builder_.Build(spec));
      if (kind == kMalformed && malformed_counter_ % 3 == 0) item.frame.resize(item.frame.size() / 2);
      items_.push_back(std::move(item));
    }
  }

  const LoadgenOptions& options_;
  std::mt19937_64 rng_;
  ProducerResult* result_;
  LifecycleGenerator generator_;
  MilestoneBuilder builder_;
  std::deque<Item> items_;
  uint64_t malformed_counter_ = 0;
};

// Target events/s of one producer at `t` seconds into the run.
double RateAt(const LoadgenOptions& o, double t) {
  double rate = o.rate / o.producers;
  if (o.burst_every_s > 0 && std::fmod(t, o.burst_every_s) >= o.burst_every_s - o.burst_seconds) {
    rate *= o.burst_factor;
  }
  return rate;
}

void RunProducer(const LoadgenOptions& o, uint32_t index, uint64_t max_events, zmq::context_t& context,
                 Shared* shared, ProducerResult* result) {
  StreamMaker stream(o, index, result);
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(o.seconds));
  double credit = 0;
  auto last = start;
  // Refills the pacing credit; flat out when no rate is set.
  auto refill = [&](SteadyClock::time_point now) {
    if (o.rate <= 0) {
      credit = 1e18;
      return;
    }
    const double t = std::chrono::duration<double>(now - start).count();
    credit += std::chrono::duration<double>(now - last).count() * RateAt(o, t);
    credit = std::min(credit, static_cast<double>(o.batch_events) * o.window);  // no catching up after a stall
    last = now;
  };
  auto take = [&]() {
    Item item = stream.Next();
    ++result->sent;
    result->malformed += item.kind == kMalformed;
    result->duplicates += item.kind == kExactDuplicate || item.kind == kBusinessDuplicate;
    result->same_day += item.same_day;
    shared->sent.fetch_add(1, std::memory_order_relaxed);
    credit -= 1;
    return item;
  };
  auto more = [&](SteadyClock::time_point now) {
    return now < end && (max_events == 0 || result->sent < max_events);
  };

  if (o.push) {
    zmq::socket_t push(context, zmq::socket_type::push);
    // Deliver everything sent before the context closes (the summary waits for it).
    push.set(zmq::sockopt::linger, static_cast<int>(o.drain_seconds * 1000));
    push.set(zmq::sockopt::sndtimeo, 100);
    if (!o.curve_server_public_z85.empty()) {
      push.set(zmq::sockopt::curve_serverkey, o.curve_server_public_z85);
      push.set(zmq::sockopt::curve_publickey, o.curve_public_z85);
      push.set(zmq::sockopt::curve_secretkey, o.curve_secret_z85);
    }
    push.connect(o.endpoint);
    std::vector<Item> batch;
    for (auto now = SteadyClock::now(); more(now) || !batch.empty(); now = SteadyClock::now()) {
      refill(now);
      while (more(now) && batch.size() < o.batch_events && credit >= 1) batch.push_back(take());
      if (batch.empty()) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      if (now >= end + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(o.drain_seconds))) {
        result->unanswered += batch.size();
        break;
      }
      // A whole message or nothing: the first frame decides (HWM), the rest follow.
      if (!push.send(zmq::buffer(batch[0].frame), batch.size() > 1 ? zmq::send_flags::sndmore : zmq::send_flags::none)) {
        continue;  // HWM reached: ZeroMQ's back-pressure; try again
      }
      for (size_t i = 1; i < batch.size(); ++i) {
        push.send(zmq::buffer(batch[i].frame), i + 1 < batch.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
      ++result->client.batches_sent;
      batch.clear();
    }
    return;
  }

  AckClientOptions co;
  co.endpoint = o.endpoint;
  co.batch_events = o.batch_events;
  co.max_in_flight_batches = o.window;
  co.ack_timeout_ms = o.ack_timeout_ms;
  co.curve_server_public_z85 = o.curve_server_public_z85;
  co.curve_public_z85 = o.curve_public_z85;
  co.curve_secret_z85 = o.curve_secret_z85;
  AckClient client(context, co);
  const size_t backlog = static_cast<size_t>(o.batch_events) * o.window * 2;
  auto on_final = [&](const FinalResult& f) {
    shared->answered.fetch_add(1, std::memory_order_relaxed);
    const bool want_rejected = f.cookie == kMalformed;
    bool ok = false;
    switch (f.status) {
      case IngressVerdict::kAccepted:
        ++result->accepted;
        shared->accepted.fetch_add(1, std::memory_order_relaxed);
        ok = !want_rejected;
        break;
      case IngressVerdict::kDuplicate:
        ++result->duplicate;
        shared->duplicate.fetch_add(1, std::memory_order_relaxed);
        ok = !want_rejected;
        break;
      default:
        ++result->rejected;
        shared->rejected.fetch_add(1, std::memory_order_relaxed);
        ok = want_rejected;
        break;
    }
    if (!ok && result->unexpected++ == 0) {
      result->first_unexpected = "event '" + std::string(f.event_id) + "' (" +
                                 (want_rejected ? "malformed" : "valid") + ") answered " +
                                 std::string(IngressVerdictName(f.status)) + " '" + std::string(f.reason) + "'";
    }
  };
  uint64_t busy = 0, throttled = 0, resent = 0;
  auto publish = [&]() {
    const AckClientStats& s = client.stats();
    shared->busy_retries.fetch_add(s.busy_retries - busy, std::memory_order_relaxed);
    shared->throttled_retries.fetch_add(s.throttled_retries - throttled, std::memory_order_relaxed);
    shared->resends.fetch_add(s.batches_resent - resent, std::memory_order_relaxed);
    busy = s.busy_retries;
    throttled = s.throttled_retries;
    resent = s.batches_resent;
  };
  for (auto now = SteadyClock::now(); more(now); now = SteadyClock::now()) {
    refill(now);
    while (more(now) && credit >= 1 && client.outstanding() < backlog) {
      Item item = take();
      client.Enqueue(std::move(item.frame), item.kind);  // the cookie carries the kind
    }
    client.Poll(client.outstanding() >= backlog || o.rate > 0 ? 1 : 0, on_final);
    publish();
  }
  const auto drain_end =
      SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(o.drain_seconds));
  while (!client.idle() && SteadyClock::now() < drain_end) {
    client.Poll(50, on_final);
    publish();
  }
  result->unanswered = client.outstanding();
  result->client = client.stats();
}

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(std::ceil(q * sorted.size())) - (q > 0 ? 1 : 0));
  return sorted[i] / 1000.0;
}

}  // namespace

LoadgenSummary RunLoadgen(const LoadgenOptions& options, const std::function<void(const LoadgenProgress&)>& progress) {
  LoadgenOptions o = options;
  o.producers = std::max<uint32_t>(1, o.producers);
  o.batch_events = std::max<uint32_t>(1, o.batch_events);
  o.window = std::max<uint32_t>(1, o.window);
  if (o.max_events > 0) o.producers = static_cast<uint32_t>(std::min<uint64_t>(o.producers, o.max_events));
  auto context = std::make_unique<zmq::context_t>(1);
  Shared shared;
  std::vector<ProducerResult> results(o.producers);
  std::vector<std::thread> threads;
  const auto start = SteadyClock::now();
  std::atomic<uint32_t> running{o.producers};
  for (uint32_t k = 0; k < o.producers; ++k) {
    const uint64_t share = o.max_events == 0 ? 0 : o.max_events / o.producers + (k < o.max_events % o.producers ? 1 : 0);
    threads.emplace_back([&, k, share] {
      RunProducer(o, k, share, *context, &shared, &results[k]);
      running.fetch_sub(1);
    });
  }
  auto next = start + std::chrono::seconds(1);
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = SteadyClock::now();
    if (now < next || !progress) continue;
    next += std::chrono::seconds(1);
    LoadgenProgress p;
    p.elapsed_s = std::chrono::duration<double>(now - start).count();
    p.sent = shared.sent.load();
    p.answered = shared.answered.load();
    p.accepted = shared.accepted.load();
    p.duplicate = shared.duplicate.load();
    p.rejected = shared.rejected.load();
    p.busy_retries = shared.busy_retries.load();
    p.throttled_retries = shared.throttled_retries.load();
    p.resends = shared.resends.load();
    progress(p);
  }
  for (auto& t : threads) t.join();
  context.reset();  // push mode: returns once the queued messages are delivered (linger)

  LoadgenSummary s;
  s.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::vector<uint32_t> latencies;
  for (const ProducerResult& r : results) {
    s.orders += r.orders;
    s.sent += r.sent;
    s.malformed_sent += r.malformed;
    s.duplicates_sent += r.duplicates;
    s.same_day_sent += r.same_day;
    s.accepted += r.accepted;
    s.duplicate += r.duplicate;
    s.rejected += r.rejected;
    s.unexpected += r.unexpected;
    s.unanswered += r.unanswered;
    if (s.first_unexpected.empty()) s.first_unexpected = r.first_unexpected;
    s.busy_retries += r.client.busy_retries;
    s.throttled_retries += r.client.throttled_retries;
    s.batches_sent += r.client.batches_sent;
    s.batches_resent += r.client.batches_resent;
    s.reconnects += r.client.reconnects;
    s.stale_acks += r.client.stale_acks;
    latencies.insert(latencies.end(), r.client.ack_latency_us.begin(), r.client.ack_latency_us.end());
  }
  std::sort(latencies.begin(), latencies.end());
  s.p50_ms = Percentile(latencies, 0.5);
  s.p99_ms = Percentile(latencies, 0.99);
  s.p999_ms = Percentile(latencies, 0.999);
  s.max_ms = latencies.empty() ? 0 : latencies.back() / 1000.0;
  const uint64_t done = o.push ? s.sent - s.unanswered : s.accepted + s.duplicate + s.rejected;
  s.events_per_s = s.seconds > 0 ? done / s.seconds : 0;
  return s;
}

std::string LoadgenSummaryJson(const LoadgenOptions& o, const LoadgenSummary& s) {
  char buf[2048];
  std::snprintf(
      buf, sizeof(buf),
      "{\"mode\":\"%s\",\"endpoint\":\"%s\",\"producers\":%u,\"target_rate\":%.0f,\"batch_events\":%u,"
      "\"window\":%u,\"seconds\":%.3f,\"orders\":%llu,\"sent\":%llu,\"malformed_sent\":%llu,"
      "\"duplicates_sent\":%llu,\"same_day_sent\":%llu,\"accepted\":%llu,\"duplicate\":%llu,\"rejected\":%llu,"
      "\"unexpected\":%llu,\"unanswered\":%llu,\"busy_retries\":%llu,\"throttled_retries\":%llu,"
      "\"batches_sent\":%llu,\"batches_resent\":%llu,\"reconnects\":%llu,\"stale_acks\":%llu,"
      "\"events_per_s\":%.1f,\"ack_latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f}}",
      o.push ? "push" : "ack", o.endpoint.c_str(), o.producers, o.rate, o.batch_events, o.window, s.seconds,
      static_cast<unsigned long long>(s.orders), static_cast<unsigned long long>(s.sent),
      static_cast<unsigned long long>(s.malformed_sent), static_cast<unsigned long long>(s.duplicates_sent),
      static_cast<unsigned long long>(s.same_day_sent), static_cast<unsigned long long>(s.accepted),
      static_cast<unsigned long long>(s.duplicate), static_cast<unsigned long long>(s.rejected),
      static_cast<unsigned long long>(s.unexpected), static_cast<unsigned long long>(s.unanswered),
      static_cast<unsigned long long>(s.busy_retries), static_cast<unsigned long long>(s.throttled_retries),
      static_cast<unsigned long long>(s.batches_sent), static_cast<unsigned long long>(s.batches_resent),
      static_cast<unsigned long long>(s.reconnects), static_cast<unsigned long long>(s.stale_acks), s.events_per_s,
      s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms);
  return buf;
}

}  // namespace ordersync
