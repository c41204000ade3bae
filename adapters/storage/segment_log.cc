#include "adapters/storage/segment_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "adapters/storage/crc32c.h"
#include "engine/coding.h"
#include "engine/failpoint.h"

namespace ordersync {
namespace {

constexpr size_t kHeaderBytes = 8;
constexpr size_t kNoneBufferBytes = 1 << 20;

std::string ErrnoText(const std::string& what, int err) { return what + ": " + std::strerror(err); }

uint32_t RecordCrc(const char* length_bytes, std::string_view payload) {
  return Crc32c(Crc32c(0, length_bytes, 4), payload.data(), payload.size());
}

void EncodeFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

// Parses "g<gen>-s<stream>-<offset hex>.log".
bool ParseSegmentName(const std::string& name, LogStreamId* id, uint64_t* first_offset) {
  unsigned gen = 0, stream = 0;
  unsigned long long offset = 0;
  int consumed = 0;
  if (std::sscanf(name.c_str(), "g%8u-s%4u-%16llx.log%n", &gen, &stream, &offset, &consumed) != 3) return false;
  if (static_cast<size_t>(consumed) != name.size()) return false;
  id->generation = gen;
  id->stream = stream;
  *first_offset = offset;
  return true;
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(ErrnoText("open log directory " + dir, errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError(ErrnoText("fsync log directory " + dir, err));
  return Status::OK();
}

// Writes all of [data, data+n) at the file's current offset.
bool WriteAll(int fd, const char* data, size_t n, int* err) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

class SegmentStream final : public LogStream {
 public:
  SegmentStream(std::string dir, LogStreamId id, uint64_t segment_bytes)
      : dir_(std::move(dir)), id_(id), segment_bytes_(segment_bytes) {}
  ~SegmentStream() override {
    if (!none_buffer_.empty()) FlushNoneBuffer().PermitUncheckedError();
    if (fd_ >= 0) ::close(fd_);
  }

  Status OpenSegment(bool sync_dir) {
    const std::string path = dir_ + "/" + SegmentFileName(id_, end_offset_);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Status::IOError(ErrnoText("create log segment " + path, errno));
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
    current_path_ = path;
    segment_first_ = end_offset_;
    segments_.push_back(end_offset_);
    if (sync_dir) return SyncDir(dir_);
    return Status::OK();
  }

  Status Append(std::string_view record, Durability durability, LogPosition* end) override {
    if (broken_) return Status::IOError("event log stream " + current_path_ + " failed earlier; restart the engine");
    if (record.empty() || record.size() > kMaxLogRecordBytes) {
      return Status::InvalidArgument("log record of " + std::to_string(record.size()) + " bytes");
    }
    if (end_offset_ - segment_first_ >= segment_bytes_) {
      ORDERSYNC_RETURN_IF_ERROR(FlushNoneBuffer());
      if (Status s = OpenSegment(durability == Durability::kFsync); !s.ok()) {
        broken_ = true;
        return s;
      }
    }
    char header[kHeaderBytes];
    EncodeFixed32(header, static_cast<uint32_t>(record.size()));
    EncodeFixed32(header + 4, RecordCrc(header, record));
    if (durability == Durability::kNone) {
      none_buffer_.append(header, kHeaderBytes);
      none_buffer_.append(record);
      end_offset_ += kHeaderBytes + record.size();
      if (none_buffer_.size() >= kNoneBufferBytes) ORDERSYNC_RETURN_IF_ERROR(FlushNoneBuffer());
      *end = this->end();
      return Status::OK();
    }
    ORDERSYNC_RETURN_IF_ERROR(FlushNoneBuffer());
    TornWrite torn{fd_, std::string_view(header, kHeaderBytes), record};
    ORDERSYNC_FAILPOINT_ARG("log.mid_append", &torn);
    iovec iov[2] = {{header, kHeaderBytes}, {const_cast<char*>(record.data()), record.size()}};
    const size_t total = kHeaderBytes + record.size();
    ssize_t w;
    do {
      w = ::writev(fd_, iov, 2);
    } while (w < 0 && errno == EINTR);
    int err = 0;
    bool ok = w >= 0;
    if (ok && static_cast<size_t>(w) < total) {
      // A short write (signal, full disk): finish it piece by piece.
      const size_t done = static_cast<size_t>(w);
      if (done < kHeaderBytes) {
        ok = WriteAll(fd_, header + done, kHeaderBytes - done, &err) && WriteAll(fd_, record.data(), record.size(), &err);
      } else {
        ok = WriteAll(fd_, record.data() + (done - kHeaderBytes), total - done, &err);
      }
    } else if (!ok) {
      err = errno;
    }
    if (!ok) return Undo(ErrnoText("append to " + current_path_, err));
    if (durability == Durability::kFsync && ::fdatasync(fd_) != 0) {
      return Undo(ErrnoText("fdatasync " + current_path_, errno));
    }
    end_offset_ += total;
    if (durability == Durability::kFsync) {
      LogSynced synced{current_path_, end_offset_ - segment_first_};
      ORDERSYNC_FAILPOINT_ARG("log.after_sync", &synced);
    }
    *end = this->end();
    return Status::OK();
  }

  Status Sync() override {
    ORDERSYNC_RETURN_IF_ERROR(FlushNoneBuffer());
    if (fd_ >= 0 && ::fdatasync(fd_) != 0) return Status::IOError(ErrnoText("fdatasync " + current_path_, errno));
    LogSynced synced{current_path_, end_offset_ - segment_first_};
    ORDERSYNC_FAILPOINT_ARG("log.after_sync", &synced);
    return Status::OK();
  }

  Status TruncateBefore(uint64_t offset) override {
    // segments_[i] ends where segments_[i+1] begins; the current one is never dropped.
    size_t drop = 0;
    while (drop + 1 < segments_.size() && segments_[drop + 1] <= offset) ++drop;
    for (size_t i = 0; i < drop; ++i) {
      const std::string path = dir_ + "/" + SegmentFileName(id_, segments_[i]);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(i));
        return Status::IOError(ErrnoText("delete log segment " + path, errno));
      }
    }
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<ptrdiff_t>(drop));
    return Status::OK();
  }

