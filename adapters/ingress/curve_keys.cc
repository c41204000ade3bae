#include "adapters/ingress/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <zmq.h>

namespace ordersync {
namespace {

constexpr size_t kZ85KeyChars = 40;
constexpr size_t kKeyBytes = 32;

bool ValidName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
}

Status WriteFile(const std::string& path, const std::string& text, mode_t mode, bool overwrite) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    return Status::IOError("cannot create '" + path + "': " + std::strerror(errno) +
                           (errno == EEXIST ? " (use --force to replace it)" : ""));
  }
  // O_CREAT's mode is filtered by the umask and ignored for an existing file: set it.
  if (::fchmod(fd, mode) != 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return Status::IOError("cannot write '" + path + "': " + error);
  }
  if (::close(fd) != 0) return Status::IOError("cannot write '" + path + "': " + std::strerror(errno));
  return Status::OK();
}

Result<std::string> DecodeZ85Key(const std::string& z85, const std::string& what) {
  if (z85.size() != kZ85KeyChars) {
    return Status::InvalidArgument(what + ": expected a " + std::to_string(kZ85KeyChars) +
                                   "-character Z85 CURVE key, got " + std::to_string(z85.size()) + " characters");
  }
  uint8_t key[kKeyBytes];
  if (zmq_z85_decode(key, z85.c_str()) == nullptr) {
    return Status::InvalidArgument(what + ": not valid Z85 text");
  }
  return std::string(reinterpret_cast<const char*>(key), kKeyBytes);
}

}  // namespace

Result<CurveKeyPair> GenerateCurveKeyPair() {
  char pub[kZ85KeyChars + 1], sec[kZ85KeyChars + 1];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status::Unavailable(std::string("zmq_curve_keypair: ") + zmq_strerror(zmq_errno()) +
                               " (libzmq built without CURVE?)");
  }
  return CurveKeyPair{pub, sec};
}

Status WriteCurveKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& pair, bool overwrite) {
  if (!ValidName(name)) {
    return Status::InvalidArgument("key name '" + name + "': use letters, digits, '.', '_' and '-' only");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create directory '" + dir + "': " + ec.message());
  const std::string base = (std::filesystem::path(dir) / name).string();
  ORDERSYNC_RETURN_IF_ERROR(WriteFile(base + ".key", pair.secret_z85 + "\n", 0600, overwrite));
  return WriteFile(base + ".pub", pair.public_z85 + "\n", 0644, overwrite);
}

Result<std::string> ReadCurveKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in.is_open()) return Status::IOError("cannot open CURVE key file '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string z85 = text.str();
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  z85.erase(z85.begin(), std::find_if(z85.begin(), z85.end(), not_space));
  z85.erase(std::find_if(z85.rbegin(), z85.rend(), not_space).base(), z85.end());
  Result<std::string> key = DecodeZ85Key(z85, "CURVE key file '" + path + "'");
  if (!key.ok()) return key.status();
  return z85;
}

Result<std::string> CurvePublicKeyOf(const std::string& secret_z85) {
  char pub[kZ85KeyChars + 1];
  if (secret_z85.size() != kZ85KeyChars || zmq_curve_public(pub, secret_z85.c_str()) != 0) {
    return Status::InvalidArgument("not a Z85 CURVE secret key");
  }
  return std::string(pub);
}

Result<std::map<std::string, std::string>> LoadAuthorizedKeys(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Status::IOError("cannot read CURVE authorized keys directory '" + dir + "': " + ec.message());
  std::map<std::string, std::string> keys;
  for (const auto& entry : it) {
    if (entry.path().extension() != ".pub") continue;
    Result<std::string> z85 = ReadCurveKeyFile(entry.path().string());
    if (!z85.ok()) return z85.status();
    Result<std::string> key = DecodeZ85Key(*z85, entry.path().string());
    if (!key.ok()) return key.status();
    keys[*key] = entry.path().stem().string();
  }
  return keys;
}

}  // namespace ordersync
