// Functional acknowledgements (X12 997) for received functional groups, and the control
// numbers they are sent under.
//
// Build997 writes one interchange with one 997 for one received group:
//
//   ISA (our id = the received ISA08, to the sender ISA06; version 00401; ISA13 = n)
//   GS*FA*<GS03>*<GS02>*<date>*<time>*n*X*004010
//   ST*997*0001
//   AK1*<GS01>*<GS06>
//   per received set:  AK2*<ST01>*<ST02>
//                      [AK3*<segment>*<position>**<723 code>  [AK4*<element>**<723 code>]]
//                      AK5*A | AK5*R*<718 code>
//   AK9*<A|P|R>*<GE01>*<sets received>*<sets accepted>[*<716 code>]
//   SE / GE / IEA
//
// ControlNumbers hands out interchange/group control numbers (1..999999999, then 1
// again) and persists the last one in a file (write to a temporary file, fsync, rename)
// before it is used, so a number is never sent twice, across restarts and crashes.
//
// Thread-safety: Build997 is pure; ControlNumbers::Next may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/edi/x12_reader.h"
#include "engine/status.h"

namespace ordersync {

// `set_faults[i]` is the verdict on group.sets[i] (ok = accepted). `group_fault` rejects
// the whole group (its envelope, or its interchange's, was broken).
std::string Build997(const X12Interchange& interchange, const X12Group& group,
                     const std::vector<X12Fault>& set_faults, const X12Fault& group_fault, uint64_t control_number,
                     int64_t now_ns);

class ControlNumbers {
 public:
  // `path`: the file holding the last number used (created on first use).
  explicit ControlNumbers(std::string path) : path_(std::move(path)) {}

  // The next number, durable in the file before it is returned.
  [[nodiscard]] Result<uint64_t> Next();

 private:
  const std::string path_;
  std::mutex mu_;
};

}  // namespace ordersync