  LogPosition end() const override { return LogPosition{id_.generation, id_.stream, end_offset_}; }
  uint64_t retained_bytes() const override { return end_offset_ - (segments_.empty() ? 0 : segments_.front()); }

 private:
  // Cuts a failed append back to the last whole record, so readers never see a partial
  // one followed by good ones. If even that fails, the stream refuses further appends.
  Status Undo(const std::string& what) {
    if (::ftruncate(fd_, static_cast<off_t>(end_offset_ - segment_first_)) != 0 ||
        ::lseek(fd_, static_cast<off_t>(end_offset_ - segment_first_), SEEK_SET) < 0) {
      broken_ = true;
    }
    return Status::IOError(what);
  }

  Status FlushNoneBuffer() {
    if (none_buffer_.empty()) return Status::OK();
    int err = 0;
    if (!WriteAll(fd_, none_buffer_.data(), none_buffer_.size(), &err)) {
      broken_ = true;
      return Status::IOError(ErrnoText("append to " + current_path_, err));
    }
    none_buffer_.clear();
    return Status::OK();
  }

  const std::string dir_;
  const LogStreamId id_;
  const uint64_t segment_bytes_;
  int fd_ = -1;
  std::string current_path_;
  uint64_t segment_first_ = 0;
  uint64_t end_offset_ = 0;
  std::vector<uint64_t> segments_;  // first offsets of the retained segments
  std::string none_buffer_;         // kNone appends not yet written
  bool broken_ = false;
};

class SegmentReader final : public LogReader {
 public:
  SegmentReader(std::vector<SegmentLog::SegmentFile> segments, LogStreamId id, uint64_t offset)
      : segments_(std::move(segments)), id_(id), offset_(offset) {}
  ~SegmentReader() override {
    if (fd_ >= 0) ::close(fd_);
  }

