// LogLimiter: one token bucket per message kind ("rejected_frame", "exception", ...), so
// a flood of bad input cannot fill the disk with log lines. A kind may write `burst`
// lines at once and `per_s` lines per second after that; lines beyond are suppressed
// and counted, and the next line of that kind that gets through (or Flush) reports
// "suppressed N messages". Kinds are a small fixed vocabulary chosen by the code, never
// data (order ids, sources), so the table stays small.
//
// Thread-safety: all methods may be called from any thread (one mutex; logging already
// serialises on the sink's mutex, and the limiter runs only when a line is about to be
// written, never per event on the hot path).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordersync {

class LogLimiter {
 public:
  // per_s == 0 disables limiting. burst == 0 means max(1, per_s).
  LogLimiter(uint32_t per_s, uint32_t burst);

  // May a line of `kind` be written at `now_ns` (monotonic ns)? When true,
  // *suppressed_before is the number of lines of this kind suppressed since the last
  // one written (the caller reports it); when false the line is counted as suppressed.
  bool Allow(std::string_view kind, int64_t now_ns, uint64_t* suppressed_before);

  // Kinds with suppressed lines not reported yet, and how many; resets them.
  std::vector<std::pair<std::string, uint64_t>> TakeSuppressed();

  // Lines suppressed since construction, per kind (for the metrics).
  std::vector<std::pair<std::string, uint64_t>> SuppressedTotals() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ns = 0;
    uint64_t pending = 0;  // suppressed, not yet reported
    uint64_t total = 0;    // suppressed, ever
  };

  const double per_ns_;
  const double burst_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace ordersync
