// DispatcherHost: what the ERP dispatcher (adapters/erp/outbox_dispatcher.h) needs from the
// side that owns the outbox — exactly three calls. On a single node the Engine is the
// host; in cluster mode a node's owner side (its PartitionFollowers' owner-input path)
// can be, so the dispatcher does not depend on Engine itself.
//
//  - SubmitNotes: the dispatcher's notes about commands it took over (answers, re-sends,
//    dead letters; engine/command_note.h). The host logs them with the partition's next
//    write and drops answered / dead-lettered commands from the outbox it checkpoints.
//  - SubmitTask: runs a PartitionTask (a dead-letter replay) inside the partition's next
//    write, on the thread that owns the partition.
//  - SetTargetBlocked: back-pressure from the ERP side; the ingress answers Busy for
//    events routed to a blocked target, suggesting retry_after_ms (0: its default).
//
// Thread-safety: every method may be called from any thread, concurrently; none blocks
// for long (they queue). Unavailable once the host is stopping.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/command_note.h"
#include "engine/partition_task.h"
#include "engine/status.h"

namespace ordersync {

class DispatcherHost {
 public:
  virtual ~DispatcherHost() = default;
  virtual Status SubmitNotes(std::vector<CommandNote>&& notes) = 0;
  virtual Status SubmitTask(uint32_t partition, std::unique_ptr<PartitionTask> task) = 0;
  virtual void SetTargetBlocked(std::string_view target, bool blocked, uint32_t retry_after_ms) = 0;
};

}  // namespace ordersync
