#include "adapters/erp/connectors/odata_batch.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

namespace ordersync {
namespace {

constexpr std::string_view kCrlf = "\r\n";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// Splits a multipart body into its parts (the text between delimiter lines).
Result<std::vector<std::string_view>> SplitParts(std::string_view body, std::string_view boundary) {
  if (boundary.empty()) return Status::InvalidArgument("multipart: no boundary");
  const std::string delim = "--" + std::string(boundary);
  std::vector<std::string_view> parts;
  size_t pos = body.find(delim);
  if (pos == std::string_view::npos) return Status::InvalidArgument("multipart: boundary not found");
  while (true) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    const size_t next = body.find(delim, pos);
    if (next == std::string_view::npos) return Status::InvalidArgument("multipart: no closing delimiter");
    std::string_view part = body.substr(pos, next - pos);
    if (part.starts_with(kCrlf)) part.remove_prefix(2);
    else if (part.starts_with("\n")) part.remove_prefix(1);
    if (part.ends_with(kCrlf)) part.remove_suffix(2);
    else if (part.ends_with("\n")) part.remove_suffix(1);
    parts.push_back(part);
    pos = next;
  }
}

// Splits "headers CRLF CRLF rest".
struct HeadersAndBody {
  std::vector<std::pair<std::string, std::string>> headers;  // lower-cased names
  std::string_view first_line;  // when `with_start_line`
  std::string_view body;
};

Result<HeadersAndBody> SplitHeaders(std::string_view text, bool with_start_line) {
  HeadersAndBody out;
  size_t end = text.find("\r\n\r\n");
  size_t sep = 4;
  if (end == std::string_view::npos) {
    end = text.find("\n\n");
    sep = 2;
  }
  std::string_view head = end == std::string_view::npos ? text : text.substr(0, end);
  out.body = end == std::string_view::npos ? std::string_view() : text.substr(end + sep);
  bool first = with_start_line;
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = Trim(head.substr(0, nl));
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    if (first) {
      out.first_line = line;
      first = false;
      continue;
    }
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Status::InvalidArgument("multipart: bad header line");
    out.headers.emplace_back(Lower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  return out;
}

const std::string* Find(const std::vector<std::pair<std::string, std::string>>& h, std::string_view name) {
  for (const auto& [k, v] : h) {
    if (k == name) return &v;
  }
  return nullptr;
}

Result<BatchRequestPart> ParseHttpRequest(std::string_view text) {
  auto split = SplitHeaders(text, true);
  if (!split.ok()) return split.status();
  BatchRequestPart r;
  std::string_view line = split->first_line;  // METHOD url HTTP/1.1
  const size_t a = line.find(' ');
  const size_t b = line.rfind(' ');
  if (a == std::string_view::npos || b == a) return Status::InvalidArgument("batch: bad request line");
  r.method = std::string(line.substr(0, a));
  r.url = std::string(line.substr(a + 1, b - a - 1));
  r.headers = std::move(split->headers);
  r.body = std::string(Trim(split->body));
  return r;
}

Result<BatchResponsePart> ParseHttpResponse(std::string_view text) {
  auto split = SplitHeaders(text, true);
  if (!split.ok()) return split.status();
  BatchResponsePart r;
  std::string_view line = split->first_line;  // HTTP/1.1 201 Created
  const size_t a = line.find(' ');
  if (a == std::string_view::npos) return Status::InvalidArgument("batch: bad status line");
  std::string_view code = line.substr(a + 1, 3);
  if (std::from_chars(code.data(), code.data() + code.size(), r.status).ec != std::errc()) {
    return Status::InvalidArgument("batch: bad status code");
  }
  r.headers = std::move(split->headers);
  r.body = std::string(Trim(split->body));
  return r;
}

}  // namespace

std::string MultipartBoundary(std::string_view content_type) {
  const std::string lower = Lower(content_type);
  const size_t p = lower.find("boundary=");
  if (p == std::string::npos) return "";
  std::string_view b = content_type.substr(p + 9);
  const size_t semi = b.find(';');
  if (semi != std::string_view::npos) b = b.substr(0, semi);
  b = Trim(b);
  if (b.size() >= 2 && b.front() == '"' && b.back() == '"') b = b.substr(1, b.size() - 2);
  return std::string(b);
}

std::string EncodeMultipartBatchRequest(const std::vector<BatchRequestPart>& changesets, std::string_view boundary,
                                        std::string* content_type) {
  *content_type = "multipart/mixed; boundary=" + std::string(boundary);
  std::string out;
  for (size_t i = 0; i < changesets.size(); ++i) {
    const BatchRequestPart& p = changesets[i];
    const std::string cs = "changeset_" + std::string(boundary) + "_" + std::to_string(i + 1);
    out += "--" + std::string(boundary) + "\r\nContent-Type: multipart/mixed; boundary=" + cs + "\r\n\r\n";
    out += "--" + cs + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: " +
           std::to_string(i + 1) + "\r\n\r\n";
    out += p.method + " " + p.url + " HTTP/1.1\r\n";
    for (const auto& [k, v] : p.headers) out += k + ": " + v + "\r\n";
    if (!p.body.empty()) out += "Content-Length: " + std::to_string(p.body.size()) + "\r\n";
    out += "\r\n" + p.body + "\r\n";
    out += "--" + cs + "--\r\n";
  }
  out += "--" + std::string(boundary) + "--\r\n";
  return out;
}

Result<std::vector<BatchRequestPart>> DecodeMultipartBatchRequest(std::string_view body,
                                                                  std::string_view content_type) {
  auto parts = SplitParts(body, MultipartBoundary(content_type));
  if (!parts.ok()) return parts.status();
  std::vector<BatchRequestPart> out;
  for (std::string_view part : *parts) {
    auto outer = SplitHeaders(part, false);
    if (!outer.ok()) return outer.status();
    const std::string* ct = Find(outer->headers, "content-type");
    if (ct == nullptr) return Status::InvalidArgument("batch: part without Content-Type");
    if (Lower(*ct).starts_with("multipart/mixed")) {
      auto inner = SplitParts(outer->body, MultipartBoundary(*ct));
      if (!inner.ok()) return inner.status();
      if (inner->size() != 1) return Status::InvalidArgument("batch: expected one request per changeset");
      auto http = SplitHeaders((*inner)[0], false);
      if (!http.ok()) return http.status();
      auto req = ParseHttpRequest(http->body);
      if (!req.ok()) return req.status();
      out.push_back(std::move(*req));
    } else {
      auto req = ParseHttpRequest(outer->body);  // a retrieve request outside a changeset
      if (!req.ok()) return req.status();
      out.push_back(std::move(*req));
    }
  }
  return out;
}

std::string EncodeMultipartBatchResponse(const std::vector<BatchResponsePart>& answers, std::string_view boundary,
                                         std::string* content_type) {
  *content_type = "multipart/mixed; boundary=" + std::string(boundary);
  auto message = [](const BatchResponsePart& a) {
    std::string m = "HTTP/1.1 " + std::to_string(a.status) + (a.status < 400 ? " OK" : " Error") + "\r\n";
    for (const auto& [k, v] : a.headers) m += k + ": " + v + "\r\n";
    m += "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n" + a.body + "\r\n";
    return m;
  };
  std::string out;
  for (size_t i = 0; i < answers.size(); ++i) {
    const BatchResponsePart& a = answers[i];
    out += "--" + std::string(boundary) + "\r\n";
    if (a.status >= 400) {
      out += "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" + message(a);
    } else {
      const std::string cs = "changesetresponse_" + std::string(boundary) + "_" + std::to_string(i + 1);
      out += "Content-Type: multipart/mixed; boundary=" + cs + "\r\n\r\n";
      out += "--" + cs + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
             message(a) + "--" + cs + "--\r\n";
    }
  }
  out += "--" + std::string(boundary) + "--\r\n";
  return out;
}

Result<std::vector<BatchResponsePart>> DecodeMultipartBatchResponse(std::string_view body,
                                                                    std::string_view content_type) {
  auto parts = SplitParts(body, MultipartBoundary(content_type));
  if (!parts.ok()) return parts.status();
  std::vector<BatchResponsePart> out;
  for (std::string_view part : *parts) {
    auto outer = SplitHeaders(part, false);
    if (!outer.ok()) return outer.status();
    const std::string* ct = Find(outer->headers, "content-type");
    if (ct == nullptr) return Status::InvalidArgument("batch answer: part without Content-Type");
    std::string_view message = outer->body;
    if (Lower(*ct).starts_with("multipart/mixed")) {
      auto inner = SplitParts(outer->body, MultipartBoundary(*ct));
      if (!inner.ok()) return inner.status();
      if (inner->empty()) return Status::InvalidArgument("batch answer: empty changeset");
      auto http = SplitHeaders((*inner)[0], false);
      if (!http.ok()) return http.status();
      message = http->body;
    }
    auto resp = ParseHttpResponse(message);
    if (!resp.ok()) return resp.status();
    out.push_back(std::move(*resp));
  }
  return out;
}

std::string EncodeJsonBatchRequest(const std::vector<BatchRequestPart>& requests) {
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < requests.size(); ++i) {
    const BatchRequestPart& p = requests[i];
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [k, v] : p.headers) headers[k] = v;
    nlohmann::json r = {{"id", std::to_string(i + 1)},
                        {"atomicityGroup", "g" + std::to_string(i + 1)},
                        {"method", p.method},
                        {"url", p.url},
                        {"headers", headers}};
    if (!p.body.empty()) r["body"] = nlohmann::json::parse(p.body, nullptr, false);
    list.push_back(std::move(r));
  }
  return nlohmann::json{{"requests", std::move(list)}}.dump();
}

