// EtcdClient: a small, bounded client for etcd's v3 JSON gateway (etcd 3.4: POST
// /v3/kv/range, /v3/kv/put, /v3/kv/txn, /v3/kv/deleterange, /v3/lease/grant,
// /v3/lease/keepalive, /v3/lease/revoke, /v3/lease/timetolive) over libcurl.
//
// Every request has a timeout (EtcdClientOptions::request_timeout_ms per endpoint tried).
// The endpoints are tried in order starting from the last one that answered; a request
// moves on to the next endpoint when the current one cannot be reached, times out, or
// answers that it cannot serve (gRPC code UNAVAILABLE / DEADLINE_EXCEEDED, HTTP 5xx
// without an etcd error). An error etcd itself reports ("etcdserver: requested lease not
// found") is returned as is, with etcd's text, and is not retried. So a call takes at
// most endpoints.size() * request_timeout_ms (plus connect time within it).
//
// Retried writes: a put or txn whose answer was lost may have been applied by the first
// endpoint's cluster when the next one is asked; callers use compare-and-set txns whose
// second application is harmless (ownership_keys.h explains how it reads its own write).
//
// Keys and values are raw bytes here; the client does the gateway's base64 and turns its
// 64-bit numbers (sent as JSON strings) into int64_t.
//
// Thread-safety: all methods may be called from any thread; requests of one client are
// serialized by an internal mutex (one libcurl handle, its connections reused). Use
// separate clients where one call must not wait behind another (the ownership manager
// renews its lease on its own client).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/status.h"

namespace ordersync {

struct EtcdClientOptions {
  // Client URLs, e.g. "http://127.0.0.1:2379". REQUIRES: non-empty.
  std::vector<std::string> endpoints = {"http://127.0.0.1:2379"};
  // Whole-request timeout per endpoint tried. Default: 1000.
  uint32_t request_timeout_ms = 1000;
  // TCP connect timeout, within the request timeout. Default: 300.
  uint32_t connect_timeout_ms = 300;
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // revision of the put that created the key
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;            // 0 = no lease
};

struct EtcdRangeResult {
  int64_t revision = 0;  // the store revision the read saw
  std::vector<EtcdKeyValue> kvs;
};

// Result of a compare-and-set txn: whether the comparison held, the revision after it,
// and on failure the key's current value (if it exists).
struct EtcdTxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  std::vector<EtcdKeyValue> current;  // failure branch's read of the key
};

struct EtcdLease {
  int64_t id = 0;
  int64_t ttl_s = 0;  // as granted/renewed by the server
};

struct EtcdLeaseTtl {
  int64_t remaining_s = -1;  // -1: the lease does not exist (expired or revoked)
  int64_t granted_s = 0;
};

class EtcdClient {
 public:
  explicit EtcdClient(EtcdClientOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Every key with the given prefix (empty prefix = all keys), sorted by key.
  Result<EtcdRangeResult> RangePrefix(std::string_view prefix);
  // One key; kvs is empty when it does not exist.
  Result<EtcdRangeResult> Get(std::string_view key);
  // Puts key = value, attached to `lease` (0 = none). Returns the new store revision.
  Result<int64_t> Put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Deletes one key. Returns how many keys were deleted (0 or 1).
  Result<int64_t> Delete(std::string_view key);

  // Txn: if the key does not exist (create_revision == 0), put it with `lease`.
  // On success the key's create_revision is the result's revision.
  Result<EtcdTxnResult> PutIfAbsent(std::string_view key, std::string_view value, int64_t lease);
  // Txn: delete the key only if its value is exactly `expected`.
  Result<EtcdTxnResult> DeleteIfValue(std::string_view key, std::string_view expected);

  Result<EtcdLease> GrantLease(int64_t ttl_s);
  // Renews the lease once. NotFound when the lease no longer exists at the server.
  Result<EtcdLease> KeepAlive(int64_t lease_id);
  Status RevokeLease(int64_t lease_id);
  Result<EtcdLeaseTtl> TimeToLive(int64_t lease_id);

  // GET /health of the current endpoint (then the others): OK when one says healthy.
  Status Health();

  const EtcdClientOptions& options() const { return options_; }

 private:
  // POSTs `body` to `path` ("/v3/kv/range"), with failover; the answer's JSON text.
  Result<std::string> Call(std::string_view path, const std::string& body);
  // Runs a range request (/v3/kv/range) and reads its keys and header revision.
  Result<EtcdRangeResult> Range(const nlohmann::json& body);
  // Runs a txn whose failure branch is a range of the compared key.
  Result<EtcdTxnResult> Txn(const nlohmann::json& body);

  const EtcdClientOptions options_;
  std::mutex mu_;
  void* curl_ = nullptr;        // CURL*, GUARDED_BY(mu_)
  size_t current_endpoint_ = 0;  // GUARDED_BY(mu_): the last one that answered
};

namespace etcd {
// The gateway's base64 (standard alphabet, padded). In its own namespace: the ERP
// connectors have their own (adapters/erp/connectors/jwt.h), which this library does not
// link.
std::string Base64Encode(std::string_view bytes);
// False on characters outside the alphabet or a bad length.
bool Base64Decode(std::string_view text, std::string* out);
}  // namespace etcd

// The end of the key range holding every key with `prefix` (etcd's prefix range_end).
std::string PrefixRangeEnd(std::string_view prefix);

}  // namespace ordersync
