#!/bin/sh
# CliTest.DlqAndExceptionsOnStoppedEngine: `ordersync dlq` and `ordersync exceptions` when
# no engine answers: list/show read the data dir read-only, replay opens it read-write
# (an Engine without dispatcher re-appends the commands), and the next engine run posts
# them. Also drives the real `ordersync erp-sim` binary (ephemeral port, SIGUSR1).
# Usage: cli_dlq_test.sh path/to/ordersync path/to/erp_feeder
set -eu
bin=$1
feeder=$2
tmp=$(mktemp -d)
sim_pid=""
trap '[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" erp-sim --endpoint 'tcp://127.0.0.1:*' --reject-order SO-000003 --ledger "$tmp/ledger.tsv" \
  --summary "$tmp/summary.json" --report-every-s 1 2>"$tmp/sim.log" >/dev/null &
sim_pid=$!
for _ in $(seq 1 100); do grep -q 'erp-sim listening on' "$tmp/sim.log" && break; sleep 0.1; done
erp=$(sed -n 's/.*erp-sim listening on \(tcp:[^ ,]*\).*/\1/p' "$tmp/sim.log" | head -1)
[ -n "$erp" ] || fail "erp-sim did not start: $(cat "$tmp/sim.log")"

# An admin endpoint nobody serves: the CLI must fall back to the data dir.
cat >"$tmp/cfg.toml" <<EOF
[engine]
partitions = 8
workers = 2
[storage]
data_dir = "$tmp/data"
[admin]
endpoint = "ipc://$tmp/nobody.sock"
[erp.targets.erp]
endpoint = "$erp"
EOF
"$feeder" --config "$tmp/cfg.toml" --data-dir "$tmp/data" --erp "$erp" --orders 20 --seed 3 --exit-when-drained \
  >/dev/null 2>"$tmp/feeder1.log" || fail "feeder run 1: $(tail -5 "$tmp/feeder1.log")"

"$bin" --config "$tmp/cfg.toml" dlq list --admin-timeout-ms 200 >"$tmp/list.txt" 2>"$tmp/list.err" \
  || fail "dlq list exited $?: $(cat "$tmp/list.err")"
grep -q 'no engine answered' "$tmp/list.err" || fail "dlq list did not say it found no engine"
grep -q 'directly (read-only)' "$tmp/list.err" || fail "dlq list did not say read-only"
grep -q '^SO-000003/SO/SO-000003 ' "$tmp/list.txt" || fail "rejected sales order not listed: $(cat "$tmp/list.txt")"
grep -q 'simulated business rejection' "$tmp/list.txt" || fail "the ERP's message is not shown"
"$bin" --config "$tmp/cfg.toml" dlq show SO-000003/SO/SO-000003 --admin-timeout-ms 200 2>/dev/null \
  | grep -q '"kind": "CreateSalesOrder"' || fail "dlq show lacks the command"
"$bin" --config "$tmp/cfg.toml" dlq list --json --reason rejected --admin-timeout-ms 200 2>/dev/null \
  | grep -q '"count": 1' || fail "dlq list --reason rejected"
"$bin" --config "$tmp/cfg.toml" exceptions list --admin-timeout-ms 200 2>"$tmp/ex.err" | grep -q 'exception(s)' \
  || fail "exceptions list"
grep -q 'directly (read-only)' "$tmp/ex.err" || fail "exceptions list did not say read-only"

# Unselective mutations are usage errors; replay selects explicitly.
set +e
"$bin" --config "$tmp/cfg.toml" dlq purge --admin-timeout-ms 200 2>/dev/null; rc=$?
set -e
[ "$rc" = 2 ] || fail "dlq purge without a selector exited $rc, want 2"
kill -USR1 "$sim_pid"  # rejections off
"$bin" --config "$tmp/cfg.toml" dlq replay --order SO-000003 --admin-timeout-ms 200 >"$tmp/replay.txt" \
  2>"$tmp/replay.err" || fail "dlq replay exited $?: $(cat "$tmp/replay.err")"
grep -q 'read-write' "$tmp/replay.err" || fail "dlq replay did not say read-write"
grep -q '^replayed [1-9][0-9]* command(s) of 1 order(s)' "$tmp/replay.txt" || fail "replay: $(cat "$tmp/replay.txt")"
"$bin" --config "$tmp/cfg.toml" dlq list --admin-timeout-ms 200 2>/dev/null | grep -q '^0 dead letter(s)' \
  || fail "dead letters left after replay"

# The next engine run posts the replayed commands.
"$feeder" --config "$tmp/cfg.toml" --data-dir "$tmp/data" --erp "$erp" --no-feed --exit-when-drained \
  >/dev/null 2>"$tmp/feeder2.log" || fail "feeder run 2: $(tail -5 "$tmp/feeder2.log")"
kill -TERM "$sim_pid"
wait "$sim_pid" || true
sim_pid=""
grep -q '"out_of_order_arrivals": 0' "$tmp/summary.json" || fail "out of order: $(cat "$tmp/summary.json")"
grep -q '"sequence_gaps": 0' "$tmp/summary.json" || fail "gaps: $(cat "$tmp/summary.json")"
awk -F'\t' '$4 == "SO-000003"' "$tmp/ledger.tsv" | grep -q 'CreateSalesOrder' || fail "SO-000003 never posted"
echo "ok"
