#include "adapters/erp/dead_letters.h"

#include <algorithm>
#include <set>

#include "engine/flatbuffer_record.h"
#include "engine/coding.h"
#include "engine/keys.h"
#include "storage_generated.h"

namespace ordersync {
namespace {

namespace fb = flatbuffers;

constexpr char kLetterTag = 'L';
constexpr char kBlockTag = 'B';

void OrderScopedKey(std::string* key, uint32_t partition, char tag, std::string_view order_id) {
  key->clear();
  PutBigEndian16(key, static_cast<uint16_t>(partition));
  key->push_back(tag);
  key->push_back(static_cast<char>(order_id.size()));
  key->append(order_id);
}

std::string_view View(const fb::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

}  // namespace

void DeadLetterOrderPrefix(std::string* key, uint32_t partition, std::string_view order_id) {
  OrderScopedKey(key, partition, kLetterTag, order_id);
}

void DeadLetterKey(std::string* key, uint32_t partition, std::string_view order_id, uint64_t order_cmd_seq) {
  OrderScopedKey(key, partition, kLetterTag, order_id);
  PutBigEndian64(key, order_cmd_seq);
}

void OrderBlockKey(std::string* key, uint32_t partition, std::string_view order_id) {
  OrderScopedKey(key, partition, kBlockTag, order_id);
}

std::string EncodeDeadLetter(const DeadLetterRecord& r) {
  fb::FlatBufferBuilder fbb(256 + r.command.size());
  auto command = fbb.CreateVector(reinterpret_cast<const uint8_t*>(r.command.data()), r.command.size());
  auto off = storage::CreateDeadLetter(fbb, command, fbb.CreateString(r.command_id), fbb.CreateString(r.order_id),
                                       fbb.CreateString(r.target), static_cast<uint8_t>(r.kind), r.order_cmd_seq,
                                       fbb.CreateString(r.reason), fbb.CreateString(r.message),
                                       fbb.CreateString(r.blocked_by), r.attempts, r.dead_lettered_at_ns,
                                       r.needs_review);
  fbb.Finish(off);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

bool DecodeDeadLetter(std::string_view key, std::string_view value, DeadLetterRecord* r) {
  std::string aligned;
  const auto* d = VerifiedRoot<storage::DeadLetter>(value, &aligned);
  if (d == nullptr) return false;
  r->partition = PartitionOfKey(key);
  r->command = d->command() != nullptr
                   ? std::string(reinterpret_cast<const char*>(d->command()->data()), d->command()->size())
                   : std::string();
  r->command_id = View(d->command_id());
  r->order_id = View(d->order_id());
  r->target = View(d->target());
  r->kind = static_cast<CommandKind>(d->kind());
  r->order_cmd_seq = d->order_cmd_seq();
  r->reason = View(d->reason());
  r->message = View(d->message());
  r->blocked_by = View(d->blocked_by());
  r->attempts = d->attempts();
  r->dead_lettered_at_ns = d->dead_lettered_at_ns();
  r->needs_review = d->needs_review();
  return true;
}

std::string EncodeOrderBlock(const OrderBlockRecord& r) {
  fb::FlatBufferBuilder fbb(256);
  auto off = storage::CreateOrderBlock(fbb, fbb.CreateString(r.order_id),
                                       static_cast<storage::OrderBlockState>(r.state), r.from_seq,
                                       fbb.CreateString(r.blocked_by), fbb.CreateString(r.reason), r.at_ns,
                                       r.needs_review, r.replayed_at_outbox_seq, r.replayed_max_seq);
  fbb.Finish(off);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

bool DecodeOrderBlock(std::string_view key, std::string_view value, OrderBlockRecord* r) {
  std::string aligned;
  const auto* b = VerifiedRoot<storage::OrderBlock>(value, &aligned);
  if (b == nullptr) return false;
  r->partition = PartitionOfKey(key);
  r->order_id = View(b->order_id());
  r->state = b->state() == storage::OrderBlockState::Replayed ? OrderBlockRecord::State::kReplayed
                                                               : OrderBlockRecord::State::kBlocked;
  r->from_seq = b->from_seq();
  r->blocked_by = View(b->blocked_by());
  r->reason = View(b->reason());
  r->at_ns = b->at_ns();
  r->needs_review = b->needs_review();
  r->replayed_at_outbox_seq = b->replayed_at_outbox_seq();
  r->replayed_max_seq = b->replayed_max_seq();
  return true;
}

bool DeadLetterFilter::Matches(const DeadLetterRecord& r, int64_t now_ns) const {
  if (!ids.empty() && std::find(ids.begin(), ids.end(), r.command_id) == ids.end()) return false;
  if (!order_id.empty() && r.order_id != order_id) return false;
  if (!target.empty() && r.target != target) return false;
  if (!reason.empty() && r.reason != reason) return false;
  const int64_t age_ns = now_ns - r.dead_lettered_at_ns;
  if (older_than_s >= 0 && age_ns < older_than_s * 1'000'000'000) return false;
  if (newer_than_s >= 0 && age_ns > newer_than_s * 1'000'000'000) return false;
  return true;
}

namespace {

// Calls fn(key, value) for every dead letter (not blocks), in key order.
template <typename Fn>
Status ForEachLetter(StateStore* store, Fn&& fn) {
  auto it = store->NewIterator(Table::kDeadLetters, "", "");
  for (; it->Valid(); it->Next()) {
    std::string_view key = it->key();
    if (key.size() < 3 || key[2] != kLetterTag) continue;
    fn(key, it->value());
  }
  return it->status();
}

}  // namespace

Status ListDeadLetters(StateStore* store, const DeadLetterFilter& filter, int64_t now_ns,
                       std::vector<DeadLetterRecord>* out) {
  const bool select = filter.Selective();
  Status bad;
  Status s = ForEachLetter(store, [&](std::string_view key, std::string_view value) {
    if (filter.limit > 0 && out->size() >= filter.limit) return;
    DeadLetterRecord r;
    if (!DecodeDeadLetter(key, value, &r)) {
      bad = Status::Corruption("dead letter with an unreadable value in partition " +
                               std::to_string(PartitionOfKey(key)));
      return;
    }
    if (!select || filter.Matches(r, now_ns)) out->push_back(std::move(r));
  });
  ORDERSYNC_RETURN_IF_ERROR(s);
  return bad;
}

Status ListOrderBlocks(StateStore* store, std::vector<OrderBlockRecord>* out) {
  auto it = store->NewIterator(Table::kDeadLetters, "", "");
  for (; it->Valid(); it->Next()) {
    std::string_view key = it->key();
    if (key.size() < 3 || key[2] != kBlockTag) continue;
    OrderBlockRecord r;
    if (!DecodeOrderBlock(key, it->value(), &r)) {
      return Status::Corruption("order block with an unreadable value in partition " +
                                std::to_string(PartitionOfKey(key)));
    }
    out->push_back(std::move(r));
  }
  return it->status();
}

Status SelectOrdersForReplay(StateStore* store, const DeadLetterFilter& filter, int64_t now_ns,
                             std::map<uint32_t, std::vector<std::string>>* orders) {
  if (!filter.Selective()) return Status::InvalidArgument("select dead letters to replay (or all)");
  std::vector<DeadLetterRecord> letters;
  DeadLetterFilter unlimited = filter;
  unlimited.limit = 0;
  ORDERSYNC_RETURN_IF_ERROR(ListDeadLetters(store, unlimited, now_ns, &letters));
  std::set<std::pair<uint32_t, std::string>> seen;
  for (const DeadLetterRecord& r : letters) {
    if (seen.insert({r.partition, r.order_id}).second) (*orders)[r.partition].push_back(r.order_id);
  }
  // Blocked orders without letters (e.g. a purge raced a block) are unblocked by `all`.
  if (filter.all) {
    std::vector<OrderBlockRecord> blocks;
    ORDERSYNC_RETURN_IF_ERROR(ListOrderBlocks(store, &blocks));
    for (const OrderBlockRecord& b : blocks) {
      if (b.state == OrderBlockRecord::State::kBlocked && seen.insert({b.partition, b.order_id}).second) {
        (*orders)[b.partition].push_back(b.order_id);
      }
    }
  }
  return Status::OK();
}

Result<PurgeReport> PurgeDeadLetters(StateStore* store, const DeadLetterFilter& filter, Durability durability,
                                     int64_t now_ns) {
  if (!filter.Selective()) return Status::InvalidArgument("select dead letters to purge (or all)");
  std::vector<DeadLetterRecord> all;
  ORDERSYNC_RETURN_IF_ERROR(ListDeadLetters(store, DeadLetterFilter{}, now_ns, &all));
  PurgeReport report;
  std::unique_ptr<StoreBatch> batch = store->NewBatch();
  // Per order: how many letters it has and how many are purged.
  std::map<std::pair<uint32_t, std::string>, std::pair<size_t, size_t>> per_order;
  std::string key;
  for (const DeadLetterRecord& r : all) {
    auto& counts = per_order[{r.partition, r.order_id}];
    ++counts.first;
    if (!filter.Matches(r, now_ns)) continue;
    ++counts.second;
    DeadLetterKey(&key, r.partition, r.order_id, r.order_cmd_seq);
    batch->Delete(Table::kDeadLetters, key);
    report.purged.push_back(r.command_id);
  }
  for (const auto& [order, counts] : per_order) {
    if (counts.second > 0 && counts.second == counts.first) {
      OrderBlockKey(&key, order.first, order.second);
      batch->Delete(Table::kDeadLetters, key);
      report.unblocked.push_back(order);
    }
  }
  if (batch->Count() > 0) ORDERSYNC_RETURN_IF_ERROR(store->Write(batch.get(), durability));
  return report;
}

void DeadLetterReplayTask::Run(PartitionContext& context) {
  const uint32_t p = context.partition();
  std::string prefix, upper, key;
  for (const std::string& order_id : order_ids_) {
    ReplayedOrder out;
    out.partition = p;
    out.order_id = order_id;
    DeadLetterOrderPrefix(&prefix, p, order_id);
    upper = prefix;
    upper.append(8, '\xff');
    upper.push_back('\xff');
    std::vector<DeadLetterRecord> letters;
    auto it = context.store()->NewIterator(Table::kDeadLetters, prefix, upper);
    for (; it->Valid(); it->Next()) {
      if (it->key().size() != prefix.size() + 8) continue;  // another order's longer id cannot match: len prefix
      DeadLetterRecord r;
      if (!DecodeDeadLetter(it->key(), it->value(), &r)) {
        out.error = "unreadable dead letter";
        break;
      }
      letters.push_back(std::move(r));
    }
    if (!it->status().ok()) out.error = it->status().ToString();
    if (!out.error.empty()) {
      replayed_.push_back(std::move(out));
      continue;
    }
    OrderBlockKey(&key, p, order_id);
    if (letters.empty()) {
      context.batch()->Delete(Table::kDeadLetters, key);  // nothing to replay: unblock
      replayed_.push_back(std::move(out));
      continue;
    }
    out.at_outbox_seq = context.next_outbox_seq();
    for (const DeadLetterRecord& r : letters) {
      context.AppendToOutbox(r.command);
      out.command_ids.push_back(r.command_id);
      out.max_seq = std::max(out.max_seq, r.order_cmd_seq);
      std::string letter_key;
      DeadLetterKey(&letter_key, p, order_id, r.order_cmd_seq);
      context.batch()->Delete(Table::kDeadLetters, letter_key);
    }
    OrderBlockRecord block;
    block.order_id = order_id;
    block.state = OrderBlockRecord::State::kReplayed;
    block.from_seq = letters.front().order_cmd_seq;
    block.blocked_by = letters.front().blocked_by;
    block.reason = "replayed";
    block.at_ns = now_ns_;
    block.replayed_at_outbox_seq = out.at_outbox_seq;
    block.replayed_max_seq = out.max_seq;
    context.batch()->Put(Table::kDeadLetters, key, EncodeOrderBlock(block));
    replayed_.push_back(std::move(out));
  }
}

}  // namespace ordersync
