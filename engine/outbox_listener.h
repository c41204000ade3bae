// OutboxListener: how ERP commands leave the engine. After each group commit whose log
// record is durable, the worker hands the commands it issued to the listener (the ERP
// dispatcher) in memory — the dispatcher does not read them back from the store. Per
// partition, commands arrive in outbox_seq order, which is each order's order_cmd_seq
// order.
//
// Commands already in a checkpoint when the engine opens (the outbox the last run left)
// are not handed over: the dispatcher reads them from the store's outbox table once, at
// its start, after Engine::Open.
//
// Thread-safety: OnCommandsDurable is called on worker threads, concurrently for
// different workers; it must not block.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/partition.h"

namespace ordersync {

struct DurableCommand {
  uint32_t partition = 0;
  uint64_t outbox_seq = 0;
  CommandBytes bytes;  // the ErpCommand buffer
};

class OutboxListener {
 public:
  virtual ~OutboxListener() = default;
  // `commands` are durable; the listener may move them out. Called on a worker thread.
  virtual void OnCommandsDurable(std::vector<DurableCommand>& commands) = 0;
};

}  // namespace ordersync
