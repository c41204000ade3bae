#include "adapters/cli/cluster_command.h"

#include <iomanip>
#include <sstream>
#include <map>

#include <nlohmann/json.hpp>

#include "adapters/cluster/etcd_client.h"
#include "adapters/cluster/log_positions.h"
#include "adapters/cluster/ownership_keys.h"
#include "adapters/cluster/partition_assignment.h"

namespace ordersync {
namespace {

using nlohmann::json;

std::string LeaseHex(int64_t lease) {
  std::ostringstream os;
  os << std::hex << lease;
  return os.str();
}

// Compact "0-3, 7, 9-10".
std::string Ranges(const std::vector<uint32_t>& ps) {
  std::string out;
  for (size_t i = 0; i < ps.size();) {
    size_t j = i;
    while (j + 1 < ps.size() && ps[j + 1] == ps[j] + 1) ++j;
    out += (out.empty() ? "" : ", ") + std::to_string(ps[i]) + (j > i ? "-" + std::to_string(ps[j]) : "");
    i = j + 1;
  }
  return out.empty() ? "-" : out;
}

// What the header and the docs call the LAG column, word for word.
constexpr const char* kLagMeaning =
    "LAG = LAST - COVERED: records not yet in a checkpoint (log sequences are shared by all partitions, so the "
    "partition's own records are at most this many)";

json StatusJson(const AppConfig& config, const std::vector<std::string>& endpoints, const ClusterView& view,
                const LogPositionsOptions& log_options, const Result<std::vector<PartitionLogPosition>>& log) {
  const uint32_t partitions = config.engine.partitions;
  std::vector<ClusterMember> members;
  for (const MemberInfo& m : view.members) members.push_back({m.node_id, view.draining.count(m.node_id) > 0});
  const std::vector<std::string> assigned = AssignPartitions(partitions, members);
  std::map<std::string, int> owned_by;
  json owners = json::array();
  json unowned = json::array();
  json moving = json::array();
  for (uint32_t p = 0; p < partitions; ++p) {
    auto it = view.owners.find(p);
    json entry = {{"partition", p}, {"assigned", assigned[p].empty() ? json(nullptr) : json(assigned[p])}};
    if (it == view.owners.end()) {
      entry["node_id"] = nullptr;
      entry["epoch"] = nullptr;
      unowned.push_back(p);
    } else {
      entry["node_id"] = it->second.node_id;
      entry["epoch"] = it->second.epoch;
      entry["lease"] = LeaseHex(it->second.lease);
      ++owned_by[it->second.node_id];
      if (it->second.node_id != assigned[p]) moving.push_back(p);
    }
    // The log's columns: null when unknown (see "log"."error" or the entry's log_error).
    entry["log_last_sequence"] = nullptr;
    entry["checkpoint_covered_sequence"] = nullptr;
    entry["checkpoint_epoch"] = nullptr;
    entry["lag"] = nullptr;
    if (log.ok() && p < log->size()) {
      const PartitionLogPosition& pos = log.value()[p];
      if (!pos.error.ok()) {
        entry["log_error"] = pos.error.ToString();
      } else {
        entry["log_last_sequence"] = pos.last_sequence;
        entry["checkpoint_covered_sequence"] = pos.covered_sequence;
        if (pos.has_checkpoint) entry["checkpoint_epoch"] = pos.checkpoint_epoch;
        entry["lag"] = pos.lag();
      }
    }
    owners.push_back(entry);
  }
  json jm = json::array();
  for (const MemberInfo& m : view.members) {
    auto d = view.draining.find(m.node_id);
    jm.push_back({{"node_id", m.node_id},
                  {"draining", d != view.draining.end()},
                  {"lease", LeaseHex(m.lease)},
                  {"ingress", m.ingress},
                  {"admin", m.admin},
                  {"started_at_ms", m.started_at_ms},
                  {"owned", owned_by.count(m.node_id) ? owned_by[m.node_id] : 0}});
  }
  json draining = json::array();
  for (const auto& [node, since] : view.draining) draining.push_back({{"node_id", node}, {"since_ms", since}});
  json stray = json::array();  // owners past [engine] partitions
  for (const auto& [p, o] : view.owners) {
    if (p >= partitions) stray.push_back({{"partition", p}, {"node_id", o.node_id}, {"epoch", o.epoch}});
  }
  json jlog = {{"nats_urls", log_options.nats_urls},
               {"stream", log_options.stream},
               {"subject_prefix", log_options.subject_prefix},
               {"checkpoint_bucket", log_options.checkpoint_bucket},
               {"lag_meaning", kLagMeaning},
               {"error", log.ok() ? json(nullptr) : json(log.status().ToString())}};
  return {{"cluster", config.cluster.name},
          {"etcd_endpoints", endpoints},
          {"revision", view.revision},
          {"partitions", partitions},
          {"members", jm},
          {"draining", draining},
          {"owners", owners},
          {"unowned", unowned},
          {"moving", moving},
          {"owners_beyond_partitions", stray},
          {"unknown_keys", view.unknown_keys},
          {"log", jlog}};
}

void PrintStatus(const json& s, std::ostream& out) {
  out << "cluster \"" << s["cluster"].get<std::string>() << "\" (etcd revision " << s["revision"].get<int64_t>()
      << ", " << s["partitions"].get<uint32_t>() << " partitions)\n\n";
  out << "members (" << s["members"].size() << "):\n";
  if (s["members"].empty()) out << "  none: no node holds a live lease\n";
  out << std::left;
  if (!s["members"].empty()) {
    out << "  " << std::setw(20) << "NODE" << std::setw(10) << "STATE" << std::setw(6) << "OWNS" << std::setw(18)
        << "LEASE" << "INGRESS\n";
  }
  for (const json& m : s["members"]) {
    out << "  " << std::setw(20) << m["node_id"].get<std::string>() << std::setw(10)
        << (m["draining"].get<bool>() ? "draining" : "live") << std::setw(6) << m["owned"].get<int>()
        << std::setw(18) << m["lease"].get<std::string>() << m["ingress"].get<std::string>() << "\n";
  }
  for (const json& d : s["draining"]) {
    bool member = false;
    for (const json& m : s["members"]) member = member || m["node_id"] == d["node_id"];
    if (!member) out << "  " << d["node_id"].get<std::string>() << ": draining flag set, not running\n";
  }
  const json& log = s["log"];
  out << "\npartitions (LAST = the log's last sequence of the partition, COVERED = the sequence its stored "
         "checkpoint covers,\n  "
      << kLagMeaning << "):\n  " << std::setw(6) << "P" << std::setw(20) << "OWNER" << std::setw(12) << "EPOCH"
      << std::setw(22) << "ASSIGNED" << std::setw(12) << "LAST" << std::setw(12) << "COVERED" << "LAG\n";
  auto number = [](const json& v) { return v.is_null() ? std::string("?") : std::to_string(v.get<uint64_t>()); };
  for (const json& o : s["owners"]) {
    const std::string owner = o["node_id"].is_null() ? "(unowned)" : o["node_id"].get<std::string>();
    const std::string epoch = o["epoch"].is_null() ? "-" : std::to_string(o["epoch"].get<int64_t>());
    const std::string assigned = o["assigned"].is_null() ? "(no eligible member)" : o["assigned"].get<std::string>();
    const bool moving = !o["node_id"].is_null() && owner != assigned;
    out << "  " << std::setw(6) << o["partition"].get<uint32_t>() << std::setw(20) << owner << std::setw(12)
        << epoch << std::setw(22) << (moving ? assigned + " (moving)" : assigned) << std::setw(12)
        << number(o["log_last_sequence"]) << std::setw(12)
        << (o["checkpoint_epoch"].is_null() && !o["lag"].is_null() ? std::string("none")
                                                                   : number(o["checkpoint_covered_sequence"]))
        << number(o["lag"]) << "\n";
    if (o.contains("log_error")) {
      out << "        log: " << o["log_error"].get<std::string>() << "\n";
    }
  }
  if (!log["error"].is_null()) {
    out << "  LAST, COVERED and LAG unknown: " << log["error"].get<std::string>() << "\n";
  }
  std::vector<uint32_t> unowned = s["unowned"].get<std::vector<uint32_t>>();
  std::vector<uint32_t> moving = s["moving"].get<std::vector<uint32_t>>();
  out << "\nunowned: " << unowned.size() << " (" << Ranges(unowned) << ")";
  out << "; moving: " << moving.size() << " (" << Ranges(moving) << ")\n";
  for (const json& x : s["owners_beyond_partitions"]) {
    out << "warning: owners/" << x["partition"].get<uint32_t>() << " held by " << x["node_id"].get<std::string>()
        << " is beyond [engine] partitions: does this config match the cluster's?\n";
  }
  for (const json& k : s["unknown_keys"]) out << "warning: unknown key " << k.get<std::string>() << "\n";
}

}  // namespace

CLI::App* AddClusterSubcommand(CLI::App& app, ClusterCommandOptions* o) {
  CLI::App* cluster = app.add_subcommand(
      "cluster",
      "Cluster mode: members, partition owners and fencing epochs, drain a node (etcd: [cluster] etcd_endpoints)");
  cluster->require_subcommand(1);
  CLI::App* status = cluster->add_subcommand(
      "status",
      "Members (lease, draining), each partition's owner and epoch next to the member the assignment gives it,\n"
      "unowned and moving partitions, and from the replicated log (NATS) each partition's last sequence, the\n"
      "sequence its stored checkpoint covers and LAG = LAST - COVERED: records not yet in a checkpoint.\n"
      "Partition count: [engine] partitions");
  status->add_flag("--json", o->json, "Print one JSON object");
  status
      ->add_option("--nats", o->nats,
                   "NATS server URL of the replicated log (repeatable); default: [cluster] nats_urls. Unreachable:\n"
                   "the etcd part still prints and the log columns say why they are missing (exit 0)")
      ->type_name("URL")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  CLI::App* drain = cluster->add_subcommand(
      "drain",
      "Mark NODE as draining: it stays a member but is left out of the assignment, so its partitions are\n"
      "stopped, released and taken over by the others. Lasts until `cluster undrain` (also across restarts)");
  CLI::App* undrain = cluster->add_subcommand("undrain", "Clear NODE's draining flag: it gets its share back");
  for (CLI::App* sub : {drain, undrain}) sub->add_option("NODE", o->node, "The node's [cluster] node_id")->required();
  for (CLI::App* sub : {status, drain, undrain}) {
    sub->add_option("--etcd", o->etcd, "etcd client URL (repeatable); default: [cluster] etcd_endpoints")
        ->type_name("URL")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub->callback([o, sub] { o->action = sub->get_name(); });
  }
  AddClusterExportSubcommand(cluster, &o->export_state, &o->action);
  return cluster;
}

int RunClusterCommand(const AppConfig& config, const ClusterCommandOptions& o, std::ostream& out,
                      std::ostream& err) {
  if (o.action == "export-state") return RunClusterExport(config, o.export_state, out, err);
  EtcdClientOptions client_options;
  client_options.endpoints = o.etcd.empty() ? config.cluster.etcd_endpoints : o.etcd;
  client_options.request_timeout_ms = config.cluster.request_timeout_ms;
  EtcdClient client(client_options);
  const OwnershipKeys keys(config.cluster.name);
  if (o.action == "status") {
    Result<ClusterView> view = ReadClusterView(&client, keys);
    if (!view.ok()) {
      err << "ordersync cluster status: " << view.status().message() << "\n";
      return 1;
    }
    LogPositionsOptions log_options;
    log_options.nats_urls = o.nats.empty() ? config.cluster.nats_urls : o.nats;
    log_options.stream = config.cluster.stream;
    log_options.subject_prefix = config.cluster.subject_prefix;
    log_options.checkpoint_bucket = CheckpointBucketOf(config.cluster);
    log_options.timeout_ms = config.cluster.request_timeout_ms;
    const Result<std::vector<PartitionLogPosition>> log = ReadLogPositions(log_options, config.engine.partitions);
    const json s = StatusJson(config, client_options.endpoints, *view, log_options, log);
    if (o.json) {
      out << s.dump(2) << "\n";
    } else {
      PrintStatus(s, out);
    }
    return 0;
  }
  if (o.action == "drain" || o.action == "undrain") {
    const bool drain = o.action == "drain";
    if (!ValidClusterName(o.node)) {
      err << "ordersync cluster " << o.action << ": node id '" << o.node
          << "' may use only letters, digits, '-', '_' and '.'\n";
      return 2;
    }
    Status st = SetDraining(&client, keys, o.node, drain);
    if (!st.ok()) {
      err << "ordersync cluster " << o.action << ": " << st.message() << "\n";
      return 1;
    }
    Result<ClusterView> view = ReadClusterView(&client, keys);
    bool member = false;
    if (view.ok()) {
      for (const MemberInfo& m : view->members) member = member || m.node_id == o.node;
    }
    out << "node " << o.node << (drain ? " marked draining" : ": draining flag cleared");
    if (view.ok() && !member) out << " (it is not a running member of cluster \"" << config.cluster.name << "\")";
    if (drain && member) {
      int owned = 0;
      for (const auto& [p, owner] : view->owners) owned += owner.node_id == o.node ? 1 : 0;
      out << "; it still owns " << owned << " partition(s), which move as it stops them (watch `ordersync cluster "
             "status`)";
    }
    out << "\n";
    return 0;
  }
  err << "ordersync cluster: unknown action '" << o.action << "'\n";
  return 2;
}

}  // namespace ordersync
