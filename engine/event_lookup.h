// EventRecorded: whether the engine durably recorded an event (for crash tests, the fault
// checker and tools that audit a data directory). An event is recorded when its batch was
// written: its event_id is then among its order's seen ids (storage.OrderState
// seen_events) or, for an order's 65th and later ids, in the dedup table.
//
// Thread-safety: reads the store only; safe wherever StateStore::Get is.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

// Sets *recorded. Fails only on a store read error or an undecodable order record.
// An order past its retention counts as not recording anything.
Status EventRecorded(StateStore* store, uint32_t partitions, std::string_view order_id, std::string_view event_id,
                     int64_t now_ns, bool* recorded);

}  // namespace ordersync
