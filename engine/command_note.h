// CommandNote: what the ERP fan-out tells the engine about a command after it left the
// outbox in memory — an answer, a re-send, a dead letter. The dispatcher hands notes to
// Engine::SubmitNotes; the partition's worker appends them to its event log with its next
// group commit (one append per batch of notes, shared with the events of that batch),
// then drops acknowledged and dead-lettered commands from the outbox it checkpoints and
// adds the note to the order's journal (`ordersync trace`). Replaying the log replays the
// notes, so the outbox a crash recovers is the checkpoint's, plus the commands of the
// replayed tail, minus the ones the tail's notes removed.
//
// A note that is lost to a crash before it reached the log costs one re-send, which the
// ERP answers AlreadyPosted (command ids are idempotency keys).
//
// Thread-safety: plain data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/command_bytes.h"
#include "storage_generated.h"

namespace ordersync {

struct CommandNote {
  uint32_t partition = 0;
  uint64_t outbox_seq = 0;
  // The command is done with (Posted, AlreadyPosted, dead-lettered): drop it from the outbox.
  bool removes_command = false;
  // Journal entry (when the engine's journal is on).
  storage::JournalKind journal_kind = storage::JournalKind::CommandAcked;
  int64_t at_ns = 0;  // wall clock of the answer / send / dead letter
  uint32_t attempts = 0;
  int64_t first_sent_at_ns = 0;
  // The ErpCommand the note is about: the journal takes its order, command id, kind,
  // order_cmd_seq and target from it (no copies). Null when it is unreadable.
  CommandBytes command;
  // "Posted", "AlreadyPosted", "TransientError", "Rejected", "sent", a dead-letter reason.
  // REQUIRES: static storage (a literal or an enum name).
  std::string_view outcome;
  std::string reason;  // the ERP's message, or why it was dead-lettered
  std::string erp_document_id;
};

}  // namespace ordersync