  bool Next(std::string_view* record, LogPosition* end) override {
    if (!status_.ok() || done_) return false;
    while (true) {
      if (fd_ < 0 && !OpenNextSegment()) return false;
      const uint64_t in_file = offset_ - segments_[index_].first_offset;
      const uint64_t file_size = segments_[index_].size;
      if (in_file == file_size) {
        // Clean end of this segment: the next one must start exactly here.
        ::close(fd_);
        fd_ = -1;
        ++index_;
        if (index_ >= segments_.size()) {
          done_ = true;
          return false;
        }
        if (segments_[index_].first_offset != offset_) {
          status_ = Status::Corruption("event log segment " + segments_[index_].path + " starts at offset " +
                                       std::to_string(segments_[index_].first_offset) + ", expected " +
                                       std::to_string(offset_));
          return false;
        }
        continue;
      }
      const uint64_t left = file_size - in_file;
      char header[kHeaderBytes];
      if (left < kHeaderBytes || !ReadAt(header, kHeaderBytes, in_file)) return Damaged(left);
      const uint32_t length = DecodeFixed32(header);
      if (length == 0 || length > kMaxLogRecordBytes || length > left - kHeaderBytes) return Damaged(left);
      buffer_.resize(length);
      if (!ReadAt(buffer_.data(), length, in_file + kHeaderBytes)) return Damaged(left);
      if (RecordCrc(header, buffer_) != DecodeFixed32(header + 4)) return Damaged(left);
      offset_ += kHeaderBytes + length;
      *record = buffer_;
      *end = LogPosition{id_.generation, id_.stream, offset_};
      return true;
    }
  }

  Status status() const override { return status_; }
  uint64_t torn_bytes() const override { return torn_bytes_; }

 private:
  bool OpenNextSegment() {
    if (index_ >= segments_.size()) {
      done_ = true;
      return false;
    }
    const SegmentLog::SegmentFile& f = segments_[index_];
    fd_ = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      status_ = Status::IOError(ErrnoText("open log segment " + f.path, errno));
      return false;
    }
    return true;
  }

  bool ReadAt(char* dst, size_t n, uint64_t at) {
    while (n > 0) {
      ssize_t r = ::pread(fd_, dst, n, static_cast<off_t>(at));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      dst += r;
      n -= static_cast<size_t>(r);
      at += static_cast<uint64_t>(r);
    }
    return true;
  }

  // A record that is short or fails its checksum: a torn tail in the last segment, else
  // corruption.
  bool Damaged(uint64_t bytes_left) {
    if (index_ + 1 < segments_.size()) {
      status_ = Status::Corruption("event log segment " + segments_[index_].path + " is damaged at offset " +
                                   std::to_string(offset_ - segments_[index_].first_offset) +
                                   " and later segments exist");
      return false;
    }
    torn_bytes_ = bytes_left;
    done_ = true;
    return false;
  }

  std::vector<SegmentLog::SegmentFile> segments_;
  const LogStreamId id_;
  uint64_t offset_;
  size_t index_ = 0;
  int fd_ = -1;
  std::string buffer_;
  Status status_;
  uint64_t torn_bytes_ = 0;
  bool done_ = false;
};

}  // namespace

std::string SegmentFileName(LogStreamId stream, uint64_t first_offset) {
  char name[64];
  std::snprintf(name, sizeof name, "g%08u-s%04u-%016llx.log", stream.generation, stream.stream,
                static_cast<unsigned long long>(first_offset));
  return name;
}

Result<std::unique_ptr<SegmentLog>> OpenEventLog(const StorageOptions& options) {
  SegmentLogOptions o;
  o.dir = options.EventLogDir();
  o.segment_bytes = static_cast<uint64_t>(std::max<uint32_t>(1, options.log_segment_mb)) << 20;
  return SegmentLog::Open(o);
}

Result<std::unique_ptr<SegmentLog>> SegmentLog::Open(const SegmentLogOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("event log directory is empty");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status::IOError("create event log directory " + options.dir + ": " + ec.message());
  return std::unique_ptr<SegmentLog>(new SegmentLog(options));
}

