#include "adapters/http/envelope_json.h"

#include <flatbuffers/idl.h>

#include "adapters/http/milestone_schema_text.h"

namespace ordersync {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips one JSON value starting at `*pos`; false on a syntax error. Nesting is bounded.
bool SkipValue(std::string_view s, size_t* pos, std::string* error) {
  int depth = 0;
  size_t i = *pos;
  auto fail = [&](const std::string& what) {
    *error = what + " at byte " + std::to_string(i);
    return false;
  };
  do {
    while (i < s.size() && IsWs(s[i])) ++i;
    if (i >= s.size()) return fail("unexpected end of input");
    const char c = s[i];
    if (c == '{' || c == '[') {
      if (++depth > 64) return fail("nesting deeper than 64");
      ++i;
      continue;
    }
    if (c == '}' || c == ']') {
      if (depth == 0) return fail(std::string("unexpected '") + c + "'");
      --depth;
      ++i;
    } else if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (static_cast<unsigned char>(s[i]) < 0x20) return fail("control character in a string");
        i += s[i] == '\\' ? 2 : 1;
      }
      if (i >= s.size()) return fail("unterminated string");
      ++i;
    } else if (c == ',' || c == ':') {
      if (depth == 0) return fail(std::string("unexpected '") + c + "'");
      ++i;
    } else {
      const size_t start = i;
      while (i < s.size() && !IsWs(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ':') ++i;
      if (i == start) return fail("unexpected character");
    }
    // Inside a container, keep going until it closes.
  } while (depth > 0);
  *pos = i;
  return true;
}

}  // namespace

bool SplitJsonArray(std::string_view body, std::vector<std::string_view>* elements, std::string* error) {
  elements->clear();
  size_t i = 0;
  while (i < body.size() && IsWs(body[i])) ++i;
  if (i >= body.size() || body[i] != '[') {
    *error = "the body must be a JSON array of events (it does not start with '[')";
    return false;
  }
  ++i;
  while (i < body.size() && IsWs(body[i])) ++i;
  if (i < body.size() && body[i] == ']') {
    ++i;
  } else {
    while (true) {
      while (i < body.size() && IsWs(body[i])) ++i;
      const size_t start = i;
      if (!SkipValue(body, &i, error)) return false;
      elements->push_back(body.substr(start, i - start));
      while (i < body.size() && IsWs(body[i])) ++i;
      if (i < body.size() && body[i] == ',') {
        ++i;
        continue;
      }
      if (i < body.size() && body[i] == ']') {
        ++i;
        break;
      }
      *error = "expected ',' or ']' after element " + std::to_string(elements->size() - 1) + " at byte " +
               std::to_string(i);
      return false;
    }
  }
  while (i < body.size() && IsWs(body[i])) ++i;
  if (i != body.size()) {
    *error = "data after the closing ']' at byte " + std::to_string(i);
    return false;
  }
  return true;
}

std::string_view EmbeddedMilestoneSchema() { return kMilestoneSchemaText; }

EnvelopeJsonParser::EnvelopeJsonParser() { Reset(); }
EnvelopeJsonParser::~EnvelopeJsonParser() = default;

void EnvelopeJsonParser::Reset() {
  flatbuffers::IDLOptions opts;
  opts.skip_unexpected_fields_in_json = false;
  opts.strict_json = true;  // field names quoted, as every JSON encoder writes them
  parser_ = std::make_unique<flatbuffers::Parser>(opts);
  const std::string schema(kMilestoneSchemaText);
  // The schema is part of the build; failing to parse it is a build defect.
  if (!parser_->Parse(schema.c_str())) std::abort();
}

bool EnvelopeJsonParser::Parse(std::string_view json, std::string* bytes, std::string* reason,
                               std::string* description) {
  scratch_.assign(json);
  if (parser_->ParseJson(scratch_.c_str())) {
    bytes->assign(reinterpret_cast<const char*>(parser_->builder_.GetBufferPointer()), parser_->builder_.GetSize());
    return true;
  }
  std::string message = parser_->error_;
  Reset();  // a failed parse may leave state behind
  // flatbuffers' messages look like "1:17: error: unknown field: colour".
  const size_t at = message.find("error: ");
  if (at != std::string::npos) message = message.substr(at + 7);
  if (message.rfind("unknown field", 0) == 0) {
    *reason = "json_unknown_field";
  } else if (message.find("type mismatch") != std::string::npos || message.find("expecting") != std::string::npos ||
             message.find("not a valid") != std::string::npos || message.find("constant does not fit") != std::string::npos ||
             message.find("enum") != std::string::npos || message.find("unknown") != std::string::npos) {
    *reason = "json_wrong_type";
  } else {
    *reason = "json_invalid";
  }
  *description = message;
  return false;
}

EnvelopeJsonParser& ThreadLocalEnvelopeParser() {
  thread_local EnvelopeJsonParser parser;
  return parser;
}

}  // namespace ordersync
