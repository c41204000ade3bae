#include "adapters/cli/quarantine_command.h"

#include <ctime>
#include <fstream>
#include <vector>

#include "adapters/ingress/quarantine_store.h"
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

std::string Json(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);  // bytes shown one by one
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
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

std::string EntryJson(const QuarantineEntry& e, bool with_frame) {
  std::string out = "{\"id\":" + std::to_string(e.id) + ",\"received_at\":" + Json(Time(e.received_at_ns)) +
                    ",\"received_at_ns\":" + std::to_string(e.received_at_ns) + ",\"endpoint\":" + Json(e.endpoint) +
                    ",\"reason\":" + Json(e.reason) + ",\"description\":" + Json(e.description) +
                    ",\"routing_id_hex\":" + Json(Hex(e.routing_id)) + ",\"peer_address\":" + Json(e.peer_address) +
                    ",\"curve_key_name\":" + Json(e.curve_key_name) + ",\"source\":" + Json(e.source) +
                    ",\"event_id\":" + Json(e.event_id) + ",\"order_id\":" + Json(e.order_id) +
                    ",\"frame_index\":" + std::to_string(e.frame_index) + ",\"frame_size\":" +
                    std::to_string(e.frame_size) + ",\"frame_kept\":" + std::to_string(e.frame.size()) +
                    ",\"file_name\":" + Json(e.file_name);
  if (with_frame) out += ",\"frame_hex\":" + Json(Hex(e.frame));
  return out + "}";
}

Result<std::unique_ptr<RocksDbStore>> OpenStore(const AppConfig& config, const QuarantineCommandOptions& options) {
  StorageOptions storage = config.storage;
  if (!options.data_dir.empty()) storage.data_dir = options.data_dir;
  storage.block_cache_mb = 8;
  return RocksDbStore::OpenReadOnly(storage);
}

}  // namespace

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
    out << "{\"data_dir\":" << Json((*store)->data_dir()) << ",\"count\":" << counters.count
        << ",\"bytes\":" << counters.bytes << ",\"dropped\":" << counters.dropped
        << ",\"next_id\":" << counters.next_id << ",\"records\":[";
    for (size_t i = 0; i < entries.size(); ++i) out << (i ? "," : "") << EntryJson(entries[i], false);
    out << "]}\n";
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
    out << EntryJson(e, true) << "\n";
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
