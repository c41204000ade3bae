#!/bin/sh
# IngressTest.LoadgenServeSmoke: the real binaries end to end, a few seconds. Starts
# `ordersync serve` on ephemeral loopback ports and a temp data dir, then:
#   - `ordersync loadgen` (acknowledged, with malformed frames): every event answered as
#     expected, the malformed ones rejected, nothing unanswered; --json written;
#   - `ordersync loadgen --push` against the fire-and-forget endpoint;
#   - `ordersync quarantine list|show` on the running engine's data dir (read-only);
#   - SIGHUP after adding a global rate limit to the config: logged, and the next loadgen
#     run is throttled (and still gets every event accepted) on the same server;
#   - `ordersync keygen`; SIGTERM (clean stop); quarantine list on the stopped data dir.
# Usage: loadgen_smoke_test.sh path/to/ordersync
set -eu
bin=$1
tmp=$(mktemp -d)
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill -9 "$serve_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/serve.log" ] && tail -20 "$tmp/serve.log" >&2; exit 1; }
json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }

cat >"$tmp/ordersync.toml" <<TOML
[storage]
data_dir = "$tmp/data"
[ingress]
ack_endpoint = "tcp://127.0.0.1:*"
pull_endpoint = "tcp://127.0.0.1:*"
[metrics]
enabled = false
[admin]
endpoint = ""
TOML
"$bin" --config "$tmp/ordersync.toml" serve 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 1 300); do grep -q 'running; stop with' "$tmp/serve.log" && break; sleep 0.1; done
grep -q 'running; stop with' "$tmp/serve.log" || fail "serve did not start"
ack=$(sed -n 's/.*acknowledged endpoint \(tcp:[^,]*\),.*/\1/p' "$tmp/serve.log")
pull=$(sed -n 's/.*fire-and-forget endpoint \(tcp:[^,]*\),.*/\1/p' "$tmp/serve.log")
[ -n "$ack" ] && [ -n "$pull" ] || fail "endpoints not logged"

# Acknowledged load with malformed frames.
"$bin" loadgen --endpoint "$ack" --seconds 2 --producers 2 --malformed 0.01 --quiet --json "$tmp/lg.json" \
  >"$tmp/lg.out" || fail "loadgen exited $?: $(cat "$tmp/lg.out")"
grep -q 'ack latency per batch  p50' "$tmp/lg.out" || fail "loadgen printed no latency summary"
sent=$(json_field "$tmp/lg.json" sent)
malformed=$(json_field "$tmp/lg.json" malformed_sent)
rejected=$(json_field "$tmp/lg.json" rejected)
[ "$sent" -gt 0 ] || fail "loadgen sent nothing"
[ "$malformed" -gt 0 ] || fail "loadgen sent no malformed frame"
[ "$rejected" = "$malformed" ] || fail "rejected $rejected != malformed $malformed"
[ "$(json_field "$tmp/lg.json" unexpected)" = 0 ] || fail "unexpected answers: $(cat "$tmp/lg.json")"
[ "$(json_field "$tmp/lg.json" unanswered)" = 0 ] || fail "unanswered events"

# Fire-and-forget.
"$bin" loadgen --push --endpoint "$pull" --seconds 1 --producers 1 --malformed 0 --quiet >"$tmp/push.out" \
  || fail "loadgen --push exited $?: $(cat "$tmp/push.out")"
grep -q 'events/s sent' "$tmp/push.out" || fail "push summary missing"

# The quarantine of the running engine: at least the frames loadgen saw rejected.
"$bin" --config "$tmp/ordersync.toml" quarantine list --json >"$tmp/q.json" || fail "quarantine list failed"
count=$(json_field "$tmp/q.json" count)
[ "$count" -ge "$rejected" ] || fail "quarantine holds $count records, want >= $rejected"
"$bin" --config "$tmp/ordersync.toml" quarantine show 1 --raw "$tmp/frame.bin" >"$tmp/show.out" \
  || fail "quarantine show failed"
grep -q '^reason ' "$tmp/show.out" || fail "quarantine show printed no reason"
set +e
"$bin" validate "$tmp/frame.bin" >/dev/null; rc=$?
"$bin" --config "$tmp/ordersync.toml" quarantine show 999999 2>/dev/null; missing_rc=$?
set -e
[ $rc -eq 1 ] || fail "the quarantined frame validates (exit $rc), want rejected (1)"
[ $missing_rc -eq 1 ] || fail "quarantine show of a missing id exited $missing_rc, want 1"

# Reload: a global rate limit, applied on SIGHUP to the running server.
printf '[ingress.rate_limit]\nglobal_events_per_s = 200\nglobal_burst = 50\n' >>"$tmp/ordersync.toml"
kill -HUP "$serve_pid"
for _ in $(seq 1 100); do grep -q 'global_events_per_s 0 -> 200' "$tmp/serve.log" && break; sleep 0.1; done
grep -q 'SIGHUP: ingress.rate_limit.global_events_per_s 0 -> 200' "$tmp/serve.log" || fail "reload not logged"
"$bin" loadgen --endpoint "$ack" --seconds 5 --max-events 300 --producers 1 --malformed 0 --quiet \
  --json "$tmp/throttled.json" >"$tmp/throttled.out" || fail "throttled loadgen exited $?: $(cat "$tmp/throttled.out")"
[ "$(json_field "$tmp/throttled.json" throttled_retries)" -gt 0 ] || fail "no throttling after the reload"
[ "$(json_field "$tmp/throttled.json" unanswered)" = 0 ] || fail "throttled events never accepted"

# Keys.
"$bin" keygen smoke --dir "$tmp/keys" >/dev/null || fail "keygen failed"
[ "$(stat -c %a "$tmp/keys/smoke.key")" = 600 ] || fail "secret key file is not mode 0600"
[ -s "$tmp/keys/smoke.pub" ] || fail "no public key file"

# Clean stop, then the same quarantine on the stopped data dir.
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited $? after SIGTERM"
serve_pid=""
grep -q 'ingress: .* batches' "$tmp/serve.log" || fail "no ingress summary at stop"
"$bin" --config "$tmp/ordersync.toml" quarantine list >"$tmp/q.txt" || fail "quarantine list on a stopped dir failed"
grep -q "records" "$tmp/q.txt" || fail "quarantine list printed no summary"
echo "ok"
