#include "adapters/ingress/loadgen.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <zmq.hpp>

#include "adapters/ingress/ack_client.h"
#include "adapters/producer/producer_stream.h"

namespace ordersync {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The AckClient cookie: the item's kind (StreamItemKind) in the low 3 bits; with an event
// log, the item's record index above them.
using enum StreamItemKind;
constexpr uint64_t kKindBits = 3;

// One line of the event log (LoadgenOptions::event_log_path).
struct LogRecord {
  std::string event_id, order_id, fact_id;
  StreamItemKind kind = kOriginal;
  FrameMutation mutation = FrameMutation::kBitFlip;
  std::string expected_reason;  // kMutated only
  const char* status = "unanswered";
  std::string reason;
};

// Counters the progress line reads while producers run.
struct Shared {
  std::atomic<uint64_t> sent{0}, answered{0}, accepted{0}, duplicate{0}, rejected{0};
  std::atomic<uint64_t> busy_retries{0}, throttled_retries{0}, resends{0};
};

struct ProducerResult {
  uint64_t orders = 0, sent = 0, malformed = 0, mutated = 0, duplicates = 0, same_day = 0;
  std::vector<LogRecord> log;  // with an event log only; index = cookie >> kKindBits
  uint64_t accepted = 0, duplicate = 0, rejected = 0, unexpected = 0, unanswered = 0;
  std::string first_unexpected;
  AckClientStats client;
};

// The stream options of a run with `o`.
ProducerStreamOptions StreamOptions(const LoadgenOptions& o) {
  ProducerStreamOptions so;
  so.seed = o.seed;
  so.order_prefix = o.order_prefix;
  so.same_day_share = o.same_day_share;
  so.exact_duplicate_share = o.exact_duplicate_share;
  so.business_duplicate_share = o.business_duplicate_share;
  so.out_of_order_share = o.out_of_order_share;
  so.malformed_share = o.malformed_share;
  so.mutated_share = o.mutated_share;
  so.oversized_bytes = o.oversized_bytes;
  so.stamp_send_time = o.stamp_send_time;
  so.keep_ids = !o.event_log_path.empty();
  return so;
}

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
  ProducerStream stream(StreamOptions(o), index);
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
    StreamItem item = stream.Next();
    result->orders = stream.orders();
    ++result->sent;
    result->malformed += item.kind == kMalformed || item.kind == kMutated;
    result->mutated += item.kind == kMutated;
    result->duplicates += item.kind == kExactDuplicate || item.kind == kBusinessDuplicate;
    result->same_day += item.same_day;
    shared->sent.fetch_add(1, std::memory_order_relaxed);
    credit -= 1;
    if (!o.event_log_path.empty()) {
      LogRecord r;
      r.event_id = std::move(item.event_id);
      r.order_id = std::move(item.order_id);
      r.fact_id = std::move(item.fact_id);
      r.kind = item.kind;
      r.mutation = item.mutation;
      r.expected_reason = item.expected_reason;
      if (o.push) r.status = "pushed";
      result->log.push_back(std::move(r));
    }
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
    std::vector<StreamItem> batch;
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
  // Without an event log, the expected reasons of mutated frames in flight, by cookie.
  std::map<uint64_t, std::string> expected_reasons;
  uint64_t next_unlogged_cookie = 1;
  auto on_final = [&](const FinalResult& f) {
    shared->answered.fetch_add(1, std::memory_order_relaxed);
    const auto kind = static_cast<StreamItemKind>(f.cookie & ((uint64_t{1} << kKindBits) - 1));
    const bool want_rejected = kind == kMalformed || kind == kMutated;
    std::string expected_reason;
    if (!o.event_log_path.empty()) {
      LogRecord& record = result->log[f.cookie >> kKindBits];
      record.status = f.status == IngressVerdict::kAccepted    ? "accepted"
                      : f.status == IngressVerdict::kDuplicate ? "duplicate"
                                                               : "rejected";
      record.reason.assign(f.reason);
      expected_reason = record.expected_reason;
    } else if (kind == kMutated) {
      auto it = expected_reasons.find(f.cookie >> kKindBits);
      if (it != expected_reasons.end()) {
        expected_reason = std::move(it->second);
        expected_reasons.erase(it);
      }
    }
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
        ok = want_rejected && (kind != kMutated || f.reason == expected_reason);
        break;
    }
    if (!ok && result->unexpected++ == 0) {
      result->first_unexpected = "event '" + std::string(f.event_id) + "' (" +
                                 (kind == kMutated ? "mutated, want '" + expected_reason + "'"
                                  : want_rejected  ? std::string("malformed")
                                                   : std::string("valid")) +
                                 ") answered " + std::string(IngressVerdictName(f.status)) + " '" +
                                 std::string(f.reason) + "'";
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
      StreamItem item = take();
      uint64_t cookie = static_cast<uint64_t>(item.kind);  // the cookie carries the kind, and which item it is
      if (!o.event_log_path.empty()) {
        cookie |= (result->log.size() - 1) << kKindBits;
      } else if (item.kind == kMutated) {
        cookie |= next_unlogged_cookie << kKindBits;
        expected_reasons.emplace(next_unlogged_cookie++, std::move(item.expected_reason));
      }
      client.Enqueue(std::move(item.frame), cookie);
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

// Writes the event log (LoadgenOptions::event_log_path). False if it could not.
bool WriteEventLog(const LoadgenOptions& o, const std::vector<ProducerResult>& results) {
  std::ofstream out(o.event_log_path, std::ios::trunc);
  out << "# loadgen seed=" << o.seed << " producers=" << o.producers << " order_prefix="
      << (o.order_prefix.empty() ? "LG" + std::to_string(o.seed) + "-" : o.order_prefix)
      << " same_day=" << o.same_day_share << "\n";
  static const char* const kKindNames[] = {"original", "exact_dup", "business_dup", "malformed", "mutated"};
  for (const ProducerResult& r : results) {
    for (const LogRecord& e : r.log) {
      out << e.event_id << '\t' << e.order_id << '\t' << e.fact_id << '\t' << kKindNames[static_cast<size_t>(e.kind)];
      if (e.kind == kMutated) out << ':' << FrameMutationName(e.mutation);
      out << '\t' << e.status << '\t' << (e.reason.empty() ? "-" : e.reason) << '\n';
    }
  }
  out.flush();
  return static_cast<bool>(out);
}

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(std::ceil(q * sorted.size())) - (q > 0 ? 1 : 0));
  return sorted[i] / 1000.0;
}

}  // namespace

