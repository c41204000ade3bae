// CRC-32C (Castagnoli), the checksum of event-log records. Uses the SSE4.2 crc32
// instruction when the CPU has it (checked once at run time) and a table otherwise.
// Written here because no Debian bookworm package ships a CRC-32C library (zlib's crc32
// is the other polynomial and about four times slower on this path).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ordersync {

// CRC-32C of data[0, n), continuing from `crc` (0 to start).
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

}  // namespace ordersync
