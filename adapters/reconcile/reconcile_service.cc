#include "adapters/reconcile/reconcile_service.h"

#include <future>
#include <map>

#include "engine/keys.h"
#include "engine/order_state.h"

namespace ordersync {
namespace {

// Appends rebuilt commands to one partition's outbox, inside its worker's group commit.
class RepairTask final : public PartitionTask {
 public:
  RepairTask(std::vector<std::string> commands, std::promise<Status> done)
      : commands_(std::move(commands)), done_(std::move(done)) {}
  void Run(PartitionContext& context) override {
    for (const std::string& c : commands_) context.AppendToOutbox(c);
  }
  void Done(const Status& committed) override { done_.set_value(committed); }

 private:
  std::vector<std::string> commands_;
  std::promise<Status> done_;
};

}  // namespace

Result<ReconcileRun> RunReconcile(StateStore* store, const ReconcileWindow& window, ErpDocumentSource* source,
                                  int64_t now_ns) {
  Result<std::vector<ErpDocument>> documents = source->Fetch(window);
  if (!documents.ok()) return documents.status();
  ReconcileRun run;
  // About one command per document: the view's map sized once instead of rehashed ~20 times.
  run.view.commands.reserve(documents->size());
  ViewOptions o;
  o.target = window.target;
  o.content_from_ns = window.from_ns - window.margin_ns;
  o.content_to_ns = window.to_ns + window.margin_ns;
  o.now_ns = now_ns;
  ORDERSYNC_RETURN_IF_ERROR(ScanOrdersyncView(store, o, &run.view));
  source->ResolveExternalIds(run.view, &*documents);
  run.report = Reconcile(run.view, *documents, window);
  run.report.source = source->Describe();
  return run;
}

Result<RepairOutcome> RepairMissing(StateStore* store, Engine* engine, const ReconcileRun& run, bool dry_run) {
  RepairOutcome out;
  out.dry_run = dry_run;
  std::map<uint32_t, std::vector<std::string>> by_partition;
  std::map<uint32_t, std::vector<std::string>> ids_by_partition;
  std::string key, value;
  for (const Difference& d : run.report.differences) {
    if (d.cls != DifferenceClass::kMissingInErp) continue;
    auto it = run.view.commands.find(d.command_id);
    if (it == run.view.commands.end() || !d.repairable) {
      out.not_repairable.emplace_back(d.command_id, it == run.view.commands.end() ? "unknown command"
                                                                                 : it->second.content_error);
      continue;
    }
    const OurCommand& c = it->second;
    OrderKey(&key, c.partition, c.order_id);
    Status s = store->Get(Table::kOrders, key, &value);
    OrderState state;
    int64_t expire_at = 0;
    if (s.ok()) s = DecodeOrderState(value, &state, &expire_at);
    if (!s.ok()) {
      out.not_repairable.emplace_back(d.command_id, "reading order " + c.order_id + ": " + s.ToString());
      continue;
    }
    Result<RebuiltCommand> rebuilt = RebuildCommand(state, c.origin);
    if (!rebuilt.ok()) {
      out.not_repairable.emplace_back(d.command_id, rebuilt.status().message());
      continue;
    }
    out.commands.push_back(d.command_id);
    by_partition[c.partition].push_back(std::move(rebuilt->bytes));
    ids_by_partition[c.partition].push_back(d.command_id);
  }
  if (dry_run || by_partition.empty()) return out;
  if (engine == nullptr) return Status::InvalidArgument("repair needs an engine on the data directory");
  std::vector<std::pair<uint32_t, std::future<Status>>> pending;
  for (auto& [partition, commands] : by_partition) {
    std::promise<Status> done;
    pending.emplace_back(partition, done.get_future());
    const size_t n = commands.size();
    Status s = engine->SubmitTask(partition, std::make_unique<RepairTask>(std::move(commands), std::move(done)));
    if (!s.ok()) return s;
    out.repaired += n;
  }
  for (auto& [partition, future] : pending) {
    Status s = future.get();
    if (!s.ok()) {
      out.repaired -= ids_by_partition[partition].size();
      for (const std::string& id : ids_by_partition[partition]) {
        out.not_repairable.emplace_back(id, "the repair batch failed: " + s.ToString());
      }
    }
  }
  return out;
}

}  // namespace ordersync
