#include "adapters/cli/validate_command.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

namespace ordersync {
namespace {

struct Verdict {
  bool io_error = false;
  Rejection rejection;
  std::string message;  // the OS error for io_error, else rejection.Describe()
};

// Reads at most `limit` bytes of `path` into *data. Returns false and sets *error on failure.
// A vector (never small-buffer storage) keeps the frame 8-byte aligned for FlatBuffers.
bool ReadPrefix(const std::string& path, size_t limit, std::vector<uint8_t>* data, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  data->clear();
  uint8_t chunk[16 * 1024];
  while (data->size() < limit) {
    size_t want = std::min(sizeof(chunk), limit - data->size());
    size_t got = std::fread(chunk, 1, want, f);
    data->insert(data->end(), chunk, chunk + got);
    if (got < want) break;
  }
  bool failed = std::ferror(f) != 0;
  int saved_errno = errno;
  std::fclose(f);
  if (failed) {
    *error = std::string("cannot read: ") + std::strerror(saved_errno);
    return false;
  }
  return true;
}

Verdict ValidateFile(const std::string& path, const ValidatorOptions& options) {
  Verdict v;
  // One byte past the limit is enough to tell that a frame is oversized.
  const size_t limit = options.max_message_bytes == std::numeric_limits<size_t>::max()
                           ? options.max_message_bytes
                           : options.max_message_bytes + 1;
  std::vector<uint8_t> data;
  if (!ReadPrefix(path, limit, &data, &v.message)) {
    v.io_error = true;
    return v;
  }
  const Envelope* envelope = nullptr;
  v.rejection = ValidateEnvelope(data.data(), data.size(), options, &envelope);
  v.message = v.rejection.Describe();
  return v;
}

// JSON string literal with the escapes RFC 8259 requires. Bytes >= 0x80 pass through, so
// UTF-8 paths stay readable (a non-UTF-8 path yields non-UTF-8 output).
void AppendJsonString(std::ostream& out, const std::string& s) {
  out << '"';
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      case '\r': out << "\\r"; break;
      case '\t': out << "\\t"; break;
      default:
        if (ch < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", ch);
          out << buf;
        } else {
          out << static_cast<char>(ch);
        }
    }
  }
  out << '"';
}

}  // namespace

int RunValidateCommand(const std::vector<std::string>& files, bool json, const ValidatorOptions& options,
                       std::ostream& out) {
  bool any_rejected = false;
  bool any_io_error = false;
  if (json) out << '[';
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& path = files[i];
    Verdict v = ValidateFile(path, options);
    const bool ok = !v.io_error && v.rejection.ok();
    const std::string reason = v.io_error ? "io_error" : v.rejection.ToString();
    any_io_error |= v.io_error;
    any_rejected |= !ok && !v.io_error;
    if (json) {
      out << (i == 0 ? "\n  " : ",\n  ") << "{\"file\": ";
      AppendJsonString(out, path);
      out << ", \"ok\": " << (ok ? "true" : "false") << ", \"reason\": ";
      AppendJsonString(out, reason);
      out << ", \"message\": ";
      AppendJsonString(out, v.message);
      out << '}';
    } else if (ok) {
      out << path << "\tok\n";
    } else {
      out << path << '\t' << reason << '\t' << v.message << '\n';
    }
  }
  if (json) out << (files.empty() ? "]\n" : "\n]\n");
  out.flush();
  if (any_io_error) return kValidateIoError;
  return any_rejected ? kValidateSomeRejected : kValidateAllOk;
}

}  // namespace ordersync
