// StorageOptions: where and how the RocksDB state store keeps its data. The TOML
// [storage] table maps onto these fields; none is reloadable (restart to change).
#pragma once

#include <cstdint>
#include <string>

namespace ordersync {

struct StorageOptions {
  // Directory of the RocksDB database (created if missing). Default: "./ordersync-data".
  std::string data_dir = "./ordersync-data";
  // Shared block cache for reads of cold orders and dedup keys, MiB. Default: 256.
  uint32_t block_cache_mb = 256;
  // Memtable size per column family, MiB. Larger absorbs bursts with fewer flushes at
  // the cost of memory and recovery time. Default: 64.
  uint32_t write_buffer_mb = 64;
  // Bloom filter bits per key; makes "is this event_id new?" a memory-only answer for
  // most keys. 0 disables. Default: 10.
  uint32_t bloom_bits_per_key = 10;
  // RocksDB background threads for flush and compaction. Default: 2.
  uint32_t background_jobs = 2;
  // Directory of the event log (the engine's commit point; engine/event_log.h). Empty:
  // "<data_dir>/eventlog". A separate disk here takes the log's appends off the
  // checkpoints' disk. Default: "".
  std::string log_dir;
  // Size at which a log stream starts a new segment file, MiB; checkpoints delete whole
  // segments. Default: 64.
  uint32_t log_segment_mb = 64;

  std::string EventLogDir() const { return log_dir.empty() ? data_dir + "/eventlog" : log_dir; }
};

}  // namespace ordersync
