// The reconcile benchmark's dataset, small: 10 k postings through a real engine (all
// partitions, ~2 500 orders, dead letters as the dispatcher writes them), the ERP export
// with every difference class planted, and a reconcile of the period that must find
// exactly the planted differences — no false ones among the
// matched postings, each mismatch field (quantity, amount, company) seen, foreign
// documents counted, and a repair dry run offering exactly the missing commands.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "adapters/reconcile/reconcile_service.h"
#include "adapters/storage/rocksdb_store.h"
#include "bench/reconcile/reconcile_dataset.h"

namespace ordersync {
namespace {

TEST(ReconcileDatasetTest, ReconcileOf10kPostingsFindsExactlyThePlantedDifferences) {
  ReconcileDatasetOptions o;
  o.dir = (std::filesystem::temp_directory_path() / ("ordersync-reconcile-dataset-" + std::to_string(::getpid())))
              .string();
  o.postings = 10000;
  o.planted = 4;
  auto d = PrepareReconcileDataset(o);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_GE(d->expect_acknowledged, o.postings);
  EXPECT_EQ(d->expect_missing, 4u);
  EXPECT_EQ(d->expect_unknown, 8u);
  EXPECT_EQ(d->expect_mismatch, 12u);
  EXPECT_EQ(d->expect_pending, 8u);
  EXPECT_EQ(d->expect_foreign, 4u);

  auto loaded = LoadReconcileDataset(o.dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->expect_matched, d->expect_matched);
  EXPECT_EQ(loaded->from_ns, d->from_ns);

  StorageOptions so;
  so.data_dir = d->data_dir;
  auto store = RocksDbStore::OpenReadOnly(so);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ReconcileWindow w;
  w.target = d->target;
  w.from_ns = d->from_ns;
  w.to_ns = d->to_ns;
  w.margin_ns = 900 * kNanosPerSecond;
  ExportFileSource source(d->export_path);
  auto run = RunReconcile(store->get(), w, &source, d->to_ns);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(CheckReconcileReport(*d, run->report).ok()) << CheckReconcileReport(*d, run->report).ToString();

  std::set<std::string> mismatch_fields, pending_queues;
  for (const Difference& diff : run->report.differences) {
    if (diff.cls == DifferenceClass::kMismatch) {
      for (const char* field : {"quantity", "amount", "company"}) {
        if (diff.detail.rfind(field, 0) == 0) mismatch_fields.insert(field);
      }
    }
    if (diff.cls == DifferenceClass::kPending) pending_queues.insert(diff.detail.substr(0, 10));
  }
  EXPECT_EQ(mismatch_fields, (std::set<std::string>{"quantity", "amount", "company"}));
  EXPECT_EQ(pending_queues.size(), 2u) << "outbox and dead-letter queue";

  auto repair = RepairMissing(store->get(), nullptr, *run, /*dry_run=*/true);
  ASSERT_TRUE(repair.ok()) << repair.status().ToString();
  EXPECT_EQ(repair->commands.size(), d->expect_missing);
  EXPECT_TRUE(repair->not_repairable.empty());
  store->reset();
  std::filesystem::remove_all(o.dir);
}

}  // namespace
}  // namespace ordersync
