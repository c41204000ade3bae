// ApplyLogItem: how one item of an event-log record (engine/log_record.h) changes its
// partition — the single definition of "applying the log", used by a worker replaying
// its stream at recovery (engine/worker.h) and by a follower applying a partition's
// stream of a shared log in cluster mode (engine/partition_follower.h), so both reach the
// same state from the same records.
//
// The caller sets the record's time with EventProcessor::SetNow before its items, checks
// that the item's partition is one it owns, and passes the open checkpoint batch.
// Master-data decisions come from the verdict recorded in the item (the gate in replay
// mode), never from the data loaded now.
//
// Thread-safety: as the processor's (one thread).
#pragma once

#include <cstdint>
#include <string>

#include "engine/event_processor.h"
#include "engine/log_record.h"
#include "engine/master_data_gate.h"
#include "engine/partition.h"
#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

// What applying (replaying) a log did.
struct ReplayStats {
  uint64_t records = 0;
  uint64_t events = 0;
  uint64_t notes = 0;
  uint64_t log_bytes = 0;
  uint64_t torn_bytes = 0;  // cut from the end of a stream (a crash mid-append)
};

// Applies `item` to `partition` (REQUIRES: item.partition == partition->id()). IOError
// when an event could not be processed because the store could not be read (the state
// is then behind the log: the caller must rebuild the partition, not go on).
// `reason_scratch` is the caller's reusable buffer for an event's outcome reason (kept
// across items so that excepted or duplicate events do not allocate one each).
Status ApplyLogItem(EventProcessor* processor, MasterDataGate* gate, Partition* partition, const LogItem& item,
                    StoreBatch* batch, ReplayStats* stats, std::string* reason_scratch);

}  // namespace ordersync
