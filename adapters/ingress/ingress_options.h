// IngressOptions: how the ZeroMQ ingress listens, bounds its work, limits producers,
// authenticates them (CURVE) and keeps the frames it rejects (quarantine). The TOML
// [ingress] table, [ingress.rate_limit] (with [[ingress.rate_limit.sources]]) and
// [ingress.quarantine] map onto these fields one to one; configs/ordersync.toml documents
// the same defaults.
//
// Reloadable: only RateLimitOptions (SIGHUP in `ordersync serve`, applied without
// dropping connections). Everything else takes effect on restart.
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ordersync {

// A token bucket: `events_per_s` tokens per second, at most `burst` saved up.
// events_per_s == 0 means unlimited. burst == 0 means one second's worth.
struct SourceRateLimit {
  std::string source;  // the Envelope's `source`, exact match
  uint32_t events_per_s = 0;
  uint32_t burst = 0;
};

struct RateLimitOptions {
  // One bucket for all producers together. 0 = unlimited. Default: 0.
  uint32_t global_events_per_s = 0;
  // Saved-up tokens of the global bucket; 0 = global_events_per_s. Default: 0.
  uint32_t global_burst = 0;
  // Bucket of each source without an entry in `sources`. 0 = unlimited. Default: 0.
  uint32_t default_events_per_s = 0;
  // Saved-up tokens of each default bucket; 0 = default_events_per_s. Default: 0.
  uint32_t default_burst = 0;
  // Per-source overrides; a source named here gets its own limit. Default: none.
  std::vector<SourceRateLimit> sources;
  // Most distinct default-limited sources tracked with a bucket each; sources seen after
  // that share one overflow bucket with the default limit, so a producer inventing
  // source names cannot grow memory. Default: 10000.
  uint32_t max_tracked_sources = 10000;
};

// The bounded store of rejected frames (Table::kQuarantine). Oldest entries are dropped
// first when either cap is reached; drops are counted.
struct QuarantineOptions {
  // Most records kept. Default: 100000.
  uint64_t max_entries = 100000;
  // Most bytes kept (sum of encoded records). Default: 256 MiB.
  uint64_t max_bytes = 256ull * 1024 * 1024;
  // Bytes of a rejected frame kept in its record; the rest is cut (the record says how
  // long the frame was). Default: 64 KiB.
  uint32_t max_frame_bytes = 64 * 1024;
};

struct IngressOptions {
  // Acknowledged endpoint (ROUTER): one IngressAck per batch. "" disables it. A TCP port
  // of "*" binds an ephemeral port (the bound endpoint is logged). Default:
  // "tcp://0.0.0.0:7100".
  std::string ack_endpoint = "tcp://0.0.0.0:7100";
  // Fire-and-forget endpoint (PULL): same frames, no reply; back-pressure is ZeroMQ's
  // own (the ingress stops reading). "" disables it. Default: "tcp://0.0.0.0:7101".
  std::string pull_endpoint = "tcp://0.0.0.0:7101";
  // ZeroMQ I/O threads. One moves several hundred MB/s; more only help with many
  // connections. Default: 1.
  uint32_t io_threads = 1;
  // Most Envelope frames in one batch (message); the frames beyond it are rejected one
  // by one as batch_too_large, in the same single reply. Default: 1024.
  uint32_t max_frames_per_batch = 1024;
  // Acknowledged batches whose results are still outstanding. Beyond it, new Standard
  // events are answered Busy without being submitted (SameDay events still are, up to
  // twice this many batches), so a slow partition never stalls the socket and memory
  // stays bounded. Default: 1024.
  uint32_t max_pending_batches = 1024;
  // retry_after_ms hint sent with Busy (a partition queue or ERP target is full).
  // Default: 20.
  uint32_t busy_retry_after_ms = 20;
  // retry_after_ms hint sent with Busy when the store failed to write the batch.
  // Default: 1000.
  uint32_t store_error_retry_after_ms = 1000;
  // Messages ZeroMQ queues per connection in each direction before it pushes back
  // (ZMQ_RCVHWM / ZMQ_SNDHWM). Default: 1000.
  uint32_t high_water_mark = 1000;
  // CURVE: file holding the server's secret key (z85, as `ordersync keygen` writes it).
  // "" = no encryption or authentication. Default: "".
  std::string curve_secret_key_file;
  // CURVE: directory of allowed producer public keys, one `<name>.pub` (z85) per
  // producer; any other key is refused (and counted). Required when
  // curve_secret_key_file is set. Default: "".
  std::string curve_authorized_keys_dir;

  RateLimitOptions rate_limit;
  QuarantineOptions quarantine;
};

}  // namespace ordersync
