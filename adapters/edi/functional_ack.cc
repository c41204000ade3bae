#include "adapters/edi/functional_ack.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

namespace ordersync {
namespace {

// A value copied from the received interchange into the 997. The partner's separators
// may differ from ours (*, ~, >), so its values may hold ours: they become '?' (X12 has
// no escape), as do control characters, so the 997 always parses as written.
std::string Echoed(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '*' || c == '~' || c == '>' || static_cast<unsigned char>(c) < ' ') c = '?';
  }
  return out;
}

std::string Pad(std::string_view s, size_t width) {
  std::string out = Echoed(s.substr(0, width));
  out.resize(width, ' ');
  return out;
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return Echoed(s);
}

// AK3 segment syntax error code (X12 720) for a set-level fault.
const char* SegmentCode(const X12Fault& f) {
  if (f.element_position > 0) return "8";                              // segment has data element errors
  if (f.reason.rfind("edi_missing_segment:", 0) == 0) return "3";       // mandatory segment missing
  if (f.reason.rfind("edi_missing_loop:", 0) == 0) return "3";
  if (f.reason == "edi_bad_segment") return "1";                        // unrecognized segment id
  return "";
}

}  // namespace

std::string Build997(const X12Interchange& x, const X12Group& g, const std::vector<X12Fault>& set_faults,
                     const X12Fault& group_fault, uint64_t control, int64_t now_ns) {
  const time_t secs = static_cast<time_t>(now_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char yymmdd[16], ccyymmdd[16], hhmm[8], isa13[16];
  std::strftime(yymmdd, sizeof(yymmdd), "%y%m%d", &tm);
  std::strftime(ccyymmdd, sizeof(ccyymmdd), "%Y%m%d", &tm);
  std::strftime(hhmm, sizeof(hhmm), "%H%M", &tm);
  std::snprintf(isa13, sizeof(isa13), "%09llu", static_cast<unsigned long long>(control % 1000000000));
  const std::string n = std::to_string(control);
  std::string out;
  int segments = 0;
  auto seg = [&](const std::string& s) {
    out += s;
    out += "~\n";
  };
  auto body = [&](const std::string& s) {
    seg(s);
    ++segments;
  };
  seg("ISA*00*" + Pad("", 10) + "*00*" + Pad("", 10) + "*" + Pad(x.receiver_qualifier, 2) + "*" +
      Pad(x.receiver_id, 15) + "*" + Pad(x.sender_qualifier, 2) + "*" + Pad(x.sender_id, 15) + "*" + yymmdd + "*" +
      hhmm + "*U*00401*" + isa13 + "*0*" + (x.usage.empty() ? "P" : Echoed(x.usage)) + "*>");
  seg("GS*FA*" + Trimmed(g.gs.at(3)) + "*" + Trimmed(g.gs.at(2)) + "*" + ccyymmdd + "*" + hhmm + "*" + n + "*X*004010");
  body("ST*997*0001");
  body("AK1*" + Trimmed(g.functional_id) + "*" + Trimmed(g.control));
  size_t accepted = 0;
  for (size_t i = 0; i < g.sets.size(); ++i) {
    const X12TransactionSet& s = g.sets[i];
    const X12Fault& f = i < set_faults.size() ? set_faults[i] : group_fault;
    body("AK2*" + Trimmed(s.id) + "*" + Trimmed(s.control));
    if (f.ok() && group_fault.ok()) {
      body("AK5*A");
      ++accepted;
      continue;
    }
    if (!f.ok()) {
      const char* code = SegmentCode(f);
      if (*code != '\0' && !f.segment_id.empty()) {
        body("AK3*" + Echoed(f.segment_id) + "*" + std::to_string(f.segment_position) + "**" + code);
        if (f.element_position > 0) {
          body("AK4*" + std::to_string(f.element_position) + "**" + (f.element_code.empty() ? "7" : f.element_code));
        }
      }
      body("AK5*R" + (f.ack_code.empty() ? std::string() : "*" + f.ack_code));
    } else {
      body("AK5*R");
    }
  }
  // AK902 (sets included) and AK903 (sets received): what was read.
  std::string declared = std::to_string(g.sets.size());
  std::string ak9 = accepted == g.sets.size() && group_fault.ok() ? "A" : accepted == 0 || !group_fault.ok() ? "R" : "P";
  std::string line = "AK9*" + ak9 + "*" + declared + "*" + std::to_string(g.sets.size()) + "*" +
                     std::to_string(group_fault.ok() ? accepted : 0);
  if (!group_fault.ok() && !group_fault.ack_code.empty()) line += "*" + group_fault.ack_code;
  body(line);
  ++segments;  // SE counts itself
  seg("SE*" + std::to_string(segments) + "*0001");
  seg("GE*1*" + n);
  seg("IEA*1*" + std::string(isa13));
  return out;
}

Result<uint64_t> ControlNumbers::Next() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t last = 0;
  {
    std::ifstream in(path_);
    if (in.is_open()) {
      in >> last;
      if (in.fail() && !in.eof()) return Status::Corruption("997 control number file " + path_ + " is unreadable");
    }
  }
  const uint64_t next = last >= 999999999 ? 1 : last + 1;
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot write " + tmp + ": " + std::strerror(errno));
  const std::string text = std::to_string(next) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status::IOError("cannot persist the 997 control number in " + path_ + ": " + std::strerror(errno));
  }
  // Make the rename durable too.
  const std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/'));
  const int dfd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return next;
}

}  // namespace ordersync
