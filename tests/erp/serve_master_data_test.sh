#!/bin/sh
# CliTest.ServeMasterDataReloadAndReconcile: the real `ordersync serve` with [master_data]
# and an admin endpoint. `master-data status` asks the running engine; a changed file
# is swapped in on SIGHUP (new version; the start counts as the first load); a bad file is refused with
# file:line errors and the version in force stays; `master-data reload` reports the
# refusal (exit 1); `reconcile` runs inside the engine (admin command reconcile.run).
# Usage: serve_master_data_test.sh path/to/ordersync
set -eu
bin=$1
tmp=$(mktemp -d)
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/serve.log" ] && tail -20 "$tmp/serve.log" >&2; exit 1; }

put() {  # atomically replace $tmp/customers.csv with stdin
  cat >"$tmp/customers.new" && mv "$tmp/customers.new" "$tmp/customers.csv"
}
printf 'customer_id,company_code,currency,credit_hold,active\nC-1,1000,EUR,false,true\n' | put
cat >"$tmp/ordersync.toml" <<TOML
[storage]
data_dir = "$tmp/data"
[ingress]
ack_endpoint = "tcp://127.0.0.1:*"
pull_endpoint = "tcp://127.0.0.1:*"
[metrics]
enabled = false
[admin]
endpoint = "ipc://$tmp/admin.sock"
[console]
enabled = false
[master_data]
customers = "$tmp/customers.csv"
watch_interval_ms = 0
[master_data.checks]
customer = true
credit_hold = true
TOML
md() { "$bin" --config "$tmp/ordersync.toml" master-data "$@"; }
"$bin" --config "$tmp/ordersync.toml" serve 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do grep -q 'running; stop with' "$tmp/serve.log" && break; sleep 0.1; done
grep -q 'running; stop with' "$tmp/serve.log" || fail "serve did not start"
grep -q 'master data md-' "$tmp/serve.log" || fail "serve did not log the master data version"

md status >"$tmp/s1.txt" || fail "status: $(cat "$tmp/s1.txt")"
v1=$(sed -n 's/^master data \(md-[0-9a-f]*\) in force$/\1/p' "$tmp/s1.txt")
[ -n "$v1" ] || fail "status: $(cat "$tmp/s1.txt")"
grep -q '1 customers' "$tmp/s1.txt" || fail "status counts: $(cat "$tmp/s1.txt")"
grep -q 'checks on: credit_hold, customer' "$tmp/s1.txt" || fail "status checks: $(cat "$tmp/s1.txt")"

# A changed file, SIGHUP: swapped in.
printf 'customer_id,company_code,currency,credit_hold,active\nC-1,1000,EUR,false,true\nC-2,1000,EUR,true,true\n' | put
kill -HUP "$serve_pid"
for _ in $(seq 1 100); do md status --json >"$tmp/s2.json" && grep -q '"reloads": 2' "$tmp/s2.json" && break; sleep 0.1; done
grep -q '"reloads": 2' "$tmp/s2.json" || fail "no reload after SIGHUP: $(cat "$tmp/s2.json")"
grep -q '"customers": 2' "$tmp/s2.json" || fail "new file not in force: $(cat "$tmp/s2.json")"
v2=$(sed -n 's/.*"version": "\(md-[0-9a-f]*\)".*/\1/p' "$tmp/s2.json")
[ -n "$v2" ] && [ "$v2" != "$v1" ] || fail "version did not change: $v1 -> $v2"

# A bad file, SIGHUP: refused, the data in force stays.
printf 'customer_id,company_code,currency,credit_hold,active\nC-1,1000,EUR,false,true\nC-2,1000,EUR,maybe,true\n' | put
kill -HUP "$serve_pid"
for _ in $(seq 1 100); do md status --json >"$tmp/s3.json" && grep -q '"refused": 1' "$tmp/s3.json" && break; sleep 0.1; done
grep -q '"refused": 1' "$tmp/s3.json" || fail "bad file not refused: $(cat "$tmp/s3.json")"
grep -q "\"version\": \"$v2\"" "$tmp/s3.json" || fail "version in force changed: $(cat "$tmp/s3.json")"
grep -q 'customers.csv:3: credit_hold' "$tmp/s3.json" || fail "no line-precise error: $(cat "$tmp/s3.json")"
set +e
md reload >"$tmp/r.txt" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "master-data reload of a bad file exited $rc"
grep -q 'reload: refused' "$tmp/r.txt" || fail "reload: $(cat "$tmp/r.txt")"

# Reconcile inside the running engine: nothing acknowledged, empty export: clean.
printf 'document_number,external_id\n' >"$tmp/export.csv"
"$bin" --config "$tmp/ordersync.toml" reconcile --target erp --export "$tmp/export.csv" --from 2000-01-01 \
  --to 2100-01-01 >"$tmp/rc.txt" 2>"$tmp/rc.err" || fail "reconcile: $(cat "$tmp/rc.txt" "$tmp/rc.err")"
grep -q 'via admin endpoint' "$tmp/rc.err" || fail "reconcile did not run in the engine: $(cat "$tmp/rc.err")"
grep -q 'CLEAN' "$tmp/rc.txt" || fail "reconcile: $(cat "$tmp/rc.txt")"

kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited $?"
serve_pid=""
echo "ok"
