#include "engine/log_apply.h"

#include <cassert>
#include <string>

namespace ordersync {

Status ApplyLogItem(EventProcessor* processor, MasterDataGate* gate, Partition* partition, const LogItem& item,
                    StoreBatch* batch, ReplayStats* stats, std::string* reason_scratch) {
  assert(item.partition == partition->id());
  switch (item.type) {
    case LogItemType::kEvent: {
      EventOutcome outcome;
      gate->BeginReplay(item);  // decide by the recorded master-data verdict
      processor->Process(partition, item.bytes, item.received_at_ns, item.replay, batch, &outcome, reason_scratch);
      if (outcome == EventOutcome::kStoreError) {
        return Status::IOError("applying the event log: the store could not be read: " + *reason_scratch);
      }
      ++stats->events;
      return Status::OK();
    }
    case LogItemType::kOutboxAppend:
      processor->AppendToOutbox(partition, item.bytes);
      return Status::OK();
    case LogItemType::kNote:
      processor->ApplyNote(partition, item, batch);
      ++stats->notes;
      return Status::OK();
    case LogItemType::kExpireParked:
      processor->ExpireParked(partition, batch);
      return Status::OK();
    case LogItemType::kReleaseHold:
      processor->ReleaseHolds(partition, item.customer_id, batch);
      return Status::OK();
  }
  return Status::Corruption("event log item of unknown type " + std::to_string(static_cast<int>(item.type)));
}

}  // namespace ordersync