Result<std::vector<BatchResponsePart>> DecodeJsonBatchResponse(std::string_view body, size_t expected) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("responses") || !doc["responses"].is_array()) {
    return Status::InvalidArgument("JSON batch answer without a responses array");
  }
  std::vector<BatchResponsePart> out(expected);
  std::vector<bool> seen(expected, false);
  for (const nlohmann::json& r : doc["responses"]) {
    if (!r.is_object()) return Status::InvalidArgument("JSON batch answer: response is not an object");
    const std::string id = r.value("id", "");
    size_t index = 0;
    if (std::from_chars(id.data(), id.data() + id.size(), index).ec != std::errc() || index == 0 ||
        index > expected || seen[index - 1]) {
      return Status::InvalidArgument("JSON batch answer: unexpected id '" + id + "'");
    }
    seen[index - 1] = true;
    BatchResponsePart& p = out[index - 1];
    p.status = r.value("status", 0);
    if (r.contains("headers") && r["headers"].is_object()) {
      for (const auto& [k, v] : r["headers"].items()) {
        p.headers.emplace_back(Lower(k), v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    if (r.contains("body") && !r["body"].is_null()) p.body = r["body"].is_string() ? r["body"].get<std::string>() : r["body"].dump();
  }
  for (size_t i = 0; i < expected; ++i) {
    if (!seen[i]) return Status::InvalidArgument("JSON batch answer: no response for id " + std::to_string(i + 1));
  }
  return out;
}

}  // namespace ordersync
