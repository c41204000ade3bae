// `ordersync validate [--json] [--max-message-bytes N] FILE...`: runs the envelope
// validator (engine/envelope_validator.h) on files that each hold one raw Envelope frame,
// exactly as a producer would send it in one ZeroMQ frame, and prints one verdict per
// file. Producer teams use it to check their encoders against this build's contract.
//
// Output, one entry per file in argument order:
//   text:  <path>\tok                   or  <path>\t<reason>\t<description>
//   json:  [{"file":"<path>","ok":true|false,"reason":"<reason>","message":"<description>"}, ...]
// <reason> is Rejection::ToString() ("missing_field:event_id"; "ok" when accepted), or
// "io_error" for a file that cannot be read (message: the OS error).
// Exit code: 0 all accepted; 1 at least one rejected; 2 at least one unreadable file
// (2 wins over 1). An empty list prints nothing ("[]" in json) and returns 0.
//
// Thread-safety: no shared state; concurrent calls must use distinct output streams.
// A file is read only up to options.max_message_bytes + 1 bytes, so huge files are
// reported as oversized_message without being loaded.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "engine/envelope_validator.h"

namespace ordersync {

// Exit codes of RunValidateCommand.
inline constexpr int kValidateAllOk = 0;
inline constexpr int kValidateSomeRejected = 1;
inline constexpr int kValidateIoError = 2;

int RunValidateCommand(const std::vector<std::string>& files, bool json, const ValidatorOptions& options,
                       std::ostream& out);

}  // namespace ordersync
