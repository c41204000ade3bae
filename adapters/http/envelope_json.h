// EnvelopeJson: the JSON form of the event contract. A request body is a JSON array of
// Envelope objects in FlatBuffers' canonical JSON (field names as in
// schemas/milestone.fbs, enums by name, a union as "payload_type": "OrderAccepted" before
// "payload": {...}). SplitJsonArray finds the elements; EnvelopeJsonParser turns one
// element into an Envelope buffer with the FlatBuffers library's own JSON parser
// (flatbuffers::Parser) on the schema text compiled into the binary, so the JSON rules
// are exactly the schema's: an unknown field or a wrong type is an error naming it.
//
// Thread-safety: SplitJsonArray is pure. An EnvelopeJsonParser is used by one thread at a
// time (flatbuffers::Parser is stateful); ThreadLocalEnvelopeParser() gives each thread
// its own.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace flatbuffers {
class Parser;
}

namespace ordersync {

// The text of each top-level element of a JSON array. False (with `error` saying where
// and what) when `body` is not one syntactically complete JSON array.
bool SplitJsonArray(std::string_view body, std::vector<std::string_view>* elements, std::string* error);

class EnvelopeJsonParser {
 public:
  EnvelopeJsonParser();
  ~EnvelopeJsonParser();

  // Parses one Envelope object. On success `bytes` holds the FlatBuffer (finished with
  // the "OSEV" identifier); on failure `reason` is a code (json_unknown_field,
  // json_wrong_type, json_invalid) and `description` the parser's message.
  bool Parse(std::string_view json, std::string* bytes, std::string* reason, std::string* description);

 private:
  void Reset();
  std::unique_ptr<flatbuffers::Parser> parser_;
  std::string scratch_;
};

EnvelopeJsonParser& ThreadLocalEnvelopeParser();

// The schema text compiled in (common.fbs + milestone.fbs), for tests and docs.
std::string_view EmbeddedMilestoneSchema();

}  // namespace ordersync
