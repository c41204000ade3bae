// ingress_compare: HTTP/JSON ingress against the ZeroMQ ack endpoint on the same load
// (docs/benchmarks.md, "EDI and HTTP ingress"). Starts the serve pipeline in process
// (RocksDB in a temp dir, durability wal, both ingresses on loopback, no ERP reachable:
// commands stay in the outbox) and drives it from --connections client threads with the
// same events — per order OrderAccepted, InventoryReserved, PickCompleted — in batches of
// --batch, each thread sending its own orders in business order:
//
//   zmq/window=1   AckClient (DEALER), one batch in flight per connection
//   zmq/window=8   AckClient, eight batches in flight (its normal use)
//   http           cpp-httplib client, keep-alive, one request in flight per connection
//                  (HTTP/1.1 has no pipelining), JSON rendered before timing starts
//
// Prints events/s (durable, every result Accepted) per mode. Usage:
//   ingress_compare [--orders 20000] [--connections 4] [--batch 100]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <flatbuffers/idl.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "adapters/cli/pipeline.h"
#include "adapters/config/config_loader.h"
#include "adapters/http/envelope_json.h"
#include "adapters/ingress/ack_client.h"
#include "adapters/producer/milestone_builder.h"

namespace ordersync {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::vector<EnvelopeSpec> Events(const std::string& prefix, int orders) {
  std::vector<EnvelopeSpec> out;
  for (int i = 0; i < orders; ++i) {
    EnvelopeSpec e;
    e.order_id = prefix + std::to_string(i);
    e.lines = {{1, "SKU-1", 4, "EA", 1500}, {2, "SKU-2", 1, "EA", 900}};
    e.kind = Milestone::OrderAccepted;
    e.event_id = e.order_id + "-a";
    out.push_back(e);
    e.kind = Milestone::InventoryReserved;
    e.event_id = e.order_id + "-r";
    e.business_key = "R-" + e.order_id;
    out.push_back(e);
    e.kind = Milestone::PickCompleted;
    e.event_id = e.order_id + "-p";
    e.business_key = "P-" + e.order_id;
    out.push_back(e);
  }
  return out;
}

struct Run {
  double seconds = 0;
  uint64_t events = 0, not_accepted = 0;
};

// Splits events (3 per order) into `threads` contiguous slices of whole orders.
std::vector<std::vector<std::string>> Slices(const std::vector<std::string>& items, int threads) {
  std::vector<std::vector<std::string>> out(threads);
  const size_t orders = items.size() / 3;
  for (size_t o = 0; o < orders; ++o) {
    for (int k = 0; k < 3; ++k) out[o * threads / orders].push_back(items[o * 3 + k]);
  }
  return out;
}

Run DriveZmq(const std::string& endpoint, const std::vector<std::string>& frames, int threads, size_t batch,
             size_t window) {
  auto slices = Slices(frames, threads);
  std::atomic<uint64_t> not_accepted{0};
  zmq::context_t ctx(1);
  const auto start = SteadyClock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      AckClientOptions o;
      o.endpoint = endpoint;
      o.batch_events = batch;
      o.max_in_flight_batches = window;
      o.ack_timeout_ms = 30000;
      AckClient client(ctx, o);
      for (size_t i = 0; i < slices[t].size(); ++i) client.Enqueue(slices[t][i], i);
      while (!client.idle()) {
        client.Poll(100, [&](const FinalResult& r) {
          if (r.status != IngressVerdict::kAccepted) not_accepted.fetch_add(1);
        });
      }
    });
  }
  for (auto& w : workers) w.join();
  Run r;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  r.events = frames.size();
  r.not_accepted = not_accepted;
  return r;
}

