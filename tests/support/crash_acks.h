// Which commands the crash tests' stand-in ERP answers: a fixed half of the command ids
// (FNV-1a parity), so the test process and the crash child agree without talking.
#pragma once

#include <cstdint>
#include <string_view>

namespace ordersync::testing {

inline bool AckedByTheErp(std::string_view command_id) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : command_id) h = (h ^ c) * 1099511628211ull;
  return (h & 1) == 0;
}

}  // namespace ordersync::testing
