// PartitionTask: work that must run where a partition's state lives — on its worker
// thread, inside its open group commit — because it changes what only that worker owns
// (e.g. appending to the partition's outbox, whose sequence numbers the worker allocates).
// The ERP dispatcher uses it to put replayed dead letters back into the outbox.
//
//   class Replay : public PartitionTask {
//     void Run(PartitionContext& ctx) override { ctx.AppendToOutbox(command_bytes); }
//     void Done(const Status& s) override { ... }   // after the batch is durable (or not)
//   };
//   engine->SubmitTask(partition, std::make_unique<Replay>(...));
//
// Thread-safety: Run and Done are called on the partition's worker thread; they must not
// block. Run's writes go into the worker's batch and become durable with it, atomically
// with the events of the same group commit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/state_store.h"
#include "engine/status.h"

namespace ordersync {

class PartitionContext {
 public:
  virtual ~PartitionContext() = default;
  virtual uint32_t partition() const = 0;
  // The open batch of the group commit this task runs in.
  virtual StoreBatch* batch() = 0;
  // Reads see committed data only (not the open batch).
  virtual StateStore* store() = 0;
  // Appends an ErpCommand buffer to this partition's outbox; returns its outbox_seq.
  virtual uint64_t AppendToOutbox(std::string_view erp_command) = 0;
  // The next outbox_seq this partition will allocate (everything below is written or
  // in the open batch).
  virtual uint64_t next_outbox_seq() const = 0;
};

class PartitionTask {
 public:
  virtual ~PartitionTask() = default;
  virtual void Run(PartitionContext& context) = 0;
  // Called once the batch holding Run's writes was written (ok) or refused (error).
  virtual void Done(const Status& committed) = 0;
};

}  // namespace ordersync
