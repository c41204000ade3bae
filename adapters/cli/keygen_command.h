// `ordersync keygen NAME`: writes a CURVE key pair for the ingress (NAME = "server") or a
// producer: NAME.key (secret, Z85, mode 0600) and NAME.pub (public, Z85). See
// adapters/ingress/curve_keys.h for the format and docs/architecture.md (Ingress
// security) for how to lock the endpoints down.
//
// Thread-safety: call once, from the main thread.
#pragma once

#include <ostream>
#include <string>

namespace ordersync {

struct KeygenOptions {
  std::string name;
  std::string dir = ".";
  bool force = false;  // replace existing files
};

// Returns the exit code: 0 written, 1 could not write.
int RunKeygen(const KeygenOptions& options, std::ostream& out, std::ostream& err);

}  // namespace ordersync
