#include "adapters/erp/exception_queue.h"

#include <algorithm>
#include <future>
#include <thread>

#include "engine/flatbuffer_record.h"
#include "engine/coding.h"
#include "engine/envelope_validator.h"
#include "engine/keys.h"
#include "storage_generated.h"

namespace ordersync {
namespace {

// Waits for each re-driven event's durable outcome.
class PromiseSink final : public ResultSink {
 public:
  explicit PromiseSink(size_t n) : promises_(n) {}
  void OnEventResult(uint64_t cookie, const EventReport& result) override {
    promises_[cookie].set_value({std::string(EventOutcomeName(result.outcome)), std::string(result.reason),
                                 result.outcome != EventOutcome::kStoreError});
  }
  struct Outcome {
    std::string outcome;
    std::string reason;
    bool durable;
  };
  std::future<Outcome> future(size_t i) { return promises_[i].get_future(); }

 private:
  std::vector<std::promise<Outcome>> promises_;
};

constexpr auto kBusyRetryFor = std::chrono::seconds(5);

}  // namespace

bool ExceptionFilter::Matches(const ExceptionInfo& e) const {
  if (!ids.empty() && std::find(ids.begin(), ids.end(), e.id) == ids.end()) return false;
  if (!order_id.empty() && e.order_id != order_id) return false;
  if (!failure_class.empty() && e.failure_class != failure_class) return false;
  return true;
}

Status ListExceptions(StateStore* store, const ExceptionFilter& filter, std::vector<ExceptionInfo>* out) {
  auto it = store->NewIterator(Table::kExceptions, "", "");
  std::string aligned;
  for (; it->Valid(); it->Next()) {
    if (filter.limit > 0 && out->size() >= filter.limit) break;
    if (it->key().size() != 10) continue;
    const auto* r = VerifiedRoot<storage::ExceptionRecord>(it->value(), &aligned);
    if (r == nullptr) {
      return Status::Corruption("unreadable exception record in partition " + std::to_string(PartitionOfKey(it->key())));
    }
    auto str = [](const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); };
    ExceptionInfo e;
    e.partition = PartitionOfKey(it->key());
    e.seq = DecodeBigEndian64(it->key().data() + 2);
    e.id = std::to_string(e.partition) + "/" + std::to_string(e.seq);
    e.order_id = str(r->order_id());
    e.event_id = str(r->event_id());
    e.stage = str(r->stage());
    e.failure_class = str(r->failure_class());
    e.reason = str(r->reason());
    e.recorded_at_ns = r->recorded_at_ns();
    if (r->envelope() != nullptr) {
      e.envelope.assign(reinterpret_cast<const char*>(r->envelope()->data()), r->envelope()->size());
    }
    if (filter.Selective() && !filter.Matches(e)) continue;
    out->push_back(std::move(e));
  }
  return it->status();
}

Result<std::vector<ExceptionReplayResult>> ReplayExceptions(StateStore* store, Engine* engine,
                                                            const ExceptionFilter& filter, Durability durability) {
  if (!filter.Selective()) return Status::InvalidArgument("select exceptions to replay (or all)");
  if (engine == nullptr) {
    return Status::InvalidArgument("exception replay is not available in cluster mode yet (docs/cluster-running.md \"Not yet in cluster mode\")");
  }
  ExceptionFilter unlimited = filter;
  unlimited.limit = 0;
  std::vector<ExceptionInfo> selected;
  ORDERSYNC_RETURN_IF_ERROR(ListExceptions(store, unlimited, &selected));
  std::vector<ExceptionReplayResult> results(selected.size());
  PromiseSink sink(selected.size());
  std::vector<bool> submitted(selected.size(), false);
  for (size_t i = 0; i < selected.size(); ++i) {
    const ExceptionInfo& e = selected[i];
    ExceptionReplayResult& r = results[i];
    r.id = e.id;
    r.order_id = e.order_id;
    r.event_id = e.event_id;
    InboundEvent ev;
    ev.bytes = EventBuffer::Copy(e.envelope);
    const Envelope* envelope = nullptr;
    Rejection rejection =
        ValidateEnvelope(ev.bytes.data(), ev.bytes.size(), engine->options().validation, &envelope);
    if (!rejection.ok()) {
      r.outcome = "invalid:" + rejection.ToString();
      continue;
    }
    ev.replay = true;
    ev.sink = &sink;
    ev.cookie = i;
    const auto give_up = std::chrono::steady_clock::now() + kBusyRetryFor;
    Status s;
    while ((s = engine->Submit(std::move(ev))).IsBusy() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!s.ok()) {
      r.outcome = s.IsBusy() ? "busy" : "error";
      r.reason = s.ToString();
      continue;
    }
    submitted[i] = true;
  }
  std::unique_ptr<StoreBatch> batch = store->NewBatch();
  std::string key;
  for (size_t i = 0; i < selected.size(); ++i) {
    if (!submitted[i]) continue;
    PromiseSink::Outcome o = sink.future(i).get();
    results[i].outcome = o.outcome;
    results[i].reason = o.reason;
    if (o.durable) {
      SeqKey(&key, selected[i].partition, selected[i].seq);
      batch->Delete(Table::kExceptions, key);
      results[i].removed = true;
    }
  }
  if (batch->Count() > 0) {
    Status s = store->Write(batch.get(), durability);
    if (!s.ok()) {
      for (auto& r : results) r.removed = false;
      return Status::IOError("re-driven, but removing the old exception records failed: " + s.ToString());
    }
  }
  return results;
}

nlohmann::json ExceptionJson(const ExceptionInfo& e) {
  return {{"id", e.id},       {"order_id", e.order_id},           {"event_id", e.event_id},
          {"stage", e.stage}, {"failure_class", e.failure_class}, {"reason", e.reason},
          {"recorded_at_ns", e.recorded_at_ns}};
}

nlohmann::json ExceptionFilterToJson(const ExceptionFilter& f) {
  nlohmann::json j = nlohmann::json::object();
  if (!f.ids.empty()) j["ids"] = f.ids;
  if (!f.order_id.empty()) j["order"] = f.order_id;
  if (!f.failure_class.empty()) j["class"] = f.failure_class;
  if (f.all) j["all"] = true;
  if (f.limit > 0) j["limit"] = f.limit;
  return j;
}

ExceptionFilter ExceptionFilterFromJson(const nlohmann::json& a) {
  ExceptionFilter f;
  if (a.contains("ids")) f.ids = a["ids"].get<std::vector<std::string>>();
  f.order_id = a.value("order", std::string());
  f.failure_class = a.value("class", std::string());
  f.all = a.value("all", false);
  f.limit = a.value("limit", size_t{0});
  return f;
}

nlohmann::json ExceptionReplayJson(const std::vector<ExceptionReplayResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    out.push_back({{"id", r.id},
                   {"order_id", r.order_id},
                   {"event_id", r.event_id},
                   {"outcome", r.outcome},
                   {"reason", r.reason},
                   {"removed", r.removed}});
  }
  return {{"results", out}};
}

}  // namespace ordersync
