#include "adapters/master_data/master_data_store.h"

#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "adapters/records/field_parse.h"

namespace ordersync {

Result<std::unique_ptr<MasterDataStore>> MasterDataStore::Start(const MasterDataOptions& options, const Clock* clock) {
  std::unique_ptr<MasterDataStore> store(new MasterDataStore(options, clock));
  store->current_ = std::make_shared<const MasterDataSnapshot>();
  if (options.any()) {
    Status s = store->Reload("start");
    if (!s.ok()) return s;
  }
  if (options.any() && options.watch_interval_ms > 0) {
    store->watcher_ = std::thread([s = store.get()] { s->Watch(); });
  }
  return store;
}

MasterDataStore::~MasterDataStore() { Stop(); }

void MasterDataStore::Stop() {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    stop_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

std::shared_ptr<const MasterDataSnapshot> MasterDataStore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

std::string MasterDataStore::FileSignature() const {
  std::string sig;
  for (const std::string* path : {&options_.customers, &options_.items, &options_.prices}) {
    if (path->empty()) continue;
    struct stat st {};
    if (stat(path->c_str(), &st) != 0) {
      sig += "missing;";
      continue;
    }
    sig += std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
           std::to_string(st.st_size) + ":" + std::to_string(st.st_ino) + ";";
  }
  return sig;
}

Status MasterDataStore::Reload(const std::string& why) {
  std::lock_guard<std::mutex> reload_lock(reload_mu_);
  const std::string signature = FileSignature();
  MasterDataLoad load = LoadMasterData(options_);
  const int64_t now = clock_->NowNanos();
  std::lock_guard<std::mutex> lock(mu_);
  last_attempt_at_ns_ = now;
  if (load.snapshot == nullptr) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    errors_ = load.errors;
    last_result_ = "refused";
    loaded_signature_ = signature;  // the watcher waits for the next change
    std::string joined;
    for (const std::string& e : load.errors) joined += "\n  " + e;
    spdlog::error("master data ({}): refused, keeping version {}:{}", why, current_->version(), joined);
    return Status::InvalidArgument("master data refused:" + joined);
  }
  errors_.clear();
  loaded_signature_ = signature;
  files_.clear();
  for (MasterDataFile& f : load.files) {
    MasterDataFile summary;
    summary.kind = f.kind;
    summary.path = f.path;
    summary.format = f.format;
    summary.records = f.records;
    summary.sha256 = f.sha256;
    files_.push_back(std::move(summary));
  }
  if (load.snapshot->version() == current_->version()) {
    last_result_ = "unchanged";
    spdlog::info("master data ({}): unchanged, version {}", why, current_->version());
    return Status::OK();
  }
  const std::string previous = current_->version();
  current_ = std::move(load.snapshot);
  loaded_at_ns_ = now;
  last_result_ = "loaded";
  reloads_.fetch_add(1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  spdlog::info("master data ({}): version {} in force (was {}): {} customers, {} items, {} prices", why,
               current_->version(), previous, current_->customers(), current_->items(), current_->prices());
  return Status::OK();
}

void MasterDataStore::Watch() {
  std::string pending;  // a changed signature seen once; loaded when seen again unchanged
  std::unique_lock<std::mutex> lock(watch_mu_);
  while (!stop_) {
    watch_cv_.wait_for(lock, std::chrono::milliseconds(options_.watch_interval_ms), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    const std::string now = FileSignature();
    std::string loaded;
    {
      std::lock_guard<std::mutex> l(mu_);
      loaded = loaded_signature_;
    }
    if (now == loaded) {
      pending.clear();
    } else if (now != pending) {
      pending = now;  // changed: wait one interval for it to settle
    } else {
      Reload("file changed").PermitUncheckedError();
      pending.clear();
    }
    lock.lock();
  }
}

nlohmann::json MasterDataStore::StatusJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json files = nlohmann::json::array();
  for (const MasterDataFile& f : files_) {
    files.push_back({{"kind", MasterDataKindName(f.kind)},
                     {"path", f.path},
                     {"format", f.format},
                     {"records", f.records},
                     {"sha256", f.sha256}});
  }
  auto when = [](int64_t ns) { return ns == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatTimestampNs(ns)); };
  return {{"version", current_->version()},
          {"loaded_at", when(loaded_at_ns_)},
          {"files", files},
          {"counts", {{"customers", current_->customers()}, {"items", current_->items()}, {"prices", current_->prices()}}},
          {"reloads", reloads_.load(std::memory_order_relaxed)},
          {"refused", refused_.load(std::memory_order_relaxed)},
          {"last_attempt_at", when(last_attempt_at_ns_)},
          {"last_result", last_result_.empty() ? std::string("none") : last_result_},
          {"errors", errors_},
          {"watch_interval_ms", options_.watch_interval_ms}};
}

}  // namespace ordersync
