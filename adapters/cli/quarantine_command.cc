#include "adapters/cli/quarantine_command.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <vector>

#include "adapters/admin/admin_server.h"
#include "adapters/producer/envelope_json.h"
#include "adapters/storage/rocksdb_store.h"

namespace ordersync {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Time(int64_t ns) {
  const time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>((ns / 1'000'000) % 1000));
  return out;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

Result<std::unique_ptr<RocksDbStore>> OpenStore(const AppConfig& config, const QuarantineCommandOptions& options) {
  StorageOptions storage = config.storage;
  if (!options.data_dir.empty()) storage.data_dir = options.data_dir;
  storage.block_cache_mb = 8;
  return RocksDbStore::OpenReadOnly(storage);
}

// Records matching `filter` among those with id > after (oldest first), at most `limit`;
// with `newest`, the last `limit` matches instead (newest first).
Status SelectQuarantine(StateStore* store, const nlohmann::json& filter, std::vector<QuarantineEntry>* out) {
  const uint64_t after = filter.value("after", uint64_t{0});
  const size_t limit = filter.value("limit", size_t{0});
  const bool newest = filter.value("newest", false);
  const std::string reason = filter.value("reason", std::string());
  const std::string source = filter.value("source", std::string());
  const std::string order = filter.value("order", std::string());
  const bool filtered = !reason.empty() || !source.empty() || !order.empty();
  std::vector<QuarantineEntry> all;
  // Unfiltered oldest-first reads stop at `limit`; anything else reads the (bounded) rest.
  ORDERSYNC_RETURN_IF_ERROR(ListQuarantine(store, after, filtered || newest ? 0 : limit, &all));
  for (QuarantineEntry& e : all) {
    // "missing_field" matches "missing_field:order_id"; a producer is its source,
    // CURVE key name or peer address.
    if (!reason.empty() && e.reason != reason && e.reason.rfind(reason + ":", 0) != 0) continue;
    if (!source.empty() && e.source != source && e.curve_key_name != source && e.peer_address != source) continue;
    if (!order.empty() && e.order_id != order) continue;
    out->push_back(std::move(e));
  }
  if (newest) {
    std::reverse(out->begin(), out->end());
  }
  if (limit > 0 && out->size() > limit) out->resize(limit);
  return Status::OK();
}

}  // namespace

nlohmann::json QuarantineEntryJson(const QuarantineEntry& e, bool with_frame) {
  nlohmann::json j = {{"id", e.id},
                      {"received_at", Time(e.received_at_ns)},
                      {"received_at_ns", e.received_at_ns},
                      {"endpoint", e.endpoint},
                      {"reason", e.reason},
                      {"description", e.description},
                      {"routing_id_hex", Hex(e.routing_id)},
                      {"peer_address", e.peer_address},
                      {"curve_key_name", e.curve_key_name},
                      {"source", e.source},
                      {"event_id", e.event_id},
                      {"order_id", e.order_id},
                      {"frame_index", e.frame_index},
                      {"frame_size", e.frame_size},
                      {"frame_kept", e.frame.size()},
                      {"file_name", e.file_name}};
  if (with_frame) {
    j["frame_hex"] = Hex(e.frame);
    j["decoded"] = DecodeEnvelopeJson(e.frame);
  }
  return j;
}

void RegisterQuarantineAdminCommands(AdminServer* admin, StateStore* store) {
  admin->Register("quarantine.list",
                  {"rejected frames (args: after, limit, newest, reason, source, order) with the counters", false,
                   [store](const nlohmann::json& args) -> Result<nlohmann::json> {
                     QuarantineCounters counters;
                     std::vector<QuarantineEntry> entries;
                     ORDERSYNC_RETURN_IF_ERROR(ReadQuarantineCounters(store, &counters));
                     ORDERSYNC_RETURN_IF_ERROR(SelectQuarantine(store, args, &entries));
                     nlohmann::json records = nlohmann::json::array();
                     for (const QuarantineEntry& e : entries) records.push_back(QuarantineEntryJson(e, false));
                     return nlohmann::json{{"count", counters.count},     {"bytes", counters.bytes},
                                           {"dropped", counters.dropped}, {"next_id", counters.next_id},
                                           {"records", records}};
                   }});
  admin->Register("quarantine.show", {"one rejected frame with its bytes (hex) and decoded fields: {\"id\": N}", false,
                                      [store](const nlohmann::json& args) -> Result<nlohmann::json> {
                                        QuarantineEntry e;
                                        ORDERSYNC_RETURN_IF_ERROR(
                                            GetQuarantine(store, args.value("id", uint64_t{0}), &e));
                                        return QuarantineEntryJson(e, true);
                                      }});
}

