#include "adapters/metrics/prom_text.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

namespace ordersync {
namespace {

bool Matches(const PromSample& s, std::initializer_list<std::pair<std::string_view, std::string_view>> match) {
  for (const auto& [k, v] : match) {
    auto it = s.labels.find(std::string(k));
    if (it == s.labels.end() || it->second != v) return false;
  }
  return true;
}

double ParseValue(std::string_view v, bool* ok) {
  *ok = true;
  if (v == "+Inf" || v == "Inf") return std::numeric_limits<double>::infinity();
  if (v == "-Inf") return -std::numeric_limits<double>::infinity();
  if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
  std::string s(v);
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s.c_str(), &end);
  *ok = end != s.c_str() && *end == '\0' && errno == 0;
  return d;
}

}  // namespace

double PromSamples::Sum(std::string_view name,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> match) const {
  double total = 0;
  for (const PromSample& s : samples) {
    if (s.name == name && Matches(s, match)) total += s.value;
  }
  return total;
}

bool PromSamples::Has(std::string_view name) const {
  return std::any_of(samples.begin(), samples.end(), [&](const PromSample& s) { return s.name == name; });
}

std::vector<std::string> PromSamples::LabelValues(std::string_view name, std::string_view label) const {
  std::set<std::string> values;
  for (const PromSample& s : samples) {
    if (s.name != name) continue;
    auto it = s.labels.find(std::string(label));
    if (it != s.labels.end()) values.insert(it->second);
  }
  return {values.begin(), values.end()};
}

double PromSamples::Quantile(std::string_view name, double q,
                             std::initializer_list<std::pair<std::string_view, std::string_view>> match) const {
  std::map<double, double> buckets;  // le -> cumulative count (summed over series)
  const std::string bucket_name = std::string(name) + "_bucket";
  for (const PromSample& s : samples) {
    if (s.name != bucket_name || !Matches(s, match)) continue;
    auto le = s.labels.find("le");
    if (le == s.labels.end()) continue;
    bool ok = false;
    const double bound = ParseValue(le->second, &ok);
    if (ok) buckets[bound] += s.value;
  }
  if (buckets.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double total = buckets.rbegin()->second;
  if (total <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * total;
  double prev_bound = 0, prev_count = 0;
  for (const auto& [bound, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(bound)) return prev_bound;  // as Prometheus: the highest finite bound
      if (count == prev_count) return bound;
      return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count);
    }
    prev_bound = bound;
    prev_count = count;
  }
  return prev_bound;
}

Result<PromSamples> ParsePromText(std::string_view text) {
  PromSamples out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line.substr(0, 7) == "# TYPE ") {
        std::string_view rest = line.substr(7);
        const size_t sp = rest.find(' ');
        if (sp != std::string_view::npos) out.types[std::string(rest.substr(0, sp))] = std::string(rest.substr(sp + 1));
      }
      continue;
    }
    PromSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          return Status::InvalidArgument("metrics line " + std::to_string(line_no) + ": bad label");
        }
        std::string key(line.substr(i, eq - i));
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value.push_back(line[j] == 'n' ? '\n' : line[j]);
          } else {
            value.push_back(line[j]);
          }
        }
        if (j >= line.size()) return Status::InvalidArgument("metrics line " + std::to_string(line_no) + ": open quote");
        s.labels[std::move(key)] = std::move(value);
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return Status::InvalidArgument("metrics line " + std::to_string(line_no) + ": no '}'");
      ++i;
    }
    while (i < line.size() && line[i] == ' ') ++i;
    std::string_view value = line.substr(i);
    value = value.substr(0, value.find(' '));  // drop a timestamp
    bool ok = false;
    s.value = ParseValue(value, &ok);
    if (s.name.empty() || !ok) {
      return Status::InvalidArgument("metrics line " + std::to_string(line_no) + ": cannot parse '" +
                                     std::string(line) + "'");
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

bool SplitHttpUrl(std::string_view url, std::string* host, int* port, std::string* path) {
  if (url.substr(0, 7) == "http://") url.remove_prefix(7);
  const size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  *path = slash == std::string_view::npos ? "/metrics" : std::string(url.substr(slash));
  const size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = hostport.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  *host = std::string(h);
  const std::string p(hostport.substr(colon + 1));
  char* end = nullptr;
  const long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || v <= 0 || v > 65535) return false;
  *port = static_cast<int>(v);
  return true;
}

Result<std::string> HttpGet(const std::string& host, int port, const std::string& path, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string where = host + ":" + std::to_string(port);
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    return Status::IOError("cannot resolve " + host);
  }
  const int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return Status::IOError(std::string("socket: ") + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  pollfd pfd{fd, POLLOUT, 0};
  if (rc != 0 && errno != EINPROGRESS) return Status::Unavailable("connect " + where + ": " + std::strerror(errno));
  if (rc != 0) {
    if (poll(&pfd, 1, timeout_ms) <= 0) return Status::Unavailable("connect " + where + ": timed out");
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Status::Unavailable("connect " + where + ": " + std::strerror(err));
  }
  const std::string request =
      "GET " + path + " HTTP/1.0\r\nHost: " + where + "\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    pfd = {fd, POLLOUT, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0) return Status::IOError("send to " + where + ": timed out");
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return Status::IOError("send: " + std::string(std::strerror(errno)));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[16384];
  while (true) {
    pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0) return Status::IOError("read from " + where + ": timed out");
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Status::IOError("read: " + std::string(std::strerror(errno)));
    }
    response.append(buf, static_cast<size_t>(n));
    if (response.size() > (64u << 20)) return Status::IOError("response from " + where + " over 64 MiB");
  }
  const size_t header_end = response.find("\r\n\r\n");
  if (header_end == std::string::npos || response.compare(0, 5, "HTTP/") != 0) {
    return Status::IOError("malformed HTTP response from " + where);
  }
  const size_t sp = response.find(' ');
  const std::string code = response.substr(sp + 1, 3);
  if (code != "200") return Status::IOError("GET " + path + " on " + where + ": HTTP " + code);
  return response.substr(header_end + 4);
}

}  // namespace ordersync
