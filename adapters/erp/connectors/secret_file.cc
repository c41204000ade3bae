#include "adapters/erp/connectors/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ordersync {

Result<std::string> ReadSecretFile(const std::string& path, std::string_view what, bool keep_whitespace) {
  const std::string name = std::string(what) + " '" + path + "'";
  if (path.empty()) return Status::InvalidArgument(std::string(what) + ": no file given");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + name + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IOError("cannot stat " + name + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(name + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::InvalidArgument(name + " may be read or written by group or others (mode " + mode +
                                   "); a secret file must be private: chmod 600 '" + path + "'");
  }
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::IOError("cannot read " + name + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) {
      ::close(fd);
      return Status::InvalidArgument(name + " is larger than 1 MiB; not a secret file");
    }
  }
  ::close(fd);
  if (!keep_whitespace) {
    const auto ws = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
    while (!out.empty() && ws(out.back())) out.pop_back();
    size_t i = 0;
    while (i < out.size() && ws(out[i])) ++i;
    out.erase(0, i);
  }
  if (out.empty()) return Status::InvalidArgument(name + " is empty");
  return out;
}

}  // namespace ordersync
