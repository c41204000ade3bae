// ConsoleGuard: the web console's request checks, kept apart from the routes so each
// rule is stated (and tested) once.
//
//  - Host: when the console listens on loopback, a request's Host header must name
//    loopback (127.x, localhost, [::1]) — a page from elsewhere that re-points its own
//    DNS name at 127.0.0.1 (DNS rebinding) is refused, so it cannot read order data.
//  - Mutating requests (POST) must be same-origin: an Origin header, when sent, must be
//    http://<Host>; Sec-Fetch-Site, when sent, must be same-origin or none; the body must
//    be application/json. Auth is a header (X-Ordersync-Token), never a cookie, so a
//    cross-site form cannot carry it (and no CORS header is ever sent).
//  - Every answer carries a strict Content-Security-Policy (scripts, styles and fetches
//    from this origin only; no inline script, no frames) and no-sniff / no-referrer.
//
// Thread-safety: const methods may be called from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordersync {

inline constexpr const char* kConsoleTokenHeader = "X-Ordersync-Token";
inline constexpr const char* kConsoleOperatorHeader = "X-Ordersync-Operator";

// Splits "host:port" / "[v6]:port"; false if malformed (port must be 0..65535).
bool SplitHostPort(std::string_view listen, std::string* host, int* port);
// True for 127.0.0.0/8, localhost and ::1 (with or without brackets).
bool IsLoopbackHost(std::string_view host);

class ConsoleGuard {
 public:
  explicit ConsoleGuard(bool loopback_only) : loopback_only_(loopback_only) {}

  // "" if the Host header is acceptable, else why not.
  std::string CheckHost(std::string_view host_header) const;
  // "" if a mutating request with these headers may proceed (before the token check).
  std::string CheckMutation(std::string_view host_header, std::string_view origin, std::string_view fetch_site,
                            std::string_view content_type) const;

  // Headers every response carries.
  static std::vector<std::pair<std::string, std::string>> SecurityHeaders();

  // The X-Ordersync-Operator header made safe for a log line: printable ASCII, at most 64
  // characters; "anonymous" when empty.
  static std::string OperatorName(std::string_view header);

 private:
  const bool loopback_only_;
};

}  // namespace ordersync
