#include "engine/log_record.h"

#include <cstring>

#include "erp_generated.h"

namespace ordersync {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kExtendedVersion = 2;  // records with verdicts or release_hold items
constexpr size_t kHeaderBytes = 1 + 8 + 4;
constexpr size_t kCountOffset = 1 + 8;

template <typename T>
void PutFixed(std::string* buf, T v) {
  char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
  buf->append(b, sizeof(T));
}

}  // namespace

void LogRecordBuilder::Begin(int64_t now_ns) {
  buf_.clear();
  buf_.push_back(static_cast<char>(kVersion));
  PutFixed<uint64_t>(&buf_, static_cast<uint64_t>(now_ns));
  PutFixed<uint32_t>(&buf_, 0);
  items_ = 0;
  extended_ = false;
}

void LogRecordBuilder::ItemHeader(LogItemType type, uint32_t partition) {
  buf_.push_back(static_cast<char>(type));
  PutFixed<uint16_t>(&buf_, static_cast<uint16_t>(partition));
  ++items_;
}

void LogRecordBuilder::PutString(std::string_view s) {
  PutFixed<uint32_t>(&buf_, static_cast<uint32_t>(s.size()));
  buf_.append(s);
}

void LogRecordBuilder::PutAlignedBytes(std::string_view s) {
  PutFixed<uint32_t>(&buf_, static_cast<uint32_t>(s.size()));
  buf_.append((8 - buf_.size() % 8) % 8, '\0');
  buf_.append(s);
}

void LogRecordBuilder::AddEvent(uint32_t partition, int64_t received_at_ns, bool replay, std::string_view envelope,
                                const MasterDataVerdict* verdict) {
  const bool with_verdict = verdict != nullptr && verdict->kind != MasterDataVerdict::Kind::kNone;
  ItemHeader(LogItemType::kEvent, partition);
  PutFixed<uint64_t>(&buf_, static_cast<uint64_t>(received_at_ns));
  buf_.push_back(static_cast<char>((replay ? 1 : 0) | (with_verdict ? 2 : 0)));
  PutAlignedBytes(envelope);
  if (!with_verdict) return;
  extended_ = true;
  buf_.push_back(static_cast<char>(verdict->kind));
  buf_.push_back(static_cast<char>(verdict->failure_class));
  PutString(verdict->version);
  PutString(verdict->reason);
}

void LogRecordBuilder::AddReleaseHold(uint32_t partition, std::string_view customer_id, std::string_view version) {
  ItemHeader(LogItemType::kReleaseHold, partition);
  extended_ = true;
  PutString(customer_id);
  PutString(version);
}

void LogRecordBuilder::AddOutboxAppend(uint32_t partition, std::string_view erp_command) {
  ItemHeader(LogItemType::kOutboxAppend, partition);
  PutAlignedBytes(erp_command);
}

LogItem NoteAsLogItem(const CommandNote& n) {
  LogItem item;
  item.type = LogItemType::kNote;
  item.partition = n.partition;
  item.outbox_seq = n.outbox_seq;
  item.removes_command = n.removes_command;
  item.journal_kind = static_cast<uint8_t>(n.journal_kind);
  item.at_ns = n.at_ns;
  item.attempts = n.attempts;
  item.first_sent_at_ns = n.first_sent_at_ns;
  item.outcome = n.outcome;
  item.reason = n.reason;
  item.erp_document_id = n.erp_document_id;
  if (n.command != nullptr) {
    const ErpCommand* c = GetErpCommand(n.command->data());
    auto view = [](const flatbuffers::String* s) {
      return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
    };
    item.order_id = view(c->order_id());
    item.command_id = view(c->command_id());
    item.target = view(c->target());
    item.order_cmd_seq = c->order_cmd_seq();
    item.command_kind = static_cast<uint8_t>(c->kind());
  }
  return item;
}

void LogRecordBuilder::AddNote(const LogItem& n) {
  ItemHeader(LogItemType::kNote, n.partition);
  PutFixed<uint64_t>(&buf_, n.outbox_seq);
  buf_.push_back(n.removes_command ? 1 : 0);
  buf_.push_back(static_cast<char>(n.journal_kind));
  PutFixed<uint64_t>(&buf_, static_cast<uint64_t>(n.at_ns));
  PutFixed<uint32_t>(&buf_, n.attempts);
  PutFixed<uint64_t>(&buf_, static_cast<uint64_t>(n.first_sent_at_ns));
  PutFixed<uint64_t>(&buf_, n.order_cmd_seq);
  buf_.push_back(static_cast<char>(n.command_kind));
  PutString(n.order_id);
  PutString(n.command_id);
  PutString(n.target);
  PutString(n.outcome);
  PutString(n.reason);
  PutString(n.erp_document_id);
}

void LogRecordBuilder::AddExpireParked(uint32_t partition) { ItemHeader(LogItemType::kExpireParked, partition); }