int RunQuarantineList(const AppConfig& config, const QuarantineCommandOptions& options, std::ostream& out,
                      std::ostream& err) {
  auto store = OpenStore(config, options);
  if (!store.ok()) {
    err << "ordersync quarantine: " << store.status().message() << "\n";
    return 1;
  }
  QuarantineCounters counters;
  std::vector<QuarantineEntry> entries;
  Status s = ReadQuarantineCounters(store->get(), &counters);
  if (s.ok()) s = ListQuarantine(store->get(), options.after, options.limit, &entries);
  if (!s.ok()) {
    err << "ordersync quarantine: " << s.ToString() << "\n";
    return 1;
  }
  if (options.json) {
    nlohmann::json records = nlohmann::json::array();
    for (const QuarantineEntry& e : entries) records.push_back(QuarantineEntryJson(e, false));
    out << DumpJson({{"data_dir", (*store)->data_dir()},
                     {"count", counters.count},
                     {"bytes", counters.bytes},
                     {"dropped", counters.dropped},
                     {"next_id", counters.next_id},
                     {"records", records}})
        << "\n";
    return 0;
  }
  out << "quarantine of " << (*store)->data_dir() << ": " << counters.count << " records, " << counters.bytes
      << " bytes, " << counters.dropped << " dropped to stay within the caps\n";
  if (entries.empty()) return 0;
  out << "ID\tRECEIVED (UTC)\tENDPOINT\tREASON\tSOURCE\tEVENT_ID\tPRODUCER\tBYTES\n";
  for (const QuarantineEntry& e : entries) {
    const std::string producer = !e.file_name.empty()        ? "file:" + e.file_name
                                 : !e.curve_key_name.empty() ? "key:" + e.curve_key_name
                                                             : OrDash(e.peer_address);
    out << e.id << "\t" << Time(e.received_at_ns) << "\t" << e.endpoint << "\t" << e.reason << "\t" << OrDash(e.source)
        << "\t" << OrDash(e.event_id) << "\t" << producer << "\t" << e.frame_size << "\n";
  }
  if (options.limit != 0 && entries.size() == options.limit) {
    out << "(first " << options.limit << "; more with --after " << entries.back().id << ")\n";
  }
  return 0;
}

int RunQuarantineShow(const AppConfig& config, const QuarantineCommandOptions& options, std::ostream& out,
                      std::ostream& err) {
  auto store = OpenStore(config, options);
  if (!store.ok()) {
    err << "ordersync quarantine: " << store.status().message() << "\n";
    return 1;
  }
  QuarantineEntry e;
  Status s = GetQuarantine(store->get(), options.id, &e);
  if (!s.ok()) {
    err << "ordersync quarantine: " << s.message() << "\n";
    return 1;
  }
  if (!options.raw_file.empty()) {
    std::ofstream raw(options.raw_file, std::ios::binary);
    raw.write(e.frame.data(), static_cast<std::streamsize>(e.frame.size()));
    if (!raw) {
      err << "ordersync quarantine: cannot write " << options.raw_file << "\n";
      return 1;
    }
  }
  if (options.json) {
    out << DumpJson(QuarantineEntryJson(e, true)) << "\n";
    return 0;
  }
  out << "id            " << e.id << "\n"
      << "received      " << Time(e.received_at_ns) << "\n"
      << "endpoint      " << e.endpoint << " (frame " << e.frame_index << " of its batch)\n"
      << "reason        " << e.reason << "\n"
      << "description   " << e.description << "\n"
      << "source        " << OrDash(e.source) << "\n"
      << "event_id      " << OrDash(e.event_id) << "\n"
      << "order_id      " << OrDash(e.order_id) << "\n"
      << "file          " << OrDash(e.file_name) << "\n"
      << "peer address  " << OrDash(e.peer_address) << "\n"
      << "CURVE key     " << OrDash(e.curve_key_name) << "\n"
      << "routing id    " << OrDash(Hex(e.routing_id)) << "\n"
      << "frame         " << e.frame_size << " bytes" << (e.frame.size() < e.frame_size ? " (first " + std::to_string(e.frame.size()) + " kept)" : "")
      << "\n";
  const size_t shown = std::min<size_t>(e.frame.size(), 256);
  for (size_t off = 0; off < shown; off += 16) {
    char line[128];
    int n = std::snprintf(line, sizeof(line), "  %04zx  ", off);
    std::string ascii;
    for (size_t i = off; i < off + 16; ++i) {
      if (i < shown) {
        const unsigned char c = static_cast<unsigned char>(e.frame[i]);
        n += std::snprintf(line + n, sizeof(line) - n, "%02x ", c);
        ascii.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
      } else {
        n += std::snprintf(line + n, sizeof(line) - n, "   ");
      }
    }
    out << line << " " << ascii << "\n";
  }
  if (shown < e.frame.size()) out << "  ... (" << e.frame.size() - shown << " more bytes; --raw FILE writes them all)\n";
  if (!options.raw_file.empty()) out << "frame bytes written to " << options.raw_file << "\n";
  return 0;
}

}  // namespace ordersync