Status SegmentLog::ListSegments(std::vector<SegmentFile>* out) {
  out->clear();
  DIR* d = ::opendir(options_.dir.c_str());
  if (d == nullptr) return Status::IOError(ErrnoText("read event log directory " + options_.dir, errno));
  while (dirent* e = ::readdir(d)) {
    SegmentFile f;
    std::string name = e->d_name;
    if (!ParseSegmentName(name, &f.stream, &f.first_offset)) continue;
    f.path = options_.dir + "/" + name;
    struct stat st;
    if (::stat(f.path.c_str(), &st) != 0) continue;
    f.size = static_cast<uint64_t>(st.st_size);
    out->push_back(std::move(f));
  }
  ::closedir(d);
  std::sort(out->begin(), out->end(), [](const SegmentFile& a, const SegmentFile& b) {
    if (!(a.stream == b.stream)) return a.stream < b.stream;
    return a.first_offset < b.first_offset;
  });
  return Status::OK();
}

Status SegmentLog::ListStreams(std::vector<LogStreamId>* streams) {
  std::vector<SegmentFile> files;
  ORDERSYNC_RETURN_IF_ERROR(ListSegments(&files));
  streams->clear();
  for (const SegmentFile& f : files) {
    if (streams->empty() || !(streams->back() == f.stream)) streams->push_back(f.stream);
  }
  return Status::OK();
}

uint32_t SegmentLog::LastGeneration() {
  std::vector<LogStreamId> streams;
  if (!ListStreams(&streams).ok() || streams.empty()) return 0;
  return streams.back().generation;
}

Result<std::unique_ptr<LogStream>> SegmentLog::CreateStream(LogStreamId id) {
  std::vector<SegmentFile> files;
  ORDERSYNC_RETURN_IF_ERROR(ListSegments(&files));
  for (const SegmentFile& f : files) {
    if (f.stream == id) {
      return Status::InvalidArgument("event log stream g" + std::to_string(id.generation) + "/s" +
                                     std::to_string(id.stream) + " exists already");
    }
  }
  auto stream = std::make_unique<SegmentStream>(options_.dir, id, options_.segment_bytes);
  // The directory entry is made durable at once: an fsync-mode append after it relies on it.
  ORDERSYNC_RETURN_IF_ERROR(stream->OpenSegment(/*sync_dir=*/true));
  return std::unique_ptr<LogStream>(std::move(stream));
}

Result<std::unique_ptr<LogReader>> SegmentLog::ReadFrom(const LogPosition& from) {
  std::vector<SegmentFile> files;
  ORDERSYNC_RETURN_IF_ERROR(ListSegments(&files));
  const LogStreamId id{from.generation, from.stream};
  std::vector<SegmentFile> mine;
  for (SegmentFile& f : files) {
    if (f.stream == id) mine.push_back(std::move(f));
  }
  // Start in the last segment beginning at or before the offset (or the first one).
  size_t start = 0;
  while (start + 1 < mine.size() && mine[start + 1].first_offset <= from.offset) ++start;
  mine.erase(mine.begin(), mine.begin() + static_cast<ptrdiff_t>(start));
  uint64_t offset = from.offset;
  if (!mine.empty() && offset < mine.front().first_offset) offset = mine.front().first_offset;
  if (!mine.empty() && offset > mine.front().first_offset + mine.front().size) {
    return Status::InvalidArgument("event log position " + std::to_string(offset) + " is past the end of " +
                                   mine.front().path);
  }
  return std::unique_ptr<LogReader>(new SegmentReader(std::move(mine), id, offset));
}

Status SegmentLog::DropGenerationsBefore(uint32_t generation) {
  std::vector<SegmentFile> files;
  ORDERSYNC_RETURN_IF_ERROR(ListSegments(&files));
  bool dropped = false;
  for (const SegmentFile& f : files) {
    if (f.stream.generation >= generation) continue;
    if (::unlink(f.path.c_str()) != 0 && errno != ENOENT) {
      return Status::IOError(ErrnoText("delete log segment " + f.path, errno));
    }
    dropped = true;
  }
  return dropped ? SyncDir(options_.dir) : Status::OK();
}

uint64_t SegmentLog::DiskBytes() {
  std::vector<SegmentFile> files;
  if (!ListSegments(&files).ok()) return 0;
  uint64_t total = 0;
  for (const SegmentFile& f : files) total += f.size;
  return total;
}

}  // namespace ordersync
