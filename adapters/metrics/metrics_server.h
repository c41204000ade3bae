// MetricsServer: the Prometheus scrape endpoint (prometheus-cpp's civetweb Exposer) at
// http://<MetricsOptions::listen_address>/metrics. Collectors registered with it are
// asked for their families on every scrape, on the exposer's thread.
//
//   auto server = MetricsServer::Start(options);          // binds; error if it cannot
//   (*server)->Register(collector);                        // shared_ptr<Collectable>
//   std::string url = (*server)->url();                    // "http://127.0.0.1:9464/metrics"
//
// Security: the endpoint is read-only and unauthenticated; it binds loopback unless told
// otherwise (docs/operations.md, "Locking down the endpoints").
//
// Thread-safety: Register from any thread; destroy after the last scrape may run (the
// destructor stops the HTTP server and waits for requests in progress).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "adapters/metrics/metrics_options.h"
#include "engine/status.h"

namespace prometheus {
class Exposer;
}

namespace ordersync {

class MetricsServer {
 public:
  static Result<std::unique_ptr<MetricsServer>> Start(const MetricsOptions& options);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Keeps `collectable` alive and scrapes it until the server is destroyed.
  void Register(std::shared_ptr<prometheus::Collectable> collectable);

  // The bound port (resolved when listen_address asked for port 0).
  int port() const { return port_; }
  // http://host:port/metrics
  std::string url() const;

 private:
  MetricsServer(std::unique_ptr<prometheus::Exposer> exposer, std::string host, int port);

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<std::shared_ptr<prometheus::Collectable>> owned_;
  std::string host_;
  int port_;
};

}  // namespace ordersync
