#include "adapters/edi/inbox_watcher.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

namespace ordersync {
namespace fs = std::filesystem;

bool IsCompleteInboxFileName(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return !name.empty() && name[0] != '.' && !ends_with(".tmp") && !ends_with(".part");
}

Result<std::unique_ptr<InboxWatcher>> InboxWatcher::Start(EdiIngestor* ingestor) {
  const fs::path inbox = ingestor->options().inbox_dir;
  std::error_code ec;
  for (const fs::path& dir : {inbox, inbox / "processed", inbox / "rejected"}) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("edi: cannot create " + dir.string() + ": " + ec.message());
  }
  std::unique_ptr<InboxWatcher> w(new InboxWatcher(ingestor));
  InboxWatcher* raw = w.get();
  w->thread_ = std::thread([raw] { raw->Run(); });
  return w;
}

void InboxWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void InboxWatcher::Run() {
  const auto interval = std::chrono::milliseconds(std::max<uint32_t>(1, ingestor_->options().poll_interval_ms));
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    ScanOnce();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, interval, [this] { return stop_; });
    if (stop_) return;
  }
}

size_t InboxWatcher::ScanOnce() {
  const fs::path inbox = ingestor_->options().inbox_dir;
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(inbox, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    if (!IsCompleteInboxFileName(it->path().filename().string())) continue;
    files.push_back(it->path());
  }
  if (ec) {
    spdlog::error("edi: cannot list {}: {}", inbox.string(), ec.message());
    return 0;
  }
  std::sort(files.begin(), files.end());
  size_t moved = 0;
  for (const fs::path& path : files) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) continue;  // moved away meanwhile
    std::ostringstream content;
    // Read at most max_file_bytes + 1: enough to know the file is too large.
    const uint64_t limit = ingestor_->options().max_file_bytes + 1;
    std::string buffer(static_cast<size_t>(std::min<uint64_t>(limit, fs::file_size(path, ec))), '\0');
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.resize(static_cast<size_t>(in.gcount()));
    const std::string name = path.filename().string();
    Result<EdiFileReport> report = ingestor_->Ingest(name, buffer);
    if (!report.ok()) {
      spdlog::warn("edi: {} stays in the inbox, retried on the next scan: {}", name, report.status().ToString());
      continue;
    }
    const fs::path target_dir = inbox / (report->any_rejected ? "rejected" : "processed");
    fs::path target = target_dir / name;
    for (int n = 1; fs::exists(target, ec); ++n) target = target_dir / (name + "." + std::to_string(n));
    fs::rename(path, target, ec);
    if (ec) {
      spdlog::error("edi: cannot move {} to {}: {}", path.string(), target.string(), ec.message());
      continue;
    }
    ++moved;
    spdlog::info("edi: {} -> {}: {} sets ({} rejected, {} for review), {} events ({} accepted, {} duplicate), {} 997s",
                 name, target.parent_path().filename().string(), report->sets, report->sets_rejected,
                 report->sets_review, report->events, report->accepted, report->duplicate,
                 report->acks_written.size());
    for (const EdiFileReport::Set& s : report->set_reports) {
      if (s.verdict != "accepted") spdlog::warn("edi: {} {} {}: {} ({})", name, s.key, s.verdict, s.reason, s.description);
    }
    for (const std::string& f : report->file_faults) spdlog::warn("edi: {}: {}", name, f);
  }
  return moved;
}

}  // namespace ordersync