GeneratorOptions LoadgenGeneratorOptions(const LoadgenOptions& options, uint32_t index) {
  return ProducerGeneratorOptions(StreamOptions(options), index);
}

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
  const auto every = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(std::max(0.02, o.progress_every_s)));
  auto next = start + every;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = SteadyClock::now();
    if (now < next || !progress) continue;
    next += every;
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
    s.mutated_sent += r.mutated;
    s.duplicates_sent += r.duplicates;
    s.same_day_sent += r.same_day;
    s.accepted += r.accepted;
    s.duplicate += r.duplicate;
    s.rejected += r.rejected;
    s.unexpected += r.unexpected;
    s.unanswered += r.unanswered;
    if (s.first_unexpected.empty()) s.first_unexpected = r.first_unexpected;
    s.busy_retries += r.client.busy_retries;
    s.busy_retry_after.Merge(r.client.busy_retry_after);
    s.throttled_retries += r.client.throttled_retries;
    s.batches_sent += r.client.batches_sent;
    s.batches_resent += r.client.batches_resent;
    s.reconnects += r.client.reconnects;
    s.stale_acks += r.client.stale_acks;
    latencies.insert(latencies.end(), r.client.ack_latency_us.begin(), r.client.ack_latency_us.end());
  }
  if (!o.event_log_path.empty() && !WriteEventLog(o, results)) {
    std::cerr << "ordersync loadgen: cannot write the event log " << o.event_log_path << "\n";
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
      "\"window\":%u,\"seconds\":%.3f,\"orders\":%llu,\"sent\":%llu,\"malformed_sent\":%llu,\"mutated_sent\":%llu,"
      "\"duplicates_sent\":%llu,\"same_day_sent\":%llu,\"accepted\":%llu,\"duplicate\":%llu,\"rejected\":%llu,"
      "\"unexpected\":%llu,\"unanswered\":%llu,\"busy_retries\":%llu,\"throttled_retries\":%llu,"
      "\"batches_sent\":%llu,\"batches_resent\":%llu,\"reconnects\":%llu,\"stale_acks\":%llu,"
      "\"events_per_s\":%.1f,\"ack_latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"p99_9\":%.3f,\"max\":%.3f}}",
      o.push ? "push" : "ack", o.endpoint.c_str(), o.producers, o.rate, o.batch_events, o.window, s.seconds,
      static_cast<unsigned long long>(s.orders), static_cast<unsigned long long>(s.sent),
      static_cast<unsigned long long>(s.malformed_sent), static_cast<unsigned long long>(s.mutated_sent),
      static_cast<unsigned long long>(s.duplicates_sent),
      static_cast<unsigned long long>(s.same_day_sent), static_cast<unsigned long long>(s.accepted),
      static_cast<unsigned long long>(s.duplicate), static_cast<unsigned long long>(s.rejected),
      static_cast<unsigned long long>(s.unexpected), static_cast<unsigned long long>(s.unanswered),
      static_cast<unsigned long long>(s.busy_retries), static_cast<unsigned long long>(s.throttled_retries),
      static_cast<unsigned long long>(s.batches_sent), static_cast<unsigned long long>(s.batches_resent),
      static_cast<unsigned long long>(s.reconnects), static_cast<unsigned long long>(s.stale_acks), s.events_per_s,
      s.p50_ms, s.p99_ms, s.p999_ms, s.max_ms);
  // The Busy answers' retry_after_ms hints: "le" maps each power-of-two bound to the
  // hints of at most that many ms (non-empty ranges only; "inf" = above the last bound).
  const RetryAfterStats& r = s.busy_retry_after;
  std::string json(buf);
  json.pop_back();  // the closing brace
  json += ",\"busy_retry_after_ms\":{\"count\":" + std::to_string(r.count) + ",\"min\":" + std::to_string(r.min_ms) +
          ",\"max\":" + std::to_string(r.max_ms) + ",\"mean\":";
  std::snprintf(buf, sizeof(buf), "%.1f", r.count > 0 ? static_cast<double>(r.sum_ms) / r.count : 0.0);
  json += buf;
  json += ",\"le\":{";
  bool first = true;
  for (size_t i = 0; i < RetryAfterStats::kBuckets; ++i) {
    if (r.buckets[i] == 0) continue;
    const uint32_t limit = RetryAfterStats::BucketLimitMs(i);
    json += (first ? "\"" : ",\"") + (limit == UINT32_MAX ? std::string("inf") : std::to_string(limit)) +
            "\":" + std::to_string(r.buckets[i]);
    first = false;
  }
  json += "}}}";
  return json;
}

}  // namespace ordersync
