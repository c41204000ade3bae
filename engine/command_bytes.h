// CommandBytes: an ErpCommand buffer (schemas/erp.fbs) shared by the partition that
// issued it (until its checkpoint), the ERP dispatcher (until the command is done with)
// and the CommandNotes about it. Immutable once made; the std::string's storage is
// suitably aligned for FlatBuffers' in-place reads.
//
// Thread-safety: the pointee is immutable; copies of the shared_ptr may travel between
// threads.
#pragma once

#include <memory>
#include <string>

namespace ordersync {

using CommandBytes = std::shared_ptr<const std::string>;

}  // namespace ordersync