Run DriveHttp(const std::string& url, const std::vector<std::string>& jsons, int threads, size_t batch) {
  auto slices = Slices(jsons, threads);
  // Bodies rendered before timing.
  std::vector<std::vector<std::string>> bodies(threads);
  for (int t = 0; t < threads; ++t) {
    for (size_t s = 0; s < slices[t].size(); s += batch) {
      std::string body = "[";
      for (size_t i = s; i < std::min(slices[t].size(), s + batch); ++i) body += (i > s ? "," : "") + slices[t][i];
      bodies[t].push_back(body + "]");
    }
  }
  std::atomic<uint64_t> not_accepted{0};
  const auto start = SteadyClock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      httplib::Client client(url);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(60, 0);
      for (const std::string& body : bodies[t]) {
        while (true) {
          auto res = client.Post("/v1/events", body, "application/json");
          if (!res || res->status == 429) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
          }
          // Count results that are not Accepted (a Busy would be resent by a real client;
          // the bench reports it instead).
          size_t at = 0;
          while ((at = res->body.find("\"status\":\"", at)) != std::string::npos) {
            at += 10;
            if (res->body.compare(at, 8, "Accepted") != 0) not_accepted.fetch_add(1);
          }
          break;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  Run r;
  r.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  r.events = jsons.size();
  r.not_accepted = not_accepted;
  return r;
}

int Main(int argc, char** argv) {
  CLI::App app("HTTP/JSON vs ZeroMQ ingress on the same load (in-process serve pipeline)");
  int orders = 20000, connections = 4;
  size_t batch = 100;
  app.add_option("--orders", orders, "Orders per mode (3 events each)")->capture_default_str();
  app.add_option("--connections", connections, "Client connections (threads)")->capture_default_str();
  app.add_option("--batch", batch, "Events per batch / request")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  Result<AppConfig> loaded = LoadEmbeddedDefault();
  AppConfig config = *loaded;
  const std::string dir = "/tmp/ordersync-ingress-compare-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  config.storage.data_dir = dir;
  config.ingress.ack_endpoint = "tcp://127.0.0.1:*";
  config.ingress.pull_endpoint = "";
  config.http_ingress.enabled = true;
  config.http_ingress.listen = "127.0.0.1:0";
  config.http_ingress.threads = static_cast<uint32_t>(connections) + 2;
  config.metrics.enabled = false;
  config.admin.endpoint = "";
  config.erp.targets.at(0).endpoint = "tcp://127.0.0.1:1";  // nobody: commands stay in the outbox
  config.erp.targets.at(0).outbox_high_water = 1u << 30;
  config.erp.targets.at(0).outbox_low_water = 1u << 29;
  auto pipeline = Pipeline::Start(config, {});
  if (!pipeline.ok()) {
    std::cerr << "cannot start: " << pipeline.status().ToString() << "\n";
    return 1;
  }
  flatbuffers::IDLOptions opts;
  opts.strict_json = true;
  opts.indent_step = -1;
  flatbuffers::Parser schema(opts);
  const std::string schema_text(EmbeddedMilestoneSchema());
  if (!schema.Parse(schema_text.c_str())) return 1;
  MilestoneBuilder builder;
  std::cout << "load: " << orders << " orders x 3 events per mode, " << connections << " connections, batches of "
            << batch << "; serve in process (RocksDB wal, " << std::thread::hardware_concurrency() << " cores)\n";
  struct Mode {
    const char* name;
    int kind;  // 0 zmq, 1 http
    size_t window;
  } modes[] = {{"zmq/window=1", 0, 1}, {"zmq/window=8", 0, 8}, {"http/keep-alive", 1, 1}};
  int index = 0;
  for (const Mode& m : modes) {
    std::vector<std::string> items;
    for (const EnvelopeSpec& e : Events("M" + std::to_string(index++) + "-", orders)) {
      std::string bytes(builder.Build(e));
      if (m.kind == 0) {
        items.push_back(std::move(bytes));
      } else {
        std::string json;
        std::vector<uint64_t> aligned(bytes.size() / 8 + 1);
        std::memcpy(aligned.data(), bytes.data(), bytes.size());
        if (!flatbuffers::GenerateText(schema, aligned.data(), &json)) return 1;
        items.push_back(std::move(json));
      }
    }
    const Run r = m.kind == 0 ? DriveZmq((*pipeline)->ingress()->ack_endpoint(), items, connections, batch, m.window)
                              : DriveHttp((*pipeline)->http()->url(), items, connections, batch);
    std::printf("%-16s %8llu events in %6.2f s = %8.0f events/s durable (%llu not Accepted)\n", m.name,
                static_cast<unsigned long long>(r.events), r.seconds, r.events / r.seconds,
                static_cast<unsigned long long>(r.not_accepted));
  }
  (*pipeline)->Stop();
  pipeline->reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) { return ordersync::Main(argc, argv); }
