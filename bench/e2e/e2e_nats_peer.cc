// e2e_nats_peer: the peer of the e2e benchmark — the same events into NATS JetStream.
// `--producers` threads, each with its own connection and JetStream context, publish the
// frames `ordersync loadgen` sends (ProducerStream, adapters/producer/producer_stream.h:
// same generator, seeds and duplicate shares; no malformed frames) to one file-storage stream with a duplicate window, asynchronously, with at
// most `--max-pending` unacknowledged publishes per producer (loadgen's window x batch),
// each message carrying Nats-Msg-Id = event_id so JetStream drops exact duplicates.
// Flat out for `--seconds`, then waits for the outstanding acks.
//
// Output (stdout, JSON): published, acked, acked_duplicate, errors, seconds,
// acked_per_s, stored_per_s, ack_latency_ms {p50, p99, p99_9, max} (per message: publish
// call -> its PubAck), stream_msgs, exact_duplicates_sent, dedup_ok (every publish acked,
// the stream holds acked - acked_duplicate messages, and at least every exact duplicate
// was flagged; a few business duplicates repeat an id too — a "-dup" copy made of an
// exact copy — and are rightly dropped as well).
//
// Usage: e2e_nats_peer --url nats://127.0.0.1:4222 [--producers 4] [--seconds 10]
//          [--max-pending 512] [--seed 1] [--stream E2E]
// Thread-safety: each producer's latency samples are written only by its connection's
// ack-handler thread and read after js_PublishAsyncComplete.
#include <CLI/CLI.hpp>

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/producer/producer_stream.h"

namespace ordersync::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kSentHeader = "Bench-Sent-Ns";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Producer {
  std::atomic<uint64_t> acked{0}, duplicates{0}, errors{0};
  std::vector<uint32_t> latency_us;  // written by the ack-handler thread only
  uint64_t published = 0, exact_duplicates = 0;
  std::string error;
};

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* p = static_cast<Producer*>(closure);
  if (pa != nullptr) {
    const char* sent = nullptr;
    if (natsMsgHeader_Get(msg, kSentHeader, &sent) == NATS_OK && sent != nullptr) {
      p->latency_us.push_back(static_cast<uint32_t>((NowNs() - std::stoll(sent)) / 1000));
    }
    if (pa->Duplicate) p->duplicates.fetch_add(1, std::memory_order_relaxed);
    p->acked.fetch_add(1, std::memory_order_relaxed);
  } else if (pae != nullptr) {
    p->errors.fetch_add(1, std::memory_order_relaxed);
  }
  natsMsg_Destroy(msg);
}

std::string Err(const char* what, natsStatus s) { return std::string(what) + ": " + natsStatus_GetText(s); }

void RunProducer(const std::string& url, const ProducerStreamOptions& so, uint32_t index, int64_t max_pending,
                 double seconds, const std::string& subject, Producer* p) {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
  if (s != NATS_OK) {
    p->error = Err("connect", s);
    natsOptions_Destroy(opts);
    return;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = max_pending;
  jo.PublishAsync.AckHandler = OnAck;
  jo.PublishAsync.AckHandlerClosure = p;
  jo.PublishAsync.StallWait = 1000;
  s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) p->error = Err("jetstream context", s);
  ProducerStream stream(so, index);
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (s == NATS_OK && Clock::now() < end) {
    StreamItem e = stream.Next();
    natsMsg* msg = nullptr;
    s = natsMsg_Create(&msg, subject.c_str(), nullptr, e.frame.data(), static_cast<int>(e.frame.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", e.event_id.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, kSentHeader, std::to_string(NowNs()).c_str());
    // Stalls while max_pending publishes are unacknowledged (the bounded window).
    while (s == NATS_OK && (s = js_PublishMsgAsync(js, &msg, nullptr)) == NATS_TIMEOUT) s = NATS_OK;
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      p->error = Err("publish", s);
      break;
    }
    ++p->published;
    p->exact_duplicates += e.kind == StreamItemKind::kExactDuplicate;
  }
  if (js != nullptr) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 30000;
    if (natsStatus c = js_PublishAsyncComplete(js, &po); c != NATS_OK && p->error.empty()) {
      p->error = Err("waiting for acks", c);
    }
    jsCtx_Destroy(js);
  }
  natsConnection_Destroy(nc);
  natsOptions_Destroy(opts);
}

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))] / 1000.0;
}

