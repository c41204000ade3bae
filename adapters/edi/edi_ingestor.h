// EdiIngestor: takes one X12 file all the way in: analyses it (edi_analysis.h), submits
// every mapped event through EventIntake::Submit (the Engine, or in cluster mode the
// ClusterFrontDoor; in file order; Busy is retried), waits until each has its result —
// i.e. is durable (in cluster mode: kLogged, in the replicated log) — then quarantines
// the rejected parts (reason, partner, file name) and writes one 997 per received group to
// <outbox_dir>/<partner>/997-<control>.edi. Only then does Ingest return, so a caller
// that moves the file afterwards (InboxWatcher) never loses a fact: a crash before the
// move replays the file, and the engine answers its events Duplicate.
//
// Thread-safety: Ingest may be called from several threads at once (the inbox watcher and
// the admin endpoint's `edi.ingest`); the intake, quarantine writer and control numbers
// are shared safely. REQUIRES: the intake, quarantine writer and clock outlive it.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "adapters/edi/edi_analysis.h"
#include "adapters/edi/edi_options.h"
#include "adapters/edi/functional_ack.h"
#include "adapters/ingress/quarantine_store.h"
#include "engine/clock.h"
#include "engine/event_intake.h"
#include "engine/status.h"

namespace ordersync {

// What happened to one file.
struct EdiFileReport {
  std::string file_name;
  size_t interchanges = 0, sets = 0, sets_rejected = 0, sets_review = 0;
  size_t events = 0, accepted = 0, duplicate = 0;
  bool any_rejected = false;
  std::vector<std::string> acks_written;  // 997 file paths
  // One line per set: key, set id, verdict ("accepted", "rejected <reason>", "review"),
  // and per event its id, kind, order and engine outcome.
  struct Event {
    std::string event_id, kind, order_id, status, reason;
  };
  struct Set {
    std::string key, set_id, partner, verdict, reason, description;
    std::vector<Event> events;
  };
  std::vector<Set> set_reports;
  std::vector<std::string> file_faults;  // file-level / interchange / group reasons
};

// The families of EDI reason codes (the part before ':'), the label set of the rejected
// counter: fixed, so a partner cannot grow the label cardinality.
inline constexpr std::array<std::string_view, 16> kEdiReasonFamilies = {
    "edi_missing_segment", "edi_bad_isa",          "edi_bad_segment",       "edi_unexpected_segment",
    "edi_segment_count",   "edi_control_mismatch", "edi_unknown_partner",   "edi_unsupported_set",
    "edi_missing_loop",    "edi_bad_element",      "edi_missing_sku",       "edi_missing_order_ref",
    "edi_invalid_event",   "edi_file_too_large",   "edi_review",            "other"};

struct EdiIngestStats {
  std::atomic<uint64_t> files{0}, files_rejected{0}, sets{0}, sets_rejected{0}, events{0}, accepted{0},
      duplicate{0}, acks_written{0}, quarantined{0};
  // Rejected parts (file, interchange, group or set; and sets for review) by reason family.
  std::array<std::atomic<uint64_t>, kEdiReasonFamilies.size()> rejected_by_family{};
};

class EdiIngestor {
 public:
  static Result<std::unique_ptr<EdiIngestor>> Create(const EdiOptions& partners, const EdiIngressOptions& options,
                                                     const ValidatorOptions& validation, EventIntake* intake,
                                                     QuarantineWriter* quarantine,
                                                     const Clock* clock = SystemClock::Default());

  // Takes `content` (the file's bytes, named `file_name` in reports and the quarantine)
  // in. Returns when every event is durable and the 997s are written. Errors: the engine
  // stopped (Unavailable) or a store/file write failed — the caller keeps the file and
  // tries again later.
  [[nodiscard]] Result<EdiFileReport> Ingest(const std::string& file_name, std::string_view content);

  const EdiIngestStats& stats() const { return stats_; }
  const EdiIngressOptions& options() const { return options_; }

 private:
  EdiIngestor(const EdiOptions& partners, const EdiIngressOptions& options, const ValidatorOptions& validation,
              EventIntake* intake, QuarantineWriter* quarantine, const Clock* clock);
  Status SubmitAndWait(EdiAnalysis* analysis, EdiFileReport* report);
  Status Quarantine(const std::string& file_name, const EdiAnalysis& analysis);
  Status WriteAcks(const EdiAnalysis& analysis, EdiFileReport* report);

  const EdiOptions partners_;
  const EdiIngressOptions options_;
  const ValidatorOptions validation_;
  EventIntake* const intake_;
  QuarantineWriter* const quarantine_;
  const Clock* const clock_;
  std::unique_ptr<ControlNumbers> control_numbers_;
  EdiIngestStats stats_;
};

}  // namespace ordersync
