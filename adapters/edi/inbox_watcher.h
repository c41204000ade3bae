// InboxWatcher: the EDI transport of `ordersync serve`. One thread scans
// [ingress.edi] inbox_dir every poll_interval_ms for complete files — regular files whose
// names do not start with '.' and do not end in .tmp or .part: a gateway writes
// elsewhere (or under such a name) and renames the file in — oldest name first, hands
// each to the EdiIngestor, and only after Ingest returned (every event durable,
// quarantine and 997s written) moves it to <inbox_dir>/processed/ or, if any part was
// rejected, <inbox_dir>/rejected/ (a name already there gets a .<n> suffix). A crash
// before the move leaves the file in the inbox: the next start ingests it again and
// the engine answers its events Duplicate. A file whose ingest fails (engine stopping,
// store error) stays and is retried on the next scan.
//
// Thread-safety: Start/Stop from one controlling thread. Stop before the engine stops:
// a file in progress finishes (its results need the engine).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "adapters/edi/edi_ingestor.h"
#include "engine/status.h"

namespace ordersync {

class InboxWatcher {
 public:
  // Creates the inbox, processed/ and rejected/ directories if missing and starts the
  // thread. `ingestor` must outlive the watcher.
  static Result<std::unique_ptr<InboxWatcher>> Start(EdiIngestor* ingestor);
  ~InboxWatcher() { Stop(); }
  InboxWatcher(const InboxWatcher&) = delete;
  InboxWatcher& operator=(const InboxWatcher&) = delete;

  // Finishes the file in progress and joins the thread. Idempotent.
  void Stop();

  // One scan, on the calling thread (tests): ingests every complete file present.
  // Returns the number of files moved.
  size_t ScanOnce();

 private:
  explicit InboxWatcher(EdiIngestor* ingestor) : ingestor_(ingestor) {}
  void Run();

  EdiIngestor* const ingestor_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
};

// Whether `name` looks like a complete file a gateway renamed into the inbox.
bool IsCompleteInboxFileName(const std::string& name);

}  // namespace ordersync