int Main(int argc, char** argv) {
  CLI::App app{"NATS JetStream peer: loadgen's events, deduplicated by Nats-Msg-Id (JSON on stdout)"};
  std::string url = "nats://127.0.0.1:4222", stream_name = "E2E";
  uint32_t producers = 4;
  double seconds = 10;
  int64_t max_pending = 512, dup_window_s = 120;
  ProducerStreamOptions so;
  so.malformed_share = 0;  // the e2e benchmark runs loadgen with --malformed 0
  app.add_option("--url", url, "NATS server")->capture_default_str();
  app.add_option("--stream", stream_name, "Stream to (re)create")->capture_default_str();
  app.add_option("--producers", producers, "Producer threads, one connection each")->capture_default_str();
  app.add_option("--seconds", seconds, "How long to publish")->capture_default_str();
  app.add_option("--max-pending", max_pending, "Unacknowledged publishes per producer")->capture_default_str();
  app.add_option("--duplicate-window-s", dup_window_s, "The stream's duplicate window")->capture_default_str();
  app.add_option("--seed", so.seed, "loadgen's --seed")->capture_default_str();
  app.add_option("--exact-dups", so.exact_duplicate_share)->capture_default_str();
  app.add_option("--business-dups", so.business_duplicate_share)->capture_default_str();
  app.add_option("--out-of-order", so.out_of_order_share)->capture_default_str();
  app.add_option("--same-day", so.same_day_share)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Create the stream: file storage, duplicate window, one subject.
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const std::string subject = "e2e." + stream_name;
  natsStatus s = natsConnection_ConnectTo(&nc, url.c_str());
  if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, nullptr);
  if (s != NATS_OK) {
    std::fprintf(stderr, "e2e_nats_peer: cannot connect to %s: %s\n", url.c_str(), natsStatus_GetText(s));
    return 1;
  }
  js_DeleteStream(js, stream_name.c_str(), nullptr, &jerr);  // absent is fine
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream_name.c_str();
  const char* subjects[] = {subject.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = dup_window_s * 1'000'000'000LL;
  jsStreamInfo* si = nullptr;
  s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
  if (s != NATS_OK) {
    std::fprintf(stderr, "e2e_nats_peer: cannot create stream %s: %s (JetStream error %d; is -js on?)\n",
                 stream_name.c_str(), natsStatus_GetText(s), static_cast<int>(jerr));
    return 1;
  }
  jsStreamInfo_Destroy(si);

  std::vector<std::unique_ptr<Producer>> ps;
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (uint32_t i = 0; i < producers; ++i) {
    ps.push_back(std::make_unique<Producer>());
    threads.emplace_back(RunProducer, url, so, i, max_pending, seconds, subject, ps.back().get());
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

  uint64_t published = 0, acked = 0, duplicates = 0, errors = 0, exact = 0;
  std::vector<uint32_t> latencies;
  std::string error;
  for (const auto& p : ps) {
    published += p->published;
    acked += p->acked.load();
    duplicates += p->duplicates.load();
    errors += p->errors.load();
    exact += p->exact_duplicates;
    latencies.insert(latencies.end(), p->latency_us.begin(), p->latency_us.end());
    if (error.empty()) error = p->error;
  }
  std::sort(latencies.begin(), latencies.end());
  uint64_t stream_msgs = 0;
  if (js_GetStreamInfo(&si, js, stream_name.c_str(), nullptr, &jerr) == NATS_OK) {
    stream_msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
  }
  js_DeleteStream(js, stream_name.c_str(), nullptr, &jerr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nlohmann::json out = {{"producers", producers},
                        {"max_pending", max_pending},
                        {"published", published},
                        {"acked", acked},
                        {"acked_duplicate", duplicates},
                        {"errors", errors},
                        {"seconds", elapsed},
                        {"acked_per_s", acked / elapsed},
                        {"stored_per_s", (acked - duplicates) / elapsed},
                        {"ack_latency_ms",
                         {{"p50", Percentile(latencies, 0.5)},
                          {"p99", Percentile(latencies, 0.99)},
                          {"p99_9", Percentile(latencies, 0.999)},
                          {"max", latencies.empty() ? 0.0 : latencies.back() / 1000.0}}},
                        {"stream_msgs", stream_msgs},
                        {"exact_duplicates_sent", exact},
                        {"dedup_ok", stream_msgs == acked - duplicates && duplicates >= exact && acked == published},
                        {"error", error}};
  std::printf("%s\n", out.dump().c_str());
  nats_Close();
  return error.empty() && errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ordersync::bench

int main(int argc, char** argv) { return ordersync::bench::Main(argc, argv); }
