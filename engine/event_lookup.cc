#include "engine/event_lookup.h"

#include <string>

#include "engine/coding.h"
#include "engine/hash.h"
#include "engine/keys.h"
#include "engine/order_state.h"

namespace ordersync {

Status EventRecorded(StateStore* store, uint32_t partitions, std::string_view order_id, std::string_view event_id,
                     int64_t now_ns, bool* recorded) {
  *recorded = false;
  const uint32_t p = PartitionOf(order_id, partitions);
  std::string key, value;
  OrderKey(&key, p, order_id);
  Status s = store->Get(Table::kOrders, key, &value);
  if (s.IsNotFound()) return Status::OK();
  ORDERSYNC_RETURN_IF_ERROR(s);
  OrderState state;
  int64_t expire_at = 0;
  ORDERSYNC_RETURN_IF_ERROR(DecodeOrderState(value, &state, &expire_at));
  if (expire_at < now_ns) return Status::OK();
  if (state.FindSeen(HashBytes(event_id)) != nullptr) {
    *recorded = true;
    return Status::OK();
  }
  if (!state.dedup_in_table) return Status::OK();
  DedupKey(&key, p, event_id);
  s = store->Get(Table::kDedup, key, &value);
  if (s.IsNotFound()) return Status::OK();
  ORDERSYNC_RETURN_IF_ERROR(s);
  *recorded = value.size() >= 16 && static_cast<int64_t>(DecodeFixed64(value.data())) >= now_ns;
  return Status::OK();
}

}  // namespace ordersync
