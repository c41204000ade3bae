// Reading secrets (passwords, client secrets, private keys) from files. A secret file
// must be a regular file that neither group nor others may read or write (mode 0600 or
// 0400): a readable secret is a leak waiting to happen, so it is refused at start with
// the fix in the message. The content is returned, never logged; error messages name the
// path and the mode only.
//
// Thread-safety: reentrant.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace ordersync {

// Reads `path`. `what` names the secret in errors ("erp.targets.ns.auth.password_file").
// Surrounding whitespace (a trailing newline) is trimmed unless `keep_whitespace`.
[[nodiscard]] Result<std::string> ReadSecretFile(const std::string& path, std::string_view what,
                                                 bool keep_whitespace = false);

}  // namespace ordersync
