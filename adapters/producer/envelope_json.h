// EnvelopeJson: a milestone frame (schemas/milestone.fbs) decoded for people — the
// exception queue's recorded envelopes and the quarantine's rejected frames, as the admin
// commands and the web console show them.
//
//   nlohmann::json j = DecodeEnvelopeJson(frame);
//   // {"decoded": true, "envelope": {"schema_version", "event_id", "correlation_id",
//   //   "order_id", "source", "source_seq", "company_code", "priority", "occurred_at_ns",
//   //   "milestone", "payload": {...fields of the milestone, "lines": [...]}}}
//   // or {"decoded": false, "why": "not a verifiable Envelope (...)"}
//
// Only verified buffers are read (flatbuffers::Verifier), so any byte string is safe to
// pass. The file identifier is not required (a frame rejected for a wrong identifier may
// still be readable; "file_identifier" says what it carried). Strings are copied as they
// are; serialise with error_handler_t::replace, as they may hold invalid UTF-8.
//
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace ordersync {

nlohmann::json DecodeEnvelopeJson(std::string_view frame);

}  // namespace ordersync
