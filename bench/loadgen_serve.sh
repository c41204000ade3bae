#!/bin/sh
# Benchmark: `ordersync serve` (fresh temp data dir, ephemeral loopback ports, metrics and
# admin off, no ERP attached) driven by `ordersync loadgen` on the same machine. Prints loadgen's summary
# and leaves its JSON in $OUT (default ./loadgen-summary.json). Results: docs/benchmarks.md.
#
# Usage: bench/loadgen_serve.sh BIN [--push] [--durability wal|fsync] [-- LOADGEN ARGS...]
#   e.g. bench/loadgen_serve.sh build/release/adapters/cli/ordersync -- --seconds 20 --producers 4
set -eu
bin=$1; shift
mode=ack
durability=wal
while [ $# -gt 0 ]; do
  case "$1" in
    --push) mode=push; shift ;;
    --durability) durability=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=${OUT:-loadgen-summary.json}
tmp=$(mktemp -d)
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid"; rm -rf "$tmp"; }
trap cleanup EXIT
cat >"$tmp/ordersync.toml" <<TOML
[engine]
durability = "$durability"
[storage]
data_dir = "$tmp/data"
[ingress]
ack_endpoint = "tcp://127.0.0.1:*"
pull_endpoint = "tcp://127.0.0.1:*"
[metrics]
enabled = false
[admin]
endpoint = ""
# No ERP is attached: lift the outbox high-water mark so ERP back-pressure (Busy for
# events whose commands route to a backlogged target) does not cap the run.
[erp.targets.erp]
endpoint = "tcp://127.0.0.1:7200"
outbox_high_water = 4000000000
outbox_low_water = 3900000000
TOML
"$bin" --config "$tmp/ordersync.toml" serve 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do grep -q 'running; stop with' "$tmp/serve.log" && break; sleep 0.1; done
grep -q 'running; stop with' "$tmp/serve.log" || { cat "$tmp/serve.log" >&2; exit 1; }
if [ "$mode" = push ]; then
  endpoint=$(sed -n 's/.*fire-and-forget endpoint \(tcp:[^,]*\),.*/\1/p' "$tmp/serve.log")
  "$bin" loadgen --push --endpoint "$endpoint" --json "$out" "$@"
else
  endpoint=$(sed -n 's/.*acknowledged endpoint \(tcp:[^,]*\),.*/\1/p' "$tmp/serve.log")
  "$bin" loadgen --endpoint "$endpoint" --json "$out" "$@"
fi
kill -TERM "$serve_pid"; wait "$serve_pid"; serve_pid=""
grep 'ingress: .* batches\|stopped; this run' "$tmp/serve.log" | sed 's/^[^]]*] /serve: /'
