// fault_checker: the accounting half of the fault suite (bench/faults/run), in the spirit
// of Jepsen's queue checker. After a run it reads, read-only:
//  - the producers' event logs (`ordersync loadgen --event-log`): what was sent and the
//    final answer each event got;
//  - the engine's durable state (RocksDB, opened read-only after `serve` stopped): whether
//    each event was recorded (engine/event_lookup.h: the order's seen ids or the dedup
//    table — every event the engine made durable, applied, parked, excepted or recognised
//    as a business duplicate), the journal (every event processed, what was applied,
//    which commands were issued), the outbox (what is left undispatched) and the quarantine;
//  - the ERP simulator's ledger (one line per posting).
// and accounts for every event and every expected ERP posting:
//
//   events   acked (Accepted/Duplicate) and in state: ok;   acked, not in state: lost
//            sent, never acked, in state: recovered;
//            in the journal, sent by no logged producer: unexpected
//            one business fact applied more than once (journal): duplicated
//            a malformed/mutated frame not Rejected, or a valid one Rejected: wrong_verdict
//   postings expected (see below): posted once | missing | posted twice;
//            in the ledger but not expected: unexpected_postings;
//            an order whose order_cmd_seq does not increase along the ledger: order_violations
//            a posting whose order_cmd_seq differs from the expected one: seq_mismatches
//
// Expected postings (--reference): the orders are regenerated from the event log's header
// (LoadgenGeneratorOptions) and every event the engine should have — acked or recovered —
// is replayed in business order through a fresh in-process Engine on a temp RocksDB
// (tests/support EngineHarness); its outbox is the expected set. This is independent of
// the run under test: the reference never saw the faults, the delivery order or the crashes.
// Without --reference, the journal's CommandIssued entries are the expected set (which
// checks the dispatcher, not the engine).
//
// Usage: fault_checker --data-dir DIR --events FILE [--events FILE ...] [--ledger FILE]
//                      [--partitions N (engine.partitions of the run; default 64)]
//                      [--reference] [--json OUT]
// Prints one JSON object; exits 0 when nothing was lost, duplicated, unexpected, wrongly
// answered, missing, posted twice, out of order or left in the outbox; 1 otherwise; 2 on
// a usage or I/O error.
//
// Thread-safety: a single-threaded program.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "adapters/ingress/loadgen.h"
#include "adapters/ingress/quarantine_store.h"
#include "adapters/producer/lifecycle_generator.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/clock.h"
#include "engine/event_lookup.h"
#include "engine/flatbuffer_record.h"
#include "engine/journal.h"
#include "storage_generated.h"
#include "tests/support/engine_harness.h"

namespace ordersync {
namespace {

struct LoggedEvent {
  std::string event_id, order_id, fact_id, kind, status, reason;
  bool valid() const { return kind == "original" || kind == "exact_dup" || kind == "business_dup"; }
  bool acked() const { return status == "accepted" || status == "duplicate"; }
};

struct EventLog {
  std::string path;
  uint64_t seed = 1;
  uint32_t producers = 0;
  std::string order_prefix;
  double same_day = 0.1;
  std::vector<LoggedEvent> events;
};

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "fault_checker: " << message << "\n";
  std::exit(2);
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}

// Format: see LoadgenOptions::event_log_path.
EventLog ReadEventLog(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read event log " + path);
  EventLog log;
  log.path = path;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# loadgen ", 0) == 0) {
      std::istringstream words(line.substr(10));
      std::string w;
      while (words >> w) {
        const size_t eq = w.find('=');
        if (eq == std::string::npos) continue;
        const std::string k = w.substr(0, eq), v = w.substr(eq + 1);
        if (k == "seed") log.seed = std::stoull(v);
        if (k == "producers") log.producers = static_cast<uint32_t>(std::stoul(v));
        if (k == "order_prefix") log.order_prefix = v;
        if (k == "same_day") log.same_day = std::stod(v);
      }
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = Split(line, '\t');
    if (f.size() != 6) Die(path + ": malformed line: " + line);
    log.events.push_back({f[0], f[1], f[2], f[3], f[4], f[5]});
  }
  return log;
}

