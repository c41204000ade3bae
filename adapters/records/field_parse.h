// Field parsers shared by the CSV / JSON-lines readers of master data and ERP exports:
// booleans, integers, money and timestamps written as people and ERPs write them. Each
// returns false on text it does not accept; callers name the file, line and column.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ordersync {

// true/false, yes/no, y/n, 1/0 (any case).
bool ParseBool(std::string_view text, bool* out);
// A decimal integer with optional sign.
bool ParseInt64(std::string_view text, int64_t* out);
// A decimal amount with at most 2 fractional digits ("19.99", "-5", "3.5") as minor
// units (1999, -500, 350).
bool ParseMoneyMinor(std::string_view text, int64_t* out);
// "2024-05-01" (midnight UTC), "2024-05-01T10:30:00Z", "2024-05-01 10:30:00",
// fractions of a second and "+02:00"-style offsets; or a plain integer of nanoseconds
// since the Unix epoch. Result in ns since the Unix epoch (UTC).
bool ParseTimestampNs(std::string_view text, int64_t* out);
// "2024-05-01T10:30:00Z" (whole seconds; fractions appended when not zero).
std::string FormatTimestampNs(int64_t ns);
// 1999 -> "19.99".
std::string FormatMoneyMinor(int64_t minor);

}  // namespace ordersync
