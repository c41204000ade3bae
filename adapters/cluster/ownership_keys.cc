#include "adapters/cluster/ownership_keys.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <nlohmann/json.hpp>

namespace ordersync {
namespace {

using nlohmann::json;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PartitionOwner DecodeOwner(const EtcdKeyValue& kv) {
  PartitionOwner o;
  o.epoch = kv.create_revision;
  o.lease = kv.lease;
  o.value = kv.value;
  json j = json::parse(kv.value, nullptr, false);
  if (j.is_object()) {
    o.node_id = j.value("node_id", std::string());
    o.acquired_at_ms = j.value("acquired_at", int64_t{0});
  }
  if (o.node_id.empty()) o.node_id = "(unreadable value: " + kv.value.substr(0, 60) + ")";
  return o;
}

bool ParsePartition(std::string_view s, uint32_t* p) {
  if (s.empty() || s.size() > 9) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint32_t(c - '0');
  }
  *p = v;
  return true;
}

}  // namespace

OwnershipKeys::OwnershipKeys(std::string_view cluster_name)
    : prefix_("/ordersync/" + std::string(cluster_name) + "/") {}

bool ValidClusterName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string EncodeMemberInfo(const MemberInfo& m) {
  return json{{"node_id", m.node_id}, {"ingress", m.ingress}, {"admin", m.admin},
              {"started_at", m.started_at_ms}, {"lease", std::to_string(m.lease)}}
      .dump();
}

std::string EncodeOwnerValue(std::string_view node_id, int64_t lease, int64_t acquired_at_ms) {
  return json{{"node_id", node_id}, {"lease", std::to_string(lease)}, {"acquired_at", acquired_at_ms}}.dump();
}

Result<ClusterView> ReadClusterView(EtcdClient* client, const OwnershipKeys& keys) {
  Result<EtcdRangeResult> range = client->RangePrefix(keys.prefix());
  if (!range.ok()) return range.status();
  ClusterView view;
  view.revision = range->revision;
  for (const EtcdKeyValue& kv : range->kvs) {
    std::string_view rest = std::string_view(kv.key).substr(keys.prefix().size());
    auto take = [&](std::string_view dir) {
      if (rest.substr(0, dir.size()) != dir) return false;
      rest.remove_prefix(dir.size());
      return !rest.empty();
    };
    if (take("members/")) {
      MemberInfo m;
      m.node_id = std::string(rest);
      m.lease = kv.lease;
      json j = json::parse(kv.value, nullptr, false);
      if (j.is_object()) {
        m.ingress = j.value("ingress", std::string());
        m.admin = j.value("admin", std::string());
        m.started_at_ms = j.value("started_at", int64_t{0});
      }
      view.members.push_back(std::move(m));
    } else if (take("draining/")) {
      json j = json::parse(kv.value, nullptr, false);
      view.draining[std::string(rest)] = j.is_object() ? j.value("since", int64_t{0}) : 0;
    } else if (uint32_t p = 0; take("owners/") && ParsePartition(rest, &p)) {
      view.owners[p] = DecodeOwner(kv);
    } else {
      view.unknown_keys.push_back(kv.key);
    }
  }
  std::sort(view.members.begin(), view.members.end(),
            [](const MemberInfo& a, const MemberInfo& b) { return a.node_id < b.node_id; });
  return view;
}

Result<AcquireResult> TryAcquirePartition(EtcdClient* client, const OwnershipKeys& keys,
                                          uint32_t partition, std::string_view value, int64_t lease) {
  Result<EtcdTxnResult> txn = client->PutIfAbsent(keys.Owner(partition), value, lease);
  if (!txn.ok()) return txn.status();
  AcquireResult out;
  if (txn->succeeded) {
    out.acquired = true;
    out.epoch = txn->revision;  // the put is the txn's only write: create_revision
    return out;
  }
  if (txn->current.empty()) {
    // Deleted between the compare and the read cannot happen inside one txn; an empty
    // read means the key vanished right after: the caller retries on its next pass.
    return out;
  }
  const EtcdKeyValue& kv = txn->current.front();
  if (kv.value == value && kv.lease == lease) {  // our own earlier, retried write
    out.acquired = true;
    out.epoch = kv.create_revision;
    return out;
  }
  out.current = DecodeOwner(kv);
  return out;
}

Status ReleasePartition(EtcdClient* client, const OwnershipKeys& keys, uint32_t partition,
                        std::string_view value) {
  Result<EtcdTxnResult> txn = client->DeleteIfValue(keys.Owner(partition), value);
  if (!txn.ok()) return txn.status();
  if (txn->succeeded || txn->current.empty()) return Status::OK();
  const PartitionOwner now = DecodeOwner(txn->current.front());
  return Status::InvalidArgument("release of partition " + std::to_string(partition) +
                                 " refused: the key is not ours any more, now owned by " + now.node_id +
                                 " at epoch " + std::to_string(now.epoch));
}

Status SetDraining(EtcdClient* client, const OwnershipKeys& keys, std::string_view node_id, bool draining) {
  if (!ValidClusterName(node_id)) {
    return Status::InvalidArgument("node id '" + std::string(node_id) +
                                   "': use letters, digits, '-', '_', '.' (1..128)");
  }
  if (draining) {
    Result<int64_t> put = client->Put(keys.Draining(node_id), json{{"since", WallMs()}}.dump());
    return put.status();
  }
  Result<int64_t> del = client->Delete(keys.Draining(node_id));
  return del.status();
}

}  // namespace ordersync
