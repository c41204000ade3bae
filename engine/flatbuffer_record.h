// VerifiedRoot: reads a FlatBuffers record stored as a value (RocksDB value, iterator
// value, file). It copies the bytes into `aligned` first — store memory is not aligned
// for FlatBuffers, which reads scalars in place — then runs the Verifier, so a corrupt
// record is reported instead of read out of bounds.
//
//   std::string scratch;
//   if (const auto* r = VerifiedRoot<storage::ExceptionRecord>(it->value(), &scratch)) ...
//
// Thread-safety: pure; the result points into `aligned` and lives as long as it does.
#pragma once

#include <string>
#include <string_view>

#include "flatbuffers/flatbuffers.h"

namespace ordersync {

template <typename T>
const T* VerifiedRoot(std::string_view value, std::string* aligned) {
  aligned->assign(value);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(aligned->data()), aligned->size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(aligned->data());
}

// The string's bytes, or empty for an absent field.
inline std::string StringOf(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

}  // namespace ordersync
