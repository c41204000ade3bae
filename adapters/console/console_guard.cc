#include "adapters/console/console_guard.h"

#include <charconv>

namespace ordersync {

bool SplitHostPort(std::string_view listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == listen.size()) return false;
  std::string_view h = listen.substr(0, colon);
  if (h.front() == '[') {
    if (h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // a bare IPv6 address needs brackets
  }
  const std::string_view p = listen.substr(colon + 1);
  int value = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value < 0 || value > 65535) return false;
  *host = std::string(h);
  *port = value;
  return true;
}

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string ConsoleGuard::CheckHost(std::string_view host_header) const {
  if (!loopback_only_) return "";
  std::string host;
  int port = 0;
  std::string_view name = host_header;
  if (SplitHostPort(host_header, &host, &port)) name = host;
  if (IsLoopbackHost(name)) return "";
  return "Host '" + std::string(host_header) +
         "' is not loopback: this console listens on loopback only (DNS rebinding protection)";
}

std::string ConsoleGuard::CheckMutation(std::string_view host_header, std::string_view origin,
                                        std::string_view fetch_site, std::string_view content_type) const {
  if (std::string why = CheckHost(host_header); !why.empty()) return why;
  if (!origin.empty() && origin != "http://" + std::string(host_header)) {
    return "cross-origin request refused (Origin '" + std::string(origin) + "')";
  }
  if (!fetch_site.empty() && fetch_site != "same-origin" && fetch_site != "none") {
    return "cross-site request refused (Sec-Fetch-Site '" + std::string(fetch_site) + "')";
  }
  if (content_type.rfind("application/json", 0) != 0) return "actions take a JSON body (Content-Type: application/json)";
  return "";
}

std::vector<std::pair<std::string, std::string>> ConsoleGuard::SecurityHeaders() {
  return {{"Content-Security-Policy",
           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"X-Frame-Options", "DENY"},
          {"Cross-Origin-Opener-Policy", "same-origin"},
          {"Cross-Origin-Resource-Policy", "same-origin"}};
}

std::string ConsoleGuard::OperatorName(std::string_view header) {
  std::string out;
  for (char c : header) {
    if (out.size() >= 64) break;
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out.empty() ? "anonymous" : out;
}

}  // namespace ordersync
