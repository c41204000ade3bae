// `ordersync quarantine list|show ID`: inspects the frames the ingress rejected
// (adapters/ingress/quarantine_store.h) in a data directory, read-only, so it works on a
// stopped engine's data and next to a running one (RocksDbStore::OpenReadOnly: it sees
// the data as of the moment it opens).
//
//   ordersync quarantine list [--after ID] [--limit N] [--json]
//   ordersync quarantine show ID [--json] [--raw FILE]   (FILE: the frame's bytes, for
//                                                         `ordersync validate FILE`)
//
// Thread-safety: call once, from the main thread.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/config/app_config.h"
#include "adapters/ingress/quarantine_store.h"

namespace ordersync {

struct QuarantineCommandOptions {
  std::string data_dir;  // "" = [storage] data_dir
  bool json = false;
  uint64_t after = 0;    // list: records with a greater id
  size_t limit = 50;     // list: most records printed (0 = all)
  uint64_t id = 0;       // show
  std::string raw_file;  // show: write the frame's bytes here
};

class AdminServer;

// A record as JSON: {"id", "received_at" (UTC), "received_at_ns", "endpoint", "reason",
// "description", "routing_id_hex", "peer_address", "curve_key_name", "source",
// "event_id", "order_id", "frame_index", "frame_size", "frame_kept"} and, with
// `with_frame`, "frame_hex" and "decoded" (adapters/producer/envelope_json.h).
nlohmann::json QuarantineEntryJson(const QuarantineEntry& e, bool with_frame);

// Registers the read-only admin commands "quarantine.list" (args: after, limit, newest,
// reason — "missing_field" also matches "missing_field:order_id" —, source — the
// envelope's source, CURVE key name or peer address —, order; result {"count", "bytes",
// "dropped", "next_id", "records": [...]}) and "quarantine.show" (args {"id"}; the
// record with its frame), read from the live store. `store` must outlive `admin`'s Stop.
void RegisterQuarantineAdminCommands(AdminServer* admin, StateStore* store);

// Exit codes: 0 ok; 1 no such record or the data dir cannot be read.
int RunQuarantineList(const AppConfig& config, const QuarantineCommandOptions& options, std::ostream& out,
                      std::ostream& err);
int RunQuarantineShow(const AppConfig& config, const QuarantineCommandOptions& options, std::ostream& out,
                      std::ostream& err);

}  // namespace ordersync
