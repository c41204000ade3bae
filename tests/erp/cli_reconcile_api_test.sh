#!/bin/sh
# CliTest.ReconcileThroughTheErpApi: the real binaries. `ordersync erp-sim --api netsuite`
# (pages of at most 7 documents) takes an engine's postings (erp_feeder, 10 orders;
# allocations and cancellations go to a webhook target); `ordersync reconcile --source
# api` on the stopped engine's data dir asks NetSuite's SuiteQL for the period's
# documents, follows every page, and is clean; so is the same reconcile run by a
# serving engine (admin endpoint; the documents are handed over). Usage errors: --source api on a webhook
# target (no query API), --source api with --export; --help explains both sources.
# Usage: cli_reconcile_api_test.sh path/to/ordersync path/to/erp_feeder
set -eu
bin=$1
feeder=$2
tmp=$(mktemp -d)
# Started processes leave their pid in $tmp/*.pid (start_sim runs in a subshell).
trap 'for f in "$tmp"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_sim() {  # api name -> base URL on stdout
  "$bin" erp-sim --api "$1" --port 0 --query-page-max 7 2>"$tmp/$2.log" >/dev/null &
  echo $! >"$tmp/$2.pid"
  for _ in $(seq 1 100); do grep -q 'API on http' "$tmp/$2.log" && break; sleep 0.1; done
  url=$(sed -n 's/.*API on \(http:[^ ]*\) .*/\1/p' "$tmp/$2.log" | head -1)
  [ -n "$url" ] || fail "erp-sim --api $1 did not start: $(cat "$tmp/$2.log")"
  echo "$url"
}
ns=$(start_sim netsuite ns)
hook=$(start_sim webhook hook)

cat >"$tmp/cfg.toml" <<EOF2
[engine]
partitions = 8
workers = 2
[storage]
data_dir = "$tmp/data"
[admin]
endpoint = "ipc://$tmp/nobody.sock"
[routing]
default_target = "erp"
[[routing.rules]]
company_code = "*"
kind = "ConfirmAllocation"
target = "hook"
[[routing.rules]]
company_code = "*"
kind = "ReleaseAllocation"
target = "hook"
[[routing.rules]]
company_code = "*"
kind = "CancelSalesOrder"
target = "hook"
[erp.targets.erp]
kind = "netsuite"
timeout_ms = 2000
[erp.targets.erp.http]
base_url = "$ns"
[erp.targets.erp.document]
customer = "10100001"
[erp.targets.hook]
kind = "webhook"
timeout_ms = 2000
[erp.targets.hook.http]
base_url = "$hook/hooks/erp"
EOF2
"$feeder" --config "$tmp/cfg.toml" --data-dir "$tmp/data" --erp tcp://127.0.0.1:9 --orders 10 --seed 5 \
  --exit-when-drained >/dev/null 2>"$tmp/feeder.log" || fail "feeder: $(tail -5 "$tmp/feeder.log")"

reconcile() {
  "$bin" --config "$tmp/cfg.toml" reconcile --from 2000-01-01 --to 2100-01-01 --admin-timeout-ms 200 "$@"
}
reconcile --target erp --source api --json >"$tmp/r1.json" 2>"$tmp/r1.err" ||
  fail "reconcile through the API not clean: $(cat "$tmp/r1.json" "$tmp/r1.err")"
/usr/bin/python3 - "$tmp/r1.json" <<'PY' || fail "r1: $(cat "$tmp/r1.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["clean"], r["summary"]
assert r["source"].startswith("api erp (netsuite http"), r["source"]
assert r["summary"]["erp_documents"] > 7, r["summary"]  # more than one page
assert r["summary"]["matched"] == r["summary"]["erp_documents"], r["summary"]
PY

# A running engine (serve with an admin endpoint): the command reads the ERP's API itself
# and hands the documents to the engine, which compares; the report names the API.
sed "s|ipc://$tmp/nobody.sock|ipc://$tmp/admin.sock|" "$tmp/cfg.toml" >"$tmp/serve.toml"
cat >>"$tmp/serve.toml" <<EOF2
[ingress]
ack_endpoint = "tcp://127.0.0.1:*"
pull_endpoint = "tcp://127.0.0.1:*"
[metrics]
enabled = false
[console]
enabled = false
EOF2
"$bin" --config "$tmp/serve.toml" serve 2>"$tmp/serve.log" >/dev/null &
serve_pid=$!
echo "$serve_pid" >"$tmp/serve.pid"
for _ in $(seq 1 200); do [ -S "$tmp/admin.sock" ] && break; sleep 0.1; done
[ -S "$tmp/admin.sock" ] || fail "serve did not start: $(tail -5 "$tmp/serve.log")"
"$bin" --config "$tmp/serve.toml" reconcile --target erp --source api --from 2000-01-01 --to 2100-01-01 \
  --admin-timeout-ms 3000 --json >"$tmp/r4.json" 2>"$tmp/r4.err" ||
  fail "reconcile through the API in the engine not clean: $(cat "$tmp/r4.json" "$tmp/r4.err")"
grep -q 'via admin endpoint' "$tmp/r4.err" || fail "not run by the engine: $(cat "$tmp/r4.err")"
grep -q 'document(s) from api erp (netsuite' "$tmp/r4.err" || fail "r4: $(cat "$tmp/r4.err")"
/usr/bin/python3 - "$tmp/r4.json" "$tmp/r1.json" <<'PY' || fail "r4: $(cat "$tmp/r4.json")"
import json, sys
r, offline = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert r["clean"] and r["source"].startswith("api erp (netsuite http"), (r["clean"], r["source"])
assert r["summary"] == offline["summary"], (r["summary"], offline["summary"])
PY
kill -TERM "$serve_pid"
wait "$serve_pid" || true
rm -f "$tmp/serve.pid"

set +e
reconcile --target hook --source api >"$tmp/r2.txt" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "--source api on a webhook target exited $rc, want 2"
grep -q 'webhook targets have no query API' "$tmp/r2.txt" || fail "webhook refusal: $(cat "$tmp/r2.txt")"
set +e
reconcile --target erp --source api --export "$tmp/x.csv" >"$tmp/r3.txt" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "--source api with --export exited $rc, want 2"
"$bin" reconcile --help >"$tmp/help.txt" 2>&1 || true
grep -q -- '--source' "$tmp/help.txt" && grep -q -- '--export' "$tmp/help.txt" || fail "help: $(cat "$tmp/help.txt")"
echo "ok"
