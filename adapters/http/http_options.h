// HttpIngressOptions: the HTTP/JSON front door ([ingress.http]): POST /v1/events with a
// JSON array of Envelopes (docs/openapi.yaml). The TOML table maps onto these fields one
// to one; configs/ordersync.toml documents the same defaults.
//
// Reloadable: no (restart). Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>

namespace ordersync {

struct HttpIngressOptions {
  // Serve the HTTP ingress. Off by default: a new network door is opened on purpose.
  // Default: false.
  bool enabled = false;
  // host:port to bind. Loopback by default; port 0 picks a free port (logged). Any
  // other interface requires token_file. Default: "127.0.0.1:7190".
  std::string listen = "127.0.0.1:7190";
  // File whose content (surrounding whitespace trimmed) is the bearer token every
  // request must present (`Authorization: Bearer <token>`, compared in constant time).
  // Required when `listen` is not a loopback address; when set, required on loopback
  // too. Default: "" (no token on loopback).
  std::string token_file;
  // Largest request body; larger ones are answered 413 before they are parsed.
  // Default: 4 MiB.
  uint64_t max_body_bytes = 4ull * 1024 * 1024;
  // Most events in one request; the events beyond it are rejected one by one as
  // batch_too_large (as on the ZeroMQ ack endpoint). Default: 1024.
  uint32_t max_events_per_request = 1024;
  // Threads serving requests (each request holds one until its events are durable).
  // Default: 8.
  uint32_t threads = 8;
  // How long a connection may stay idle between requests (keep-alive), in s. Default: 5.
  uint32_t keep_alive_timeout_s = 5;
};

}  // namespace ordersync
