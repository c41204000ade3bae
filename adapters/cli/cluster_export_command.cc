#include "adapters/cli/cluster_export_command.h"

#include <filesystem>
#include <memory>
#include <system_error>

#include <nlohmann/json.hpp>

#include "adapters/cluster/jetstream_checkpoint_store.h"
#include "adapters/cluster/jetstream_event_log.h"
#include "adapters/cluster/jetstream_log.h"
#include "adapters/cluster/nats_connection.h"
#include "adapters/storage/rocksdb_store.h"
#include "engine/partition_follower.h"

namespace ordersync {
namespace {

using nlohmann::json;

struct PartitionExport {
  uint32_t partition = 0;
  bool had_checkpoint = false;
  uint64_t checkpoint_epoch = 0;
  uint64_t checkpoint_seq = 0;  // the log sequence the stored checkpoint covers
  uint64_t tail_records = 0;    // records applied after it
  uint64_t applied_seq = 0;     // the sequence the export covers
  uint64_t entries = 0;         // keys of the partition in the exported store
  uint64_t malformed = 0;       // log messages skipped as malformed
};

// One partition: adopt the stored checkpoint read-only, apply the tail, checkpoint locally.
Status ExportPartition(uint32_t p, JetStreamCheckpointStore* checkpoints, PartitionFollower* follower,
                       PartitionExport* x) {
  x->partition = p;
  std::string blob;
  auto stored = checkpoints->Get(p);
  if (stored.ok()) {
    x->had_checkpoint = true;
    x->checkpoint_epoch = stored->epoch;
    x->checkpoint_seq = stored->covered_seq;
    blob = std::move(stored->blob);
  } else if (stored.status().code() != Status::Code::kNotFound) {
    return stored.status();  // the caller names the partition
  }
  ORDERSYNC_RETURN_IF_ERROR(follower->Adopt(p, blob));  // no owner stream: read-only
  size_t applied = 0;
  do {
    ORDERSYNC_RETURN_IF_ERROR(follower->Poll(p, 4096, &applied));
    x->tail_records += applied;
  } while (applied > 0);
  x->applied_seq = follower->applied(p).offset;
  std::string snapshot;
  PartitionSnapshotInfo info;
  ORDERSYNC_RETURN_IF_ERROR(follower->Checkpoint(p, &snapshot, &info));
  x->entries = info.entries;
  follower->Release(p);
  return Status::OK();
}

bool DirIsEmptyOrMissing(const std::string& dir, std::string* why) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  if (!fs::is_directory(dir, ec)) {
    *why = dir + " exists and is not a directory";
    return false;
  }
  if (fs::directory_iterator(dir, ec) != fs::directory_iterator()) {
    *why = dir + " is not empty (export-state writes a new store; it never merges into one)";
    return false;
  }
  if (ec) {
    *why = dir + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace

CLI::App* AddClusterExportSubcommand(CLI::App* cluster, ClusterExportOptions* o, std::string* action) {
  CLI::App* exp = cluster->add_subcommand(
      "export-state",
      "Write the whole cluster's partition state into a new local store at --data-dir, as one node's store\n"
      "would hold it: per partition the latest checkpoint from the JetStream checkpoint store plus the log\n"
      "tail after it (read-only: nothing is published or purged). For fault_checker, `ordersync trace`,\n"
      "`ordersync status` with [storage] data_dir = DIR. Best run after the nodes stopped. Not exported: the\n"
      "quarantine (each ingress node keeps its own). Uses [cluster] nats_urls, stream, subject_prefix and\n"
      "[engine] partitions");
  exp->add_option("--data-dir", o->data_dir, "The new store's directory (must not exist or be empty)")
      ->type_name("DIR")
      ->required();
  exp->add_option("--nats", o->nats_urls, "NATS server URL (repeatable); default: [cluster] nats_urls")
      ->type_name("URL")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  exp->add_flag("--json", o->json, "Print one JSON object (per partition and totals) instead of the summary");
  exp->callback([action, exp] { *action = exp->get_name(); });
  return exp;
}

int RunClusterExport(const AppConfig& config, const ClusterExportOptions& o, std::ostream& out,
                     std::ostream& err) {
  const char* kWho = "ordersync cluster export-state: ";
  std::string why;
  if (!DirIsEmptyOrMissing(o.data_dir, &why)) {
    err << kWho << why << "\n";
    return 2;
  }
  const ClusterOptions& cluster = config.cluster;
  NatsOptions no;
  no.urls = o.nats_urls.empty() ? cluster.nats_urls : o.nats_urls;
  no.name = "ordersync-export-state";
  no.max_reconnect = 10;
  auto conn = NatsConnection::Connect(no);
  if (!conn.ok()) {
    err << kWho << "cannot connect to NATS: " << conn.status().ToString() << "\n";
    return 1;
  }
  JetStreamLogOptions lo;  // as ClusterRuntime::Open names them
  lo.stream = cluster.stream;
  lo.prefix = cluster.subject_prefix;
  lo.partitions = config.engine.partitions;
  lo.replicas = static_cast<int>(cluster.replicas);
  auto log = JetStreamLog::Open(conn->get(), lo);
  if (!log.ok()) {
    err << kWho << "log stream " << cluster.stream << ": " << log.status().ToString() << "\n";
    return 1;
  }
  JetStreamCheckpointStoreOptions co;
  co.prefix = cluster.subject_prefix;
  co.chunk_stream = cluster.stream + "_CKPT";
  co.bucket = cluster.subject_prefix + "_checkpoints";
  co.replicas = static_cast<int>(cluster.replicas);
  auto checkpoints = JetStreamCheckpointStore::Open(conn->get(), co);
  if (!checkpoints.ok()) {
    err << kWho << "checkpoint store " << co.bucket << ": " << checkpoints.status().ToString() << "\n";
    return 1;
  }
  StorageOptions so = config.storage;
  so.data_dir = o.data_dir;
  so.log_dir.clear();  // the local event log is not used: the replicated one is read
  auto store = RocksDbStore::Open(so);
  if (!store.ok()) {
    err << kWho << "cannot open a store at " << o.data_dir << ": " << store.status().ToString() << "\n";
    return 1;
  }
  std::vector<PartitionExport> parts(config.engine.partitions);
  JetStreamEventLog::Options ro;
  ro.read_wait_ms = 100;
  ro.on_malformed = [&parts](uint32_t p, uint64_t, const Status&) {
    if (p < parts.size()) ++parts[p].malformed;
  };
  JetStreamEventLog event_log(log->get(), ro);
  {
    PartitionFollower follower(config.engine, store->get(), &event_log, /*log_generation=*/0, /*listener=*/nullptr);
    for (uint32_t p = 0; p < config.engine.partitions; ++p) {
      if (Status s = ExportPartition(p, checkpoints->get(), &follower, &parts[p]); !s.ok()) {
        err << kWho << "partition " << p << ": " << s.ToString() << " (" << o.data_dir << " is incomplete)\n";
        return 1;
      }
    }
  }
  if (Status s = (*store)->Flush(); !s.ok()) {
    err << kWho << "flushing " << o.data_dir << ": " << s.ToString() << "\n";
    return 1;
  }
  uint64_t with_checkpoint = 0, tail = 0, entries = 0, malformed = 0;
  json jp = json::array();
  for (const PartitionExport& x : parts) {
    with_checkpoint += x.had_checkpoint ? 1 : 0;
    tail += x.tail_records;
    entries += x.entries;
    malformed += x.malformed;
    jp.push_back({{"partition", x.partition},
                  {"checkpoint", x.had_checkpoint ? json({{"epoch", x.checkpoint_epoch}, {"covered_seq", x.checkpoint_seq}})
                                                  : json(nullptr)},
                  {"tail_records", x.tail_records},
                  {"applied_seq", x.applied_seq},
                  {"entries", x.entries},
                  {"malformed_skipped", x.malformed}});
  }
  if (o.json) {
    out << json({{"data_dir", o.data_dir},
                 {"stream", cluster.stream},
                 {"partitions", jp},
                 {"partitions_with_checkpoint", with_checkpoint},
                 {"tail_records", tail},
                 {"entries", entries},
                 {"malformed_skipped", malformed}})
               .dump(2)
        << "\n";
  } else {
    out << "exported " << parts.size() << " partitions of stream " << cluster.stream << " to " << o.data_dir << ": "
        << with_checkpoint << " from a stored checkpoint, " << tail << " log records applied after them, " << entries
        << " keys";
    if (malformed > 0) out << "; " << malformed << " malformed log messages skipped";
    out << "\n";
  }
  return 0;
}

}  // namespace ordersync
