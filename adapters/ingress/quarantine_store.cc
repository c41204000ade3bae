#include "adapters/ingress/quarantine_store.h"

#include "engine/flatbuffer_record.h"
#include "engine/coding.h"
#include "storage_generated.h"

namespace ordersync {
namespace {

constexpr uint16_t kQuarantinePartition = 0xFFFF;
constexpr size_t kMetaValueBytes = 5 * 8;

void EncodeCounters(const QuarantineCounters& c, std::string* out) {
  out->clear();
  PutFixed64(out, c.first_id);
  PutFixed64(out, c.next_id);
  PutFixed64(out, c.count);
  PutFixed64(out, c.bytes);
  PutFixed64(out, c.dropped);
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

Status Decode(std::string_view key, std::string_view value, QuarantineEntry* out) {
  if (key.size() != 10) return Status::Corruption("quarantine: bad key length " + std::to_string(key.size()));
  std::string aligned;
  const auto* r = VerifiedRoot<storage::QuarantineRecord>(value, &aligned);
  if (r == nullptr) {
    return Status::Corruption("quarantine: record " + std::to_string(DecodeBigEndian64(key.data() + 2)) +
                              " does not verify");
  }
  out->id = DecodeBigEndian64(key.data() + 2);
  out->received_at_ns = r->received_at_ns();
  out->endpoint = Str(r->endpoint());
  out->reason = Str(r->reason());
  out->description = Str(r->description());
  out->routing_id = r->routing_id() ? std::string(reinterpret_cast<const char*>(r->routing_id()->data()),
                                                  r->routing_id()->size())
                                    : std::string();
  out->peer_address = Str(r->peer_address());
  out->curve_key_name = Str(r->curve_key_name());
  out->source = Str(r->source());
  out->event_id = Str(r->event_id());
  out->order_id = Str(r->order_id());
  out->file_name = Str(r->file_name());
  out->frame_index = r->frame_index();
  out->frame_size = r->frame_size();
  out->frame = r->frame() ? std::string(reinterpret_cast<const char*>(r->frame()->data()), r->frame()->size())
                          : std::string();
  out->stored_bytes = value.size();
  return Status::OK();
}

}  // namespace

void QuarantineKey(std::string* key, uint64_t id) {
  key->clear();
  PutBigEndian16(key, kQuarantinePartition);
  PutBigEndian64(key, id);
}

void QuarantineMetaKey(std::string* key) {
  key->clear();
  PutBigEndian16(key, kQuarantinePartition);
  key->append("quarantine");
}

Status ReadQuarantineCounters(StateStore* store, QuarantineCounters* counters) {
  std::string key, value;
  QuarantineMetaKey(&key);
  Status s = store->Get(Table::kMeta, key, &value);
  if (s.IsNotFound()) {
    *counters = QuarantineCounters{};
    return Status::OK();
  }
  ORDERSYNC_RETURN_IF_ERROR(s);
  if (value.size() != kMetaValueBytes) {
    return Status::Corruption("quarantine counters: " + std::to_string(value.size()) + " bytes, want " +
                              std::to_string(kMetaValueBytes));
  }
  counters->first_id = DecodeFixed64(value.data());
  counters->next_id = DecodeFixed64(value.data() + 8);
  counters->count = DecodeFixed64(value.data() + 16);
  counters->bytes = DecodeFixed64(value.data() + 24);
  counters->dropped = DecodeFixed64(value.data() + 32);
  return Status::OK();
}

Status ListQuarantine(StateStore* store, uint64_t after_id, size_t limit, std::vector<QuarantineEntry>* out) {
  std::string lower, upper;
  QuarantineKey(&lower, after_id + 1);
  PutBigEndian16(&upper, kQuarantinePartition);
  upper.push_back('\xff');  // beyond any 8-byte id after FF FF
  upper.append(9, '\xff');
  auto it = store->NewIterator(Table::kQuarantine, lower, upper);
  for (; it->Valid() && (limit == 0 || out->size() < limit); it->Next()) {
    QuarantineEntry e;
    ORDERSYNC_RETURN_IF_ERROR(Decode(it->key(), it->value(), &e));
    out->push_back(std::move(e));
  }
  return it->status();
}

Status GetQuarantine(StateStore* store, uint64_t id, QuarantineEntry* out) {
  std::string key, value;
  QuarantineKey(&key, id);
  Status s = store->Get(Table::kQuarantine, key, &value);
  if (s.IsNotFound()) return Status::NotFound("no quarantine record " + std::to_string(id));
  ORDERSYNC_RETURN_IF_ERROR(s);
  return Decode(key, value, out);
}

QuarantineWriter::QuarantineWriter(StateStore* store, const QuarantineOptions& options, Durability durability)
    : store_(store), options_(options), durability_(durability), batch_(store->NewBatch()), fbb_(1024) {}

Result<std::unique_ptr<QuarantineWriter>> QuarantineWriter::Open(StateStore* store, const QuarantineOptions& options,
                                                                 Durability durability) {
  std::unique_ptr<QuarantineWriter> w(new QuarantineWriter(store, options, durability));
  ORDERSYNC_RETURN_IF_ERROR(ReadQuarantineCounters(store, &w->counters_));
  return w;
}

void QuarantineWriter::Add(const QuarantineInput& in) {
  std::lock_guard<std::mutex> lock(mu_);
  Encode(in, &pending_);
}

Status QuarantineWriter::Flush(WriteResult* result) {
  std::lock_guard<std::mutex> lock(mu_);
  return WritePending(&pending_, result);
}

Status QuarantineWriter::Write(const std::vector<QuarantineInput>& inputs, WriteResult* result) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Pending> pending;
  for (const QuarantineInput& in : inputs) Encode(in, &pending);
  return WritePending(&pending, result);
}

void QuarantineWriter::Encode(const QuarantineInput& in, std::vector<Pending>* out) {
  fbb_.Clear();
  auto str = [this](std::string_view s) {
    return s.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb_.CreateString(s.data(), s.size());
  };
  auto bytes = [this](std::string_view s) {
    return s.empty() ? flatbuffers::Offset<flatbuffers::Vector<uint8_t>>()
                     : fbb_.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  const std::string_view kept = in.frame.substr(0, options_.max_frame_bytes);
  const auto frame = bytes(kept);
  const auto routing_id = bytes(in.routing_id);
  const auto endpoint = str(in.endpoint), reason = str(in.reason), description = str(in.description);
  const auto peer = str(in.peer_address), key_name = str(in.curve_key_name), source = str(in.source);
  const auto event_id = str(in.event_id), order_id = str(in.order_id), file_name = str(in.file_name);
  storage::QuarantineRecordBuilder b(fbb_);
  b.add_received_at_ns(in.received_at_ns);
  b.add_endpoint(endpoint);
  b.add_reason(reason);
  b.add_description(description);
  b.add_routing_id(routing_id);
  b.add_peer_address(peer);
  b.add_curve_key_name(key_name);
  b.add_source(source);
  b.add_event_id(event_id);
  b.add_order_id(order_id);
  b.add_frame_index(in.frame_index);
  b.add_frame_size(in.frame.size());
  b.add_frame(frame);
  b.add_file_name(file_name);
  fbb_.Finish(b.Finish());
  out->push_back(Pending{std::string(reinterpret_cast<const char*>(fbb_.GetBufferPointer()), fbb_.GetSize())});
}

Status QuarantineWriter::WritePending(std::vector<Pending>* pending_list, WriteResult* result) {
  std::vector<Pending>& pending_ = *pending_list;
  if (result != nullptr) *result = WriteResult{};
  if (pending_.empty()) return Status::OK();
  QuarantineCounters next = counters_;
  batch_->Clear();
  // Ids for the new records, then drop from the oldest (stored first, then new) until
  // both caps hold.
  const uint64_t first_new = next.next_id;
  next.next_id += pending_.size();
  uint64_t new_bytes = 0;
  for (const Pending& p : pending_) new_bytes += p.value.size();
  uint64_t count = next.count + pending_.size();
  uint64_t bytes = next.bytes + new_bytes;
  uint64_t oldest = count == pending_.size() ? first_new : next.first_id;
  size_t skip_new = 0;  // new records dropped before being written
  while (count > 0 && (count > options_.max_entries || bytes > options_.max_bytes)) {
    uint64_t size = 0;
    if (oldest < first_new) {
      QuarantineKey(&key_, oldest);
      Status s = store_->Get(Table::kQuarantine, key_, &value_);
      if (s.ok()) {
        size = value_.size();
        batch_->Delete(Table::kQuarantine, key_);
      } else if (!s.IsNotFound()) {
        pending_.clear();
        return s;
      }
    } else {
      size = pending_[skip_new++].value.size();
    }
    bytes -= std::min(bytes, size);
    --count;
    ++oldest;
    ++next.dropped;
  }
  for (size_t i = skip_new; i < pending_.size(); ++i) {
    QuarantineKey(&key_, first_new + i);
    batch_->Put(Table::kQuarantine, key_, pending_[i].value);
  }
  next.count = count;
  next.bytes = bytes;
  next.first_id = count == 0 ? next.next_id : oldest;
  QuarantineMetaKey(&key_);
  EncodeCounters(next, &value_);
  batch_->Put(Table::kMeta, key_, value_);
  const size_t written = pending_.size() - skip_new;
  pending_.clear();
  Status s = store_->Write(batch_.get(), durability_);
  batch_->Clear();
  if (!s.ok()) return s;
  if (result != nullptr) {
    result->written = written;
    result->dropped = next.dropped - counters_.dropped;
  }
  counters_ = next;
  written_ += written;
  return Status::OK();
}

}  // namespace ordersync
