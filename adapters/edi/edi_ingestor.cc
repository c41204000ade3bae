#include "adapters/edi/edi_ingestor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "adapters/ingress/result_countdown.h"

namespace ordersync {
namespace {

constexpr auto kBusyRetry = std::chrono::milliseconds(20);
constexpr int kStoreErrorRounds = 5;

// Collects the engine's results for one file's events: workers write distinct slots, then
// count down (ResultCountdown orders the slot writes before the waiter's reads).
class FileResults final : public ResultSink {
 public:
  explicit FileResults(size_t n) : outcomes_(n), reasons_(n) {}
  void OnEventResult(uint64_t cookie, const EventReport& result) override {
    outcomes_[cookie] = result.outcome;
    reasons_[cookie].assign(result.reason);
    countdown_.Done();
  }
  void Expect(size_t n) { countdown_.Add(n); }
  void Cancel(size_t n) { countdown_.Cancel(n); }
  void Wait() { countdown_.Wait(); }
  EventOutcome outcome(size_t i) const { return outcomes_[i]; }
  const std::string& reason(size_t i) const { return reasons_[i]; }

 private:
  std::vector<EventOutcome> outcomes_;
  std::vector<std::string> reasons_;
  ResultCountdown countdown_;
};

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view text) {
  const std::filesystem::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot write " + tmp.string() + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return Status::OK();
}

}  // namespace

EdiIngestor::EdiIngestor(const EdiOptions& partners, const EdiIngressOptions& options,
                         const ValidatorOptions& validation, EventIntake* intake, QuarantineWriter* quarantine,
                         const Clock* clock)
    : partners_(partners),
      options_(options),
      validation_(validation),
      intake_(intake),
      quarantine_(quarantine),
      clock_(clock) {}

Result<std::unique_ptr<EdiIngestor>> EdiIngestor::Create(const EdiOptions& partners, const EdiIngressOptions& options,
                                                         const ValidatorOptions& validation, EventIntake* intake,
                                                         QuarantineWriter* quarantine, const Clock* clock) {
  std::unique_ptr<EdiIngestor> ingestor(new EdiIngestor(partners, options, validation, intake, quarantine, clock));
  if (options.functional_acks) {
    if (options.outbox_dir.empty()) {
      return Status::InvalidArgument("ingress.edi.outbox_dir must be set to write 997 acknowledgements");
    }
    std::error_code ec;
    std::filesystem::create_directories(options.outbox_dir, ec);
    if (ec) return Status::IOError("cannot create ingress.edi.outbox_dir " + options.outbox_dir + ": " + ec.message());
    ingestor->control_numbers_ =
        std::make_unique<ControlNumbers>((std::filesystem::path(options.outbox_dir) / ".997-control-number").string());
  }
  return ingestor;
}

Result<EdiFileReport> EdiIngestor::Ingest(const std::string& file_name, std::string_view content) {
  EdiFileReport report;
  report.file_name = file_name;
  EdiAnalysis analysis;
  if (content.size() > options_.max_file_bytes) {
    analysis.doc = std::make_unique<X12Document>();
    analysis.any_rejected = true;
    analysis.rejected.push_back({"edi_file_too_large",
                                 std::to_string(content.size()) + " bytes; ingress.edi.max_file_bytes is " +
                                     std::to_string(options_.max_file_bytes),
                                 "", "", content.substr(0, 64 * 1024)});
  } else {
    analysis = AnalyzeX12(content, partners_, options_.accept_unknown_partners, validation_);
  }
  report.interchanges = analysis.doc->interchanges.size();
  report.any_rejected = analysis.any_rejected;
  for (const EdiRejectedPart& part : analysis.rejected) {
    if (part.key.rfind("edi:", 0) != 0) report.file_faults.push_back(part.reason + " (" + part.description + ")");
  }
  ORDERSYNC_RETURN_IF_ERROR(SubmitAndWait(&analysis, &report));
  ORDERSYNC_RETURN_IF_ERROR(Quarantine(file_name, analysis));
  ORDERSYNC_RETURN_IF_ERROR(WriteAcks(analysis, &report));
  stats_.files.fetch_add(1, std::memory_order_relaxed);
  if (report.any_rejected) stats_.files_rejected.fetch_add(1, std::memory_order_relaxed);
  stats_.sets.fetch_add(report.sets, std::memory_order_relaxed);
  stats_.sets_rejected.fetch_add(report.sets_rejected, std::memory_order_relaxed);
  stats_.events.fetch_add(report.events, std::memory_order_relaxed);
  stats_.accepted.fetch_add(report.accepted, std::memory_order_relaxed);
  stats_.duplicate.fetch_add(report.duplicate, std::memory_order_relaxed);
  return report;
}

