// OData $batch bodies, both directions (the connectors write requests and read answers;
// the simulators read requests and write answers).
//
// Multipart (OData v2/v4, SAP): one changeset per command, so one failing changeset does
// not fail the others.
//
//   batch     := ("--" B CRLF part)* "--" B "--"
//   part      := "Content-Type: multipart/mixed; boundary=" C CRLF CRLF changeset
//              | "Content-Type: application/http" CRLF ... CRLF http-message   (answer: a
//                failed changeset collapses to one application/http part)
//   changeset := ("--" C CRLF "Content-Type: application/http" CRLF
//                 "Content-Transfer-Encoding: binary" CRLF [Content-ID] CRLF http-message)*
//                "--" C "--"
//   http-message := request-line | status-line, headers, CRLF, body
//
// JSON (OData v4 JSON batch, Business Central): {"requests":[{"id","atomicityGroup",
// "method","url","headers","body"}]} answered by {"responses":[{"id","status","headers",
// "body"}]}; one atomicity group per command.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace ordersync {

struct BatchRequestPart {
  std::string method;
  std::string url;  // relative to the service root
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct BatchResponsePart {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased when decoded
  std::string body;
};

// Multipart: one changeset per part. Sets *content_type to the value for the request.
std::string EncodeMultipartBatchRequest(const std::vector<BatchRequestPart>& changesets, std::string_view boundary,
                                        std::string* content_type);
// The changesets of a multipart batch request, one request each (a changeset with more
// requests is refused: ordersync sends one per changeset).
[[nodiscard]] Result<std::vector<BatchRequestPart>> DecodeMultipartBatchRequest(std::string_view body,
                                                                                std::string_view content_type);
// One answer per changeset; a status >= 400 is written as a bare application/http part
// (as OData v2 servers do for a failed changeset).
std::string EncodeMultipartBatchResponse(const std::vector<BatchResponsePart>& answers, std::string_view boundary,
                                         std::string* content_type);
[[nodiscard]] Result<std::vector<BatchResponsePart>> DecodeMultipartBatchResponse(std::string_view body,
                                                                                  std::string_view content_type);

// JSON batch. Part i gets id "i+1" and atomicityGroup "g<i+1>"; bodies must be JSON.
std::string EncodeJsonBatchRequest(const std::vector<BatchRequestPart>& requests);
// Answers in request order (matched by id).
[[nodiscard]] Result<std::vector<BatchResponsePart>> DecodeJsonBatchResponse(std::string_view body, size_t expected);

// The boundary parameter of a multipart Content-Type, or "".
std::string MultipartBoundary(std::string_view content_type);

}  // namespace ordersync
