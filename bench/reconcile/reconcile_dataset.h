// ReconcileDataset: a data directory holding N acknowledged ERP postings of one target,
// produced the real way, and the ERP's export of them with a known set of planted
// differences — the input of the reconcile benchmark (bench/reconcile/reconcile_bench.cc)
// and of its smoke test (reconcile_dataset_test.cc).
//
// How it is made: generated order lifecycles (adapters/producer/lifecycle_generator.h)
// go through an in-process Engine on RocksDB; an OutboxListener plays the ERP and the
// dispatcher: it posts each command handed over (document "DOC-<n>", quantity and amount
// summed from the command's lines as the ERP simulator does) and answers it with a Posted
// CommandNote through Engine::SubmitNotes. A few commands are never answered (they stay
// in the outbox) and a few are dead-lettered as the dispatcher does (a dead-letter record
// plus a CommandDeadLettered note): both are `pending`. The export (CSV, the ERP
// simulator's format, erp_sim_export.h) then holds every posted document except
// `planted` of them (missing_in_erp), plus `planted` second documents of a posted
// command and `planted` documents with never-issued ordersync ids (unknown_to_ordersync),
// `planted` documents each with another quantity, amount and company (3 x planted
// mismatch), and `planted` documents of another system (foreign, counted only).
//
// The period is [first acknowledgement - 1 day, last + 1 day): every posting is in it.
// `<dir>/dataset.json` is written last; LoadReconcileDataset reads it back, so a complete
// directory is reused by later runs.
//
// Thread-safety: PrepareReconcileDataset runs an engine; call it from one thread.
#pragma once

#include <cstdint>
#include <string>

#include "adapters/reconcile/reconciler.h"
#include "engine/status.h"

namespace ordersync {

struct ReconcileDatasetOptions {
  // Where: <dir>/data (the data dir), <dir>/erp-export.csv, <dir>/dataset.json. Removed first.
  std::string dir;
  // Acknowledged postings to produce (at least: whole orders are fed). Default 1 M.
  uint64_t postings = 1'000'000;
  // Differences planted per kind (see above). Default 10.
  uint32_t planted = 10;
  uint64_t seed = 1;
  // Engine workers while preparing. Default 2 (this machine's cores).
  uint32_t workers = 2;
};

struct ReconcileDataset {
  std::string dir;
  std::string data_dir;
  std::string export_path;
  std::string target = "erp";
  int64_t from_ns = 0;  // the period, [from, to)
  int64_t to_ns = 0;
  uint64_t events = 0;        // fed to the engine
  uint64_t commands = 0;      // issued to the target
  uint64_t export_lines = 0;  // documents in the export
  double prepare_seconds = 0;
  // What a reconcile of the period must report.
  uint64_t expect_acknowledged = 0;
  uint64_t expect_matched = 0;
  uint64_t expect_missing = 0;
  uint64_t expect_unknown = 0;
  uint64_t expect_mismatch = 0;
  uint64_t expect_pending = 0;
  uint64_t expect_foreign = 0;
};

// Builds the dataset in options.dir (minutes for 1 M postings).
Result<ReconcileDataset> PrepareReconcileDataset(const ReconcileDatasetOptions& options);

// The dataset of a complete directory; NotFound when it has no dataset.json.
Result<ReconcileDataset> LoadReconcileDataset(const std::string& dir);

// The dataset in `options.dir` if it is complete and was made with the same options,
// else prepares it.
Result<ReconcileDataset> OpenOrPrepareReconcileDataset(const ReconcileDatasetOptions& options);

// OK when `report` has exactly the dataset's expected counts; else InvalidArgument
// listing each count that differs.
Status CheckReconcileReport(const ReconcileDataset& dataset, const ReconcileReport& report);

}  // namespace ordersync