struct LedgerLine {
  std::string command_id, order_id;
  uint64_t order_cmd_seq = 0;
};

// Format: see ErpSimulator (posted_at_ns document_id command_id order_id order_cmd_seq kind target).
std::vector<LedgerLine> ReadLedger(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read ledger " + path);
  std::vector<LedgerLine> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f = Split(line, '\t');
    if (f.size() < 7) Die(path + ": malformed ledger line: " + line);
    out.push_back({f[2], f[3], std::stoull(f[4])});
  }
  return out;
}

// What the engine's store holds after the run.
struct DurableState {
  std::unique_ptr<RocksDbStore> store;
  std::unordered_set<std::string> event_ids;                   // events in the journal
  std::unordered_map<std::string, int> applied;                // event_id -> times applied (journal)
  std::unordered_map<std::string, int> issued;                 // command_id -> CommandIssued entries
  std::unordered_map<std::string, uint64_t> issued_seq;        // command_id -> order_cmd_seq
  uint64_t outbox_left = 0;
  QuarantineCounters quarantine;
  std::map<std::string, uint64_t> quarantine_by_reason;
};

DurableState ReadState(const std::string& data_dir) {
  StorageOptions so;
  so.data_dir = data_dir;
  Result<std::unique_ptr<RocksDbStore>> opened = RocksDbStore::OpenReadOnly(so);
  if (!opened.ok()) Die("cannot open " + data_dir + " read-only: " + opened.status().ToString());
  DurableState s;
  s.store = std::move(opened).value();
  RocksDbStore& store = *s.store;
  auto scan = [&](Table table, const auto& fn) {
    auto it = store.NewIterator(table, "", "");
    for (; it->Valid(); it->Next()) fn(it->key(), it->value());
    if (!it->status().ok()) Die("scanning " + std::string(TableName(table)) + ": " + it->status().ToString());
  };
  std::string scratch;
  scan(Table::kJournal, [&](std::string_view, std::string_view value) {
    if (value.size() <= 8) return;
    const bool whole = ForEachJournalEntry(value.substr(8), [&](const JournalEntryView& j) {
      const bool applied = j.outcome == "applied";
      switch (j.kind) {
        case storage::JournalKind::EventReceived:
          s.event_ids.insert(std::string(j.event_id));
          [[fallthrough]];
        case storage::JournalKind::EventResolved:
          if (applied) ++s.applied[std::string(j.event_id)];
          for (const JournalCommandView& c : j.commands) {  // the commands the event issued
            const std::string id(c.command_id);
            ++s.issued[id];
            s.issued_seq[id] = c.order_cmd_seq;
          }
          break;
        case storage::JournalKind::CommandIssued: {  // written by older versions
          const std::string id(j.command_id);
          ++s.issued[id];
          s.issued_seq[id] = j.order_cmd_seq;
          break;
        }
        default: break;
      }
    });
    if (!whole) Die("an unreadable journal entry");
  });
  scan(Table::kOutbox, [&](std::string_view, std::string_view) { ++s.outbox_left; });
  if (Status st = ReadQuarantineCounters(&store, &s.quarantine); !st.ok()) Die("quarantine: " + st.ToString());
  std::vector<QuarantineEntry> entries;
  if (Status st = ListQuarantine(&store, 0, 0, &entries); !st.ok()) Die("quarantine: " + st.ToString());
  for (const QuarantineEntry& e : entries) ++s.quarantine_by_reason[e.reason];
  return s;
}

