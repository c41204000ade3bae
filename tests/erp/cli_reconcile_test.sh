#!/bin/sh
# CliTest.ReconcileAndMasterData: the real binaries. `ordersync erp-sim --export` writes
# the ERP's export; `ordersync reconcile` on the stopped engine's data dir is clean, finds
# a document removed from the export (missing_in_erp, exit 3), --repair lists it, --repair
# --yes re-drives it with its original id (the next engine run posts it; the simulator
# still has it and answers AlreadyPosted), and a fresh export reconciles clean again.
# Then `ordersync master-data check` and `master-data status`.
# Usage: cli_reconcile_test.sh path/to/ordersync path/to/erp_feeder
set -eu
bin=$1
feeder=$2
tmp=$(mktemp -d)
sim_pid=""
trap '[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid"; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" erp-sim --endpoint 'tcp://127.0.0.1:*' --ledger "$tmp/ledger.tsv" --export "$tmp/export.csv" \
  --report-every-s 1 2>"$tmp/sim.log" >/dev/null &
sim_pid=$!
for _ in $(seq 1 100); do grep -q 'erp-sim listening on' "$tmp/sim.log" && break; sleep 0.1; done
erp=$(sed -n 's/.*erp-sim listening on \(tcp:[^ ,]*\).*/\1/p' "$tmp/sim.log" | head -1)
[ -n "$erp" ] || fail "erp-sim did not start: $(cat "$tmp/sim.log")"

cat >"$tmp/cfg.toml" <<EOF2
[engine]
partitions = 8
workers = 2
[storage]
data_dir = "$tmp/data"
[admin]
endpoint = "ipc://$tmp/nobody.sock"
[erp.targets.erp]
endpoint = "$erp"
EOF2
"$feeder" --config "$tmp/cfg.toml" --data-dir "$tmp/data" --erp "$erp" --orders 10 --seed 5 --exit-when-drained \
  >/dev/null 2>"$tmp/feeder1.log" || fail "feeder run 1: $(tail -5 "$tmp/feeder1.log")"

export_now() {
  rm -f "$tmp/export.csv"
  kill -USR2 "$sim_pid"
  for _ in $(seq 1 100); do [ -s "$tmp/export.csv" ] && return 0; sleep 0.1; done
  fail "erp-sim wrote no export"
}
reconcile() {
  "$bin" --config "$tmp/cfg.toml" reconcile --target erp --from 2000-01-01 --to 2100-01-01 --admin-timeout-ms 200 "$@"
}

export_now
head -1 "$tmp/export.csv" | grep -q '^document_number,external_id,kind' || fail "export header: $(head -1 "$tmp/export.csv")"
reconcile --export "$tmp/export.csv" >"$tmp/r1.txt" 2>"$tmp/r1.err" || fail "first reconcile not clean: $(cat "$tmp/r1.txt" "$tmp/r1.err")"
grep -q 'CLEAN' "$tmp/r1.txt" || fail "first reconcile: $(cat "$tmp/r1.txt")"
grep -q 'read-only' "$tmp/r1.err" || fail "reconcile did not say read-only"

# The ERP lost a document.
lost=$(sed -n '2p' "$tmp/export.csv" | cut -d, -f2)
sed '2d' "$tmp/export.csv" >"$tmp/missing.csv"
set +e
reconcile --export "$tmp/missing.csv" --json >"$tmp/r2.json" 2>/dev/null; rc=$?
set -e
[ "$rc" = 3 ] || fail "reconcile with a missing document exited $rc, want 3"
/usr/bin/python3 - "$tmp/r2.json" "$lost" <<'PY' || fail "r2: $(cat "$tmp/r2.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["summary"]["missing_in_erp"] == 1, r["summary"]
d = [x for x in r["differences"] if x["class"] == "missing_in_erp"][0]
assert d["command_id"] == sys.argv[2] and d["repairable"], d
PY
set +e
reconcile --export "$tmp/missing.csv" --repair >"$tmp/r3.txt" 2>/dev/null
reconcile --export "$tmp/missing.csv" --repair --yes >"$tmp/r4.txt" 2>"$tmp/r4.err"
set -e
grep -q "would re-drive 1 missing command" "$tmp/r3.txt" || fail "dry run: $(cat "$tmp/r3.txt")"
grep -q "re-drove 1 command" "$tmp/r4.txt" || fail "repair: $(cat "$tmp/r4.txt" "$tmp/r4.err")"
grep -q "read-write" "$tmp/r4.err" || fail "repair did not say read-write"

# The next engine run posts it (the ERP still has it: AlreadyPosted by the command id).
"$feeder" --config "$tmp/cfg.toml" --data-dir "$tmp/data" --erp "$erp" --no-feed --exit-when-drained \
  >/dev/null 2>"$tmp/feeder2.log" || fail "feeder run 2: $(tail -5 "$tmp/feeder2.log")"
export_now
reconcile --export "$tmp/export.csv" >"$tmp/r5.txt" 2>/dev/null || fail "after repair not clean: $(cat "$tmp/r5.txt")"
[ "$(grep -c "$lost" "$tmp/export.csv")" = 1 ] || fail "$lost posted twice in the ERP"
kill -TERM "$sim_pid"
wait "$sim_pid" || true
sim_pid=""

# Master data: check a good and a bad file, status of the configured files.
printf 'customer_id,company_code,currency,credit_hold,active\nC1,1000,EUR,false,true\nC2,1000,EUR,maybe,true\n' \
  >"$tmp/customers.csv"
set +e
"$bin" master-data check "$tmp/customers.csv" >"$tmp/md1.txt" 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || fail "master-data check of a bad file exited $rc"
grep -q 'customers.csv:3: credit_hold' "$tmp/md1.txt" || fail "check: $(cat "$tmp/md1.txt")"
sed -i 's/maybe/true/' "$tmp/customers.csv"
"$bin" master-data check "$tmp/customers.csv" | grep -q '2 customers record(s).*ok' || fail "check of a good file"
cat >>"$tmp/cfg.toml" <<EOF2
[master_data]
customers = "$tmp/customers.csv"
[master_data.checks]
credit_hold = true
EOF2
"$bin" --config "$tmp/cfg.toml" master-data status --offline >"$tmp/md2.txt" || fail "status: $(cat "$tmp/md2.txt")"
grep -q '^master data md-[0-9a-f]\{12\}' "$tmp/md2.txt" || fail "status: $(cat "$tmp/md2.txt")"
grep -q 'checks on: credit_hold' "$tmp/md2.txt" || fail "status checks: $(cat "$tmp/md2.txt")"
echo "ok"
