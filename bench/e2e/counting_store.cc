#include "bench/e2e/counting_store.h"

namespace ordersync::bench {

class CountingStore::Batch final : public StoreBatch {
 public:
  Batch(std::unique_ptr<StoreBatch> inner, std::optional<Table> drop) : inner_(std::move(inner)), drop_(drop) {}
  void Put(Table table, std::string_view key, std::string_view value) override {
    if (drop_ == table) return;
    TableWrites& t = counts_[static_cast<size_t>(table)];
    ++t.puts;
    t.key_bytes += key.size();
    t.value_bytes += value.size();
    inner_->Put(table, key, value);
  }
  void Delete(Table table, std::string_view key) override {
    if (drop_ == table) return;
    TableWrites& t = counts_[static_cast<size_t>(table)];
    ++t.deletes;
    t.key_bytes += key.size();
    inner_->Delete(table, key);
  }
  size_t Count() const override { return inner_->Count(); }
  size_t ByteSize() const override { return inner_->ByteSize(); }
  void Clear() override {
    inner_->Clear();
    counts_ = {};
  }
  StoreBatch* inner() { return inner_.get(); }
  const WriteCounts& counts() const { return counts_; }

 private:
  std::unique_ptr<StoreBatch> inner_;
  const std::optional<Table> drop_;
  WriteCounts counts_{};
};

std::unique_ptr<StoreBatch> CountingStore::NewBatch() { return std::make_unique<Batch>(inner_->NewBatch(), drop_); }

Status CountingStore::Write(StoreBatch* batch, Durability durability) {
  auto* b = static_cast<Batch*>(batch);
  Status s = inner_->Write(b->inner(), durability);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  ++writes_;
  for (size_t i = 0; i < kTableCount; ++i) {
    totals_[i].puts += b->counts()[i].puts;
    totals_[i].deletes += b->counts()[i].deletes;
    totals_[i].key_bytes += b->counts()[i].key_bytes;
    totals_[i].value_bytes += b->counts()[i].value_bytes;
  }
  return s;
}

WriteCounts CountingStore::Totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

uint64_t CountingStore::writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_;
}

}  // namespace ordersync::bench