std::string_view LogRecordBuilder::Finish() {
  buf_[0] = static_cast<char>(extended_ ? kExtendedVersion : kVersion);
  for (size_t i = 0; i < 4; ++i) buf_[kCountOffset + i] = static_cast<char>(items_ >> (8 * i));
  return buf_;
}

Status LogRecordReader::Open(std::string_view record) {
  status_ = Status::OK();
  read_ = 0;
  begin_ = record.data();
  const uint8_t version = record.empty() ? 0 : static_cast<uint8_t>(record[0]);
  if (record.size() < kHeaderBytes || (version != kVersion && version != kExtendedVersion)) {
    status_ = Status::Corruption("event log record: unknown version or truncated header");
    return status_;
  }
  rest_ = record.substr(1);
  uint64_t now = 0;
  TakeFixed(&now);
  TakeFixed(&count_);
  now_ns_ = static_cast<int64_t>(now);
  return status_;
}

bool LogRecordReader::Take(size_t n, std::string_view* out) {
  if (rest_.size() < n) {
    status_ = Status::Corruption("event log record: item " + std::to_string(read_) + " is truncated");
    return false;
  }
  *out = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return true;
}

template <typename T>
bool LogRecordReader::TakeFixed(T* v) {
  std::string_view b;
  if (!Take(sizeof(T), &b)) return false;
  uint64_t x = 0;
  for (size_t i = 0; i < sizeof(T); ++i) x |= static_cast<uint64_t>(static_cast<uint8_t>(b[i])) << (8 * i);
  *v = static_cast<T>(x);
  return true;
}

bool LogRecordReader::TakeString(std::string_view* s) {
  uint32_t n = 0;
  return TakeFixed(&n) && Take(n, s);
}

bool LogRecordReader::TakeAlignedBytes(std::string_view* s) {
  uint32_t n = 0;
  if (!TakeFixed(&n)) return false;
  std::string_view pad;
  const size_t at = static_cast<size_t>(rest_.data() - begin_);
  return Take((8 - at % 8) % 8, &pad) && Take(n, s);
}

bool LogRecordReader::Next(LogItem* item) {
  if (!status_.ok() || read_ >= count_) return false;
  uint8_t type = 0;
  uint16_t partition = 0;
  if (!TakeFixed(&type) || !TakeFixed(&partition)) return false;
  item->type = static_cast<LogItemType>(type);
  item->partition = partition;
  bool ok = true;
  switch (item->type) {
    case LogItemType::kEvent: {
      uint64_t received = 0;
      uint8_t flags = 0;
      ok = TakeFixed(&received) && TakeFixed(&flags) && TakeAlignedBytes(&item->bytes);
      item->received_at_ns = static_cast<int64_t>(received);
      item->replay = (flags & 1) != 0;
      item->has_verdict = (flags & 2) != 0;
      item->verdict_kind = MasterDataVerdict::Kind::kNone;
      item->verdict_version = item->verdict_reason = {};
      if (ok && item->has_verdict) {
        uint8_t kind = 0;
        ok = TakeFixed(&kind) && TakeFixed(&item->verdict_class) && TakeString(&item->verdict_version) &&
             TakeString(&item->verdict_reason);
        if (ok && kind > static_cast<uint8_t>(MasterDataVerdict::Kind::kHold)) {
          status_ = Status::Corruption("event log record: item " + std::to_string(read_) +
                                       " has an unknown master-data verdict " + std::to_string(kind));
          return false;
        }
        item->verdict_kind = static_cast<MasterDataVerdict::Kind>(kind);
      }
      break;
    }
    case LogItemType::kOutboxAppend:
      ok = TakeAlignedBytes(&item->bytes);
      break;
    case LogItemType::kNote: {
      uint8_t flags = 0;
      uint64_t at = 0, first = 0;
      ok = TakeFixed(&item->outbox_seq) && TakeFixed(&flags) && TakeFixed(&item->journal_kind) && TakeFixed(&at) &&
           TakeFixed(&item->attempts) && TakeFixed(&first) && TakeFixed(&item->order_cmd_seq) &&
           TakeFixed(&item->command_kind) && TakeString(&item->order_id) && TakeString(&item->command_id) &&
           TakeString(&item->target) && TakeString(&item->outcome) && TakeString(&item->reason) &&
           TakeString(&item->erp_document_id);
      item->removes_command = (flags & 1) != 0;
      item->at_ns = static_cast<int64_t>(at);
      item->first_sent_at_ns = static_cast<int64_t>(first);
      break;
    }
    case LogItemType::kExpireParked:
      break;
    case LogItemType::kReleaseHold:
      ok = TakeString(&item->customer_id) && TakeString(&item->verdict_version);
      break;
    default:
      status_ = Status::Corruption("event log record: unknown item type " + std::to_string(type));
      return false;
  }
  if (!ok) return false;
  ++read_;
  return true;
}

}  // namespace ordersync
