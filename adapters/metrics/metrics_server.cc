#include "adapters/metrics/metrics_server.h"

#include <exception>

#include <prometheus/exposer.h>

namespace ordersync {

MetricsServer::MetricsServer(std::unique_ptr<prometheus::Exposer> exposer, std::string host, int port)
    : exposer_(std::move(exposer)), host_(std::move(host)), port_(port) {}

MetricsServer::~MetricsServer() { exposer_.reset(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const MetricsOptions& options) {
  const std::string& address = options.listen_address;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::InvalidArgument("metrics.listen_address must be host:port, got '" + address + "'");
  }
  std::string host = address.substr(0, colon);
  try {
    // One civetweb worker thread is plenty for a scrape every few seconds.
    auto exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
    const std::vector<int> ports = exposer->GetListeningPorts();
    if (ports.empty()) return Status::IOError("metrics endpoint " + address + ": not listening");
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(exposer), host, ports.front()));
  } catch (const std::exception& e) {
    return Status::IOError("cannot serve metrics on " + address + ": " + e.what());
  }
}

void MetricsServer::Register(std::shared_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
  owned_.push_back(std::move(collectable));
}

std::string MetricsServer::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) + "/metrics";
}

}  // namespace ordersync