Status EdiIngestor::SubmitAndWait(EdiAnalysis* analysis, EdiFileReport* report) {
  // Flatten the events in file order.
  std::vector<EdiEvent*> events;
  for (EdiSetResult& r : analysis->sets) {
    for (EdiEvent& e : r.events) events.push_back(&e);
  }
  FileResults results(events.size());
  std::vector<size_t> todo(events.size());
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  for (int round = 0; !todo.empty(); ++round) {
    for (size_t i : todo) {
      results.Expect(1);
      while (true) {
        InboundEvent in;
        in.bytes = EventBuffer::Copy(events[i]->bytes);
        in.received_at_ns = clock_->NowNanos();
        in.sink = &results;
        in.cookie = i;
        const Status s = intake_->Submit(std::move(in), nullptr);
        if (s.ok()) break;
        if (!s.IsBusy()) {
          results.Cancel(1);
          results.Wait();  // the events already submitted still report into `results`
          return Status::Unavailable("edi: the intake does not take events: " + s.ToString());
        }
        std::this_thread::sleep_for(kBusyRetry);
      }
    }
    results.Wait();
    std::vector<size_t> again;
    for (size_t i : todo) {
      if (results.outcome(i) == EventOutcome::kStoreError) again.push_back(i);
    }
    if (!again.empty() && round + 1 >= kStoreErrorRounds) {
      return Status::IOError("edi: the store refused " + std::to_string(again.size()) + " events " +
                             std::to_string(kStoreErrorRounds) + " times");
    }
    todo.swap(again);
    if (!todo.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  size_t index = 0;
  for (const EdiSetResult& r : analysis->sets) {
    EdiFileReport::Set s;
    s.key = r.key;
    s.set_id = r.set_id;
    s.partner = r.partner;
    s.verdict = !r.fault.ok() ? "rejected" : !r.review.empty() ? "review" : "accepted";
    s.reason = !r.fault.ok() ? r.fault.reason : r.review.empty() ? "" : "edi_review:" + r.set_id;
    s.description = !r.fault.ok() ? r.fault.description : r.review;
    ++report->sets;
    if (!r.fault.ok()) ++report->sets_rejected;
    if (!r.review.empty()) ++report->sets_review;
    for (const EdiEvent& e : r.events) {
      EdiFileReport::Event ev;
      ev.event_id = e.spec.event_id;
      ev.kind = EnumNameMilestone(e.spec.kind);
      ev.order_id = e.spec.order_id;
      const EventOutcome o = results.outcome(index);
      ev.status = (o == EventOutcome::kDuplicateExact || o == EventOutcome::kDuplicateBusiness) ? "Duplicate" : "Accepted";
      ev.reason = std::string(EventOutcomeName(o));
      if (!results.reason(index).empty()) ev.reason += ":" + results.reason(index);
      if (ev.status == "Duplicate") ++report->duplicate;
      else ++report->accepted;
      ++report->events;
      ++index;
      s.events.push_back(std::move(ev));
    }
    report->set_reports.push_back(std::move(s));
  }
  return Status::OK();
}

Status EdiIngestor::Quarantine(const std::string& file_name, const EdiAnalysis& analysis) {
  if (analysis.rejected.empty()) return Status::OK();
  std::vector<QuarantineInput> inputs;
  const int64_t now = clock_->NowNanos();
  for (const EdiRejectedPart& part : analysis.rejected) {
    const std::string_view family = std::string_view(part.reason).substr(0, part.reason.find(':'));
    size_t index = kEdiReasonFamilies.size() - 1;
    for (size_t i = 0; i < kEdiReasonFamilies.size(); ++i) {
      if (kEdiReasonFamilies[i] == family) index = i;
    }
    stats_.rejected_by_family[index].fetch_add(1, std::memory_order_relaxed);
    QuarantineInput q;
    q.received_at_ns = now;
    q.endpoint = "edi";
    q.reason = part.reason;
    q.description = part.description;
    q.source = part.partner;
    q.event_id = part.key;
    q.frame = part.text;
    q.file_name = file_name;
    inputs.push_back(q);
  }
  if (quarantine_ == nullptr) return Status::OK();
  QuarantineWriter::WriteResult written;
  ORDERSYNC_RETURN_IF_ERROR(quarantine_->Write(inputs, &written));
  stats_.quarantined.fetch_add(written.written, std::memory_order_relaxed);
  return Status::OK();
}

Status EdiIngestor::WriteAcks(const EdiAnalysis& analysis, EdiFileReport* report) {
  if (!options_.functional_acks || control_numbers_ == nullptr) return Status::OK();
  const X12Document& doc = *analysis.doc;
  size_t set_index = 0;
  for (size_t xi = 0; xi < doc.interchanges.size(); ++xi) {
    const X12Interchange& x = doc.interchanges[xi];
    const EdiPartnerProfile* partner = analysis.partners[xi];
    for (const X12Group& g : x.groups) {
      std::vector<X12Fault> faults;
      for (size_t si = 0; si < g.sets.size(); ++si) faults.push_back(analysis.sets[set_index++].fault);
      if (partner == nullptr) continue;  // nobody to acknowledge to
      // A broken interchange or group rejects the group (AK9*R); its sets carry their own codes.
      X12Fault group_fault = !analysis.interchange_faults[xi].ok() ? analysis.interchange_faults[xi] : g.fault;
      if (!group_fault.ok()) {
        for (size_t si = 0; si < faults.size(); ++si) {
          if (!g.sets[si].fault.ok()) faults[si] = g.sets[si].fault;
          else faults[si] = X12Fault{};
        }
      }
      Result<uint64_t> control = control_numbers_->Next();
      if (!control.ok()) return control.status();
      const std::string text = Build997(x, g, faults, group_fault, *control, clock_->NowNanos());
      const std::filesystem::path dir = std::filesystem::path(options_.outbox_dir) / partner->name;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return Status::IOError("cannot create " + dir.string() + ": " + ec.message());
      char name[32];
      std::snprintf(name, sizeof(name), "997-%09llu.edi", static_cast<unsigned long long>(*control));
      ORDERSYNC_RETURN_IF_ERROR(WriteFileAtomically(dir / name, text));
      report->acks_written.push_back((dir / name).string());
      stats_.acks_written.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return Status::OK();
}

}  // namespace ordersync