// Expected commands (command_id -> order_cmd_seq) by replaying, in business order, every
// event of `logs` the engine should hold (`should_have`) through a fresh engine.
std::map<std::string, uint64_t> ReferenceCommands(const std::vector<EventLog>& logs,
                                                 const std::unordered_set<std::string>& should_have) {
  std::vector<EnvelopeSpec> feed;
  for (const EventLog& log : logs) {
    if (log.producers == 0) continue;  // not a loadgen log with a header
    std::map<uint32_t, std::unordered_set<std::string>> wanted;  // producer -> order ids
    for (const LoggedEvent& e : log.events) {
      if (!e.valid() || !should_have.count(e.event_id)) continue;
      const std::string head = log.order_prefix + "P";
      if (e.order_id.rfind(head, 0) != 0) continue;
      wanted[static_cast<uint32_t>(std::stoul(e.order_id.substr(head.size())))].insert(e.order_id);
    }
    for (auto& [producer, orders] : wanted) {
      LoadgenOptions lo;
      lo.seed = log.seed;
      lo.order_prefix = log.order_prefix;
      lo.same_day_share = log.same_day;
      LifecycleGenerator generator(LoadgenGeneratorOptions(lo, producer));
      size_t found = 0, generated = 0;
      const size_t limit = orders.size() * 4 + 100000;
      while (found < orders.size()) {
        if (++generated > limit) Die("cannot regenerate the orders of " + log.path + " (seed/prefix mismatch?)");
        GeneratedOrder order = generator.Next();
        if (!orders.count(order.order_id)) continue;
        ++found;
        for (const EnvelopeSpec& spec : order.events) {
          if (should_have.count(spec.event_id)) feed.push_back(spec);
          if (should_have.count(spec.event_id + "-dup")) {
            EnvelopeSpec again = spec;
            again.event_id += "-dup";
            feed.push_back(std::move(again));
          }
        }
      }
    }
  }
  testing::EngineHarness reference;
  reference.SendAll(feed);
  std::map<std::string, uint64_t> out;
  for (const testing::OutboxCommand& c : reference.Outbox()) out[c.command_id] = c.order_cmd_seq;
  return out;
}

