#!/bin/sh
# CliTest.ServeScheduledReconcile: the real `ordersync serve` with
# [reconcile.schedule.erp] (every second, source = "export"). `ordersync config show` prints
# the schedule; the metrics endpoint shows a run that found a document unknown to
# ordersync (differences gauge, runs_total{result="differences"}), then a clean run on an
# empty export (last-clean timestamp set, differences 0), then failed runs once the file
# is gone (counted, the reason in the log and in the admin command "reconcile.schedule");
# `promtool check metrics` accepts the scrape.
# Usage: serve_reconcile_schedule_test.sh path/to/ordersync path/to/promtool
set -eu
bin=$1
promtool=$2
tmp=$(mktemp -d)
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/serve.log" ] && tail -20 "$tmp/serve.log" >&2; exit 1; }

put() {  # atomically replace the export with stdin, as an ERP export job should
  cat >"$tmp/export.new" && mv "$tmp/export.new" "$tmp/export.csv"
}
posted=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
printf 'document_number,external_id,kind,order_id,posted_at\nGHOST-1,GHOST/SO/GHOST,CreateSalesOrder,GHOST,%s\n' \
  "$posted" | put
cat >"$tmp/ordersync.toml" <<TOML
[storage]
data_dir = "$tmp/data"
[ingress]
ack_endpoint = "tcp://127.0.0.1:*"
pull_endpoint = "tcp://127.0.0.1:*"
[metrics]
listen_address = "127.0.0.1:0"
[admin]
endpoint = "ipc://$tmp/admin.sock"
[console]
enabled = false
[reconcile.schedule.erp]
interval_s = 1
lookback_s = 3600
settle_s = 0
export_path = "$tmp/export.csv"
TOML
"$bin" --config "$tmp/ordersync.toml" config show >"$tmp/config.txt" || fail "config: $(cat "$tmp/config.txt")"
grep -q '^\[reconcile.schedule.erp\]$' "$tmp/config.txt" || fail "config does not print the schedule"
grep -q '^interval_s = 1$' "$tmp/config.txt" || fail "config: interval_s"

"$bin" --config "$tmp/ordersync.toml" serve 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do grep -q 'running; stop with' "$tmp/serve.log" && break; sleep 0.1; done
grep -q 'running; stop with' "$tmp/serve.log" || fail "serve did not start"
grep -q 'reconcile: erp every 1 s' "$tmp/serve.log" || fail "serve did not log the schedule"
url=$(sed -n 's/.*metrics: \(http:[^ ]*\).*/\1/p' "$tmp/serve.log" | head -1)
[ -n "$url" ] || fail "no metrics url in the log"

scrape() {
  /usr/bin/python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "$url" >"$tmp/metrics.txt" 2>/dev/null || : >"$tmp/metrics.txt"
}
# wait_for PATTERN: scrapes until a line matches the extended regex.
wait_for() {
  for _ in $(seq 1 150); do scrape; grep -Eq "$1" "$tmp/metrics.txt" && return 0; sleep 0.1; done
  fail "no metrics line matches '$1': $(grep ordersync_reconcile "$tmp/metrics.txt")"
}

wait_for '^ordersync_reconcile_runs_total\{target="erp",result="differences"\} [1-9]'
grep -Eq '^ordersync_reconcile_differences\{target="erp",class="unknown_to_ordersync"\} 1$' "$tmp/metrics.txt" ||
  fail "differences: $(grep ordersync_reconcile_differences "$tmp/metrics.txt")"
grep -Eq '^ordersync_reconcile_last_clean_run_timestamp_seconds\{target="erp"\} 0$' "$tmp/metrics.txt" ||
  fail "a clean run before any: $(grep last_clean "$tmp/metrics.txt")"
"$promtool" check metrics <"$tmp/metrics.txt" >"$tmp/promtool.txt" 2>&1 || fail "promtool: $(cat "$tmp/promtool.txt")"
[ ! -s "$tmp/promtool.txt" ] || fail "promtool: $(cat "$tmp/promtool.txt")"
grep -q 'scheduled reconcile of erp .*differences: 0 acknowledged, 0 matched, 0 missing_in_erp, 1 unknown_to_ordersync' \
  "$tmp/serve.log" || fail "no differences line in the log"

# The ERP's export without the stray document: clean.
printf 'document_number,external_id,kind,order_id,posted_at\n' | put
wait_for '^ordersync_reconcile_runs_total\{target="erp",result="clean"\} [1-9]'
grep -Eq '^ordersync_reconcile_differences\{target="erp",class="unknown_to_ordersync"\} 0$' "$tmp/metrics.txt" ||
  fail "differences after a clean run: $(grep ordersync_reconcile_differences "$tmp/metrics.txt")"
grep -Eq '^ordersync_reconcile_last_clean_run_timestamp_seconds\{target="erp"\} [1-9]' "$tmp/metrics.txt" ||
  fail "last clean: $(grep last_clean "$tmp/metrics.txt")"

# The ERP dropped no file: failed, counted, with the reason.
rm "$tmp/export.csv"
wait_for '^ordersync_reconcile_consecutive_failures\{target="erp"\} [2-9]'
grep -Eq '^ordersync_reconcile_runs_total\{target="erp",result="failed"\} [2-9]' "$tmp/metrics.txt" ||
  fail "failed runs: $(grep runs_total "$tmp/metrics.txt")"
grep -q "scheduled reconcile of erp .* failed: .*cannot open ERP export $tmp/export.csv" "$tmp/serve.log" ||
  fail "no reason in the log"
# The admin command "reconcile.schedule" (read-only) shows the state and the reason.
/usr/bin/python3 - "ipc://$tmp/admin.sock" >"$tmp/schedule.json" <<'PY' || fail "admin reconcile.schedule"
import json, sys, zmq
s = zmq.Context().socket(zmq.REQ)
s.setsockopt(zmq.RCVTIMEO, 5000)
s.setsockopt(zmq.LINGER, 0)
s.connect(sys.argv[1])
s.send_string(json.dumps({"command": "reconcile.schedule"}))
print(s.recv_string())
PY
/usr/bin/python3 - "$tmp/schedule.json" "$tmp/export.csv" <<'PY' || fail "reconcile.schedule: $(cat "$tmp/schedule.json")"
import json, sys
answer = json.load(open(sys.argv[1]))
assert answer["ok"], answer
erp = answer["result"]["schedules"][0]
assert erp["target"] == "erp" and erp["last_result"] == "failed", erp
assert "cannot open ERP export " + sys.argv[2] in erp["last_error"], erp
assert erp["runs"]["clean"] >= 1 and erp["runs"]["differences"] >= 1 and erp["last_clean_at"], erp
PY

kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited $?"
serve_pid=""
echo "ok"
