// CURVE key files for the ingress and its producers, as `ordersync keygen` writes them:
// `<name>.key` holds the secret key and `<name>.pub` the public key, each as one line of
// Z85 text (40 characters; zmq_z85_encode of the 32-byte key). The secret file is
// created with mode 0600.
//
// The server reads its secret key from IngressOptions::curve_secret_key_file and the
// allowed producer keys from IngressOptions::curve_authorized_keys_dir: every `*.pub`
// file there is one producer, named by the file's stem (that name is the ZAP user id and
// appears in the quarantine). Other files in the directory are ignored.
//
// Thread-safety: functions are reentrant.
#pragma once

#include <map>
#include <string>

#include "engine/status.h"

namespace ordersync {

struct CurveKeyPair {
  std::string public_z85;  // 40 characters
  std::string secret_z85;  // 40 characters
};

// A fresh key pair (libsodium via libzmq). Unavailable if libzmq lacks CURVE.
[[nodiscard]] Result<CurveKeyPair> GenerateCurveKeyPair();

// Writes <dir>/<name>.key (0600) and <dir>/<name>.pub (0644). Refuses to replace existing
// files unless `overwrite`. `name` must be a plain file name ([A-Za-z0-9._-]).
[[nodiscard]] Status WriteCurveKeyPair(const std::string& dir, const std::string& name,
                                       const CurveKeyPair& pair, bool overwrite);

// Reads a key file (either kind): returns the Z85 text, checked to decode to 32 bytes.
[[nodiscard]] Result<std::string> ReadCurveKeyFile(const std::string& path);

// The public key (Z85) belonging to a secret key (Z85).
[[nodiscard]] Result<std::string> CurvePublicKeyOf(const std::string& secret_z85);

// Every <name>.pub in `dir`: 32-byte binary public key -> name. An unreadable or
// malformed .pub file is an error naming it (an allow-list must not half-load).
[[nodiscard]] Result<std::map<std::string, std::string>> LoadAuthorizedKeys(const std::string& dir);

}  // namespace ordersync