int Run(int argc, char** argv) {
  std::string data_dir, ledger_path, json_path;
  std::vector<std::string> event_paths;
  bool reference = false;
  uint32_t partitions = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--data-dir") data_dir = value();
    else if (a == "--events") event_paths.push_back(value());
    else if (a == "--ledger") ledger_path = value();
    else if (a == "--json") json_path = value();
    else if (a == "--reference") reference = true;
    else if (a == "--partitions") partitions = static_cast<uint32_t>(std::stoul(value()));
    else Die("unknown argument " + a + " (see the header of tests/faults/fault_checker.cc)");
  }
  if (data_dir.empty() || event_paths.empty()) Die("usage: fault_checker --data-dir DIR --events FILE ... [--ledger FILE] [--reference] [--json OUT]");

  std::vector<EventLog> logs;
  for (const std::string& p : event_paths) logs.push_back(ReadEventLog(p));
  const DurableState state = ReadState(data_dir);
  const int64_t now_ns = SystemClock().NowNanos();
  auto recorded = [&](const LoggedEvent& e) {
    bool r = false;
    if (Status st = EventRecorded(state.store.get(), partitions, e.order_id, e.event_id, now_ns, &r); !st.ok()) {
      Die("looking up " + e.event_id + ": " + st.ToString());
    }
    return r;
  };

  // 1. Events.
  uint64_t valid_sent = 0, acked = 0, ok = 0, lost = 0, recovered = 0, unacked_absent = 0, wrong_verdict = 0;
  uint64_t malformed_sent = 0, malformed_rejected = 0;
  std::map<std::string, uint64_t> expected_rejections;  // reason -> frames answered Rejected
  std::map<std::string, uint64_t> mutated_by_kind;
  std::unordered_set<std::string> sent_ids, should_have;
  std::unordered_map<std::string, std::string> fact_of;  // event_id -> fact key
  std::vector<std::string> lost_examples;
  std::ostringstream per_log;
  for (const EventLog& log : logs) {
    uint64_t log_sent = 0, log_acked = 0, log_in_state = 0;
    for (const LoggedEvent& e : log.events) {
      sent_ids.insert(e.event_id);
      if (!e.valid()) {
        ++malformed_sent;
        if (e.kind.rfind("mutated:", 0) == 0) ++mutated_by_kind[e.kind.substr(8)];
        if (e.status == "rejected") {
          ++malformed_rejected;
          ++expected_rejections[e.reason];
        } else if (e.status != "unanswered" && e.status != "pushed") {
          ++wrong_verdict;
        }
        continue;
      }
      ++valid_sent;
      ++log_sent;
      fact_of[e.event_id] = e.order_id + "\t" + e.fact_id;
      const bool present = recorded(e);
      log_in_state += present;
      if (e.status == "rejected") ++wrong_verdict;
      if (e.acked()) {
        ++acked;
        ++log_acked;
        if (present) {
          ++ok;
          should_have.insert(e.event_id);
        } else {
          ++lost;
          if (lost_examples.size() < 5) lost_examples.push_back(e.event_id);
        }
      } else if (present) {
        ++recovered;
        should_have.insert(e.event_id);
      } else {
        ++unacked_absent;
      }
    }
    per_log << (per_log.tellp() > 0 ? "," : "") << "{\"file\":\"" << log.path << "\",\"valid_sent\":" << log_sent
            << ",\"acked\":" << log_acked << ",\"in_state\":" << log_in_state << "}";
  }
  // Exact duplicates share an event_id: count each event_id once from here on.
  uint64_t unexpected = 0;
  for (const std::string& id : state.event_ids) unexpected += sent_ids.count(id) == 0;
  std::unordered_map<std::string, int> applied_per_fact;
  for (const auto& [event_id, times] : state.applied) {
    auto f = fact_of.find(event_id);
    applied_per_fact[f != fact_of.end() ? f->second : "?" + event_id] += times;
  }
  uint64_t duplicated = 0;
  for (const auto& [fact, times] : applied_per_fact) duplicated += times > 1;
  uint64_t issued_twice = 0;
  for (const auto& [id, times] : state.issued) issued_twice += times > 1;

  // 2. ERP postings.
  std::map<std::string, uint64_t> expected;
  if (reference) {
    expected = ReferenceCommands(logs, should_have);
  } else {
    for (const auto& [id, seq] : state.issued_seq) expected[id] = seq;
  }
  uint64_t journal_not_expected = 0, expected_not_journal = 0;
  for (const auto& [id, seq] : state.issued_seq) journal_not_expected += expected.count(id) == 0;
  for (const auto& [id, seq] : expected) expected_not_journal += state.issued_seq.count(id) == 0;
  uint64_t postings = 0, posted_once = 0, missing = 0, posted_twice = 0, unexpected_postings = 0;
  uint64_t order_violations = 0, seq_mismatches = 0;
  std::string first_erp_problem;
  if (!ledger_path.empty()) {
    const std::vector<LedgerLine> ledger = ReadLedger(ledger_path);
    postings = ledger.size();
    std::unordered_map<std::string, uint64_t> times;
    std::unordered_map<std::string, uint64_t> last_seq;
    std::unordered_set<std::string> bad_orders;
    for (const LedgerLine& l : ledger) {
      ++times[l.command_id];
      auto want = expected.find(l.command_id);
      if (want == expected.end()) {
        ++unexpected_postings;
        if (first_erp_problem.empty()) first_erp_problem = "unexpected posting " + l.command_id;
      } else if (want->second != l.order_cmd_seq) {
        ++seq_mismatches;
        if (first_erp_problem.empty()) first_erp_problem = "order_cmd_seq mismatch on " + l.command_id;
      }
      uint64_t& last = last_seq[l.order_id];
      if (l.order_cmd_seq <= last && bad_orders.insert(l.order_id).second) {
        ++order_violations;
        if (first_erp_problem.empty()) first_erp_problem = "order " + l.order_id + " posted out of order";
      }
      last = std::max(last, l.order_cmd_seq);
    }
    for (const auto& [id, seq] : expected) {
      auto t = times.find(id);
      const uint64_t n = t == times.end() ? 0 : t->second;
      if (n == 0) {
        ++missing;
        if (first_erp_problem.empty()) first_erp_problem = "missing posting " + id;
      } else if (n == 1) {
        ++posted_once;
      } else {
        ++posted_twice;
        if (first_erp_problem.empty()) first_erp_problem = "posted twice " + id;
      }
    }
  }

  // 3. Quarantine vs the Rejected answers.
  uint64_t quarantine_mismatches = 0;
  std::set<std::string> reasons;
  for (const auto& [r, n] : expected_rejections) reasons.insert(r);
  for (const auto& [r, n] : state.quarantine_by_reason) reasons.insert(r);
  std::ostringstream by_reason;
  for (const std::string& r : reasons) {
    const uint64_t want = expected_rejections.count(r) ? expected_rejections.at(r) : 0;
    const uint64_t got = state.quarantine_by_reason.count(r) ? state.quarantine_by_reason.at(r) : 0;
    quarantine_mismatches += want != got;
    by_reason << (by_reason.tellp() > 0 ? "," : "") << "\"" << r << "\":{\"answered\":" << want
              << ",\"quarantined\":" << got << "}";
  }
  std::ostringstream mutated;
  for (const auto& [k, n] : mutated_by_kind) mutated << (mutated.tellp() > 0 ? "," : "") << "\"" << k << "\":" << n;

  const uint64_t failures = lost + duplicated + unexpected + wrong_verdict + issued_twice + missing + posted_twice +
                            unexpected_postings + order_violations + seq_mismatches +
                            (ledger_path.empty() ? 0 : state.outbox_left);
  std::ostringstream j;
  j << "{\"events\":{\"valid_sent\":" << valid_sent << ",\"acked\":" << acked << ",\"ok\":" << ok
    << ",\"lost\":" << lost << ",\"duplicated\":" << duplicated << ",\"unexpected\":" << unexpected
    << ",\"recovered\":" << recovered << ",\"unacked_absent\":" << unacked_absent
    << ",\"wrong_verdict\":" << wrong_verdict << ",\"in_journal\":" << state.event_ids.size()
    << ",\"malformed_sent\":" << malformed_sent << ",\"malformed_rejected\":" << malformed_rejected
    << ",\"mutated_by_kind\":{" << mutated.str() << "}";
  j << ",\"lost_examples\":[";
  for (size_t i = 0; i < lost_examples.size(); ++i) j << (i ? "," : "") << "\"" << lost_examples[i] << "\"";
  j << "]},\"per_log\":[" << per_log.str() << "]";
  j << ",\"erp\":{\"expected_from\":\"" << (reference ? "reference_engine" : "journal") << "\",\"expected\":"
    << expected.size() << ",\"postings\":" << postings << ",\"posted_once\":" << posted_once
    << ",\"missing\":" << missing << ",\"posted_twice\":" << posted_twice
    << ",\"unexpected_postings\":" << unexpected_postings << ",\"order_violations\":" << order_violations
    << ",\"seq_mismatches\":" << seq_mismatches << ",\"issued_in_journal\":" << state.issued.size()
    << ",\"issued_twice\":" << issued_twice << ",\"journal_not_expected\":" << journal_not_expected
    << ",\"expected_not_in_journal\":" << expected_not_journal << ",\"outbox_left\":" << state.outbox_left
    << ",\"first_problem\":\"" << first_erp_problem << "\"}";
  j << ",\"quarantine\":{\"count\":" << state.quarantine.count << ",\"dropped\":" << state.quarantine.dropped
    << ",\"mismatches\":" << quarantine_mismatches << ",\"by_reason\":{" << by_reason.str() << "}}";
  j << ",\"failures\":" << failures << "}";
  std::cout << j.str() << "\n";
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << j.str() << "\n";
    if (!out) Die("cannot write " + json_path);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace ordersync

int main(int argc, char** argv) { return ordersync::Run(argc, argv); }
