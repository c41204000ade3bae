// MasterDataStore: the master data a running engine checks orders against. Loads the
// [master_data] files at start and again on Reload() (SIGHUP) or, with watch_interval_ms,
// when a file changed and then stayed unchanged for one interval. A reload that finds a
// bad file is refused as a whole: the errors are kept for `ordersync master-data status`
// and logged, and the data in force stays. A good reload swaps one whole snapshot in at
// once (MasterDataSource: workers pick it up at their next group commit, so every event
// sees either the old or the new data, never part of a file).
//
//   auto md = MasterDataStore::Start(options);   // fails if the files are bad at start
//   Engine::Open(..., md->get());                // the engine reads Current()
//   (*md)->Reload();                             // SIGHUP
//   nlohmann::json s = (*md)->StatusJson();      // versions, counts, last reload, errors
//
// Thread-safety: every method may be called from any thread. generation() is one atomic
// load; Current() and the status take a mutex (rarely: workers call Current() only after
// generation() changed).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/master_data/master_data_loader.h"
#include "adapters/master_data/master_data_options.h"
#include "engine/clock.h"
#include "engine/master_data.h"
#include "engine/status.h"

namespace ordersync {

class MasterDataStore final : public MasterDataSource {
 public:
  // Loads the files (none configured: an empty snapshot, version "none") and starts the
  // watcher when watch_interval_ms > 0. InvalidArgument with every error when a file is bad.
  static Result<std::unique_ptr<MasterDataStore>> Start(const MasterDataOptions& options,
                                                        const Clock* clock = SystemClock::Default());
  ~MasterDataStore() override;
  MasterDataStore(const MasterDataStore&) = delete;
  MasterDataStore& operator=(const MasterDataStore&) = delete;

  // Loads the files again now. OK: swapped in (or unchanged: same version). Otherwise the
  // errors; the data in force stays.
  Status Reload(const std::string& why = "reload");
  void Stop();

  uint64_t generation() const override { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const MasterDataSnapshot> Current() const override;

  // {"version", "loaded_at", "files": [{"kind","path","format","records","sha256"}],
  //  "counts": {"customers","items","prices"}, "reloads", "refused", "last_attempt_at",
  //  "last_result": "loaded"|"unchanged"|"refused", "errors": [...], "watch_interval_ms"}
  nlohmann::json StatusJson() const;

  uint64_t reloads() const { return reloads_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  MasterDataStore(const MasterDataOptions& options, const Clock* clock) : options_(options), clock_(clock) {}
  // Identity of the files on disk (mtime, size, inode per file).
  std::string FileSignature() const;
  void Watch();

  const MasterDataOptions options_;
  const Clock* const clock_;
  mutable std::mutex mu_;
  std::shared_ptr<const MasterDataSnapshot> current_;  // GUARDED_BY(mu_)
  std::vector<MasterDataFile> files_;                   // GUARDED_BY(mu_), without records
  int64_t loaded_at_ns_ = 0;                            // GUARDED_BY(mu_)
  int64_t last_attempt_at_ns_ = 0;                      // GUARDED_BY(mu_)
  std::string last_result_;                             // GUARDED_BY(mu_)
  std::vector<std::string> errors_;                     // GUARDED_BY(mu_): of the last refused attempt
  std::string loaded_signature_;                        // GUARDED_BY(mu_)
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> refused_{0};
  std::mutex reload_mu_;  // one load at a time

  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stop_ = false;  // GUARDED_BY(watch_mu_)
  std::thread watcher_;
};

}  // namespace ordersync
