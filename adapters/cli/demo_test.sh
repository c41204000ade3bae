#!/bin/sh
# CliTest.Demo: runs `ordersync demo` briefly (the whole pipeline in one process: loadgen
# producers -> ingress -> engine -> outbox -> dispatcher -> ERP simulator, with an ERP
# outage) and checks what it reports, then runs the commands its summary prints on the
# data dir it kept. Asserts behaviour only, never timing.
# Usage: demo_test.sh path/to/ordersync
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# --help documents every option.
"$bin" demo --help >"$tmp/help" || fail "demo --help exited $?"
for opt in --seconds --rate --producers --outage-seconds --erp-reject-rate --drain-timeout --linger --data-dir \
           --seed --erp --verbose; do
  grep -q -- "$opt" "$tmp/help" || fail "demo --help does not mention $opt"
done

"$bin" demo --seconds 6 --outage-seconds 2 --data-dir "$tmp/data" >"$tmp/out" 2>"$tmp/err" \
  || fail "demo exited $?: $(cat "$tmp/out" "$tmp/err")"
out=$(cat "$tmp/out")
show() { printf '%s\n' "$out"; }

# Progress lines, then the summary's key lines.
show | grep -q '^\[ *[0-9]*s\]' || fail "no progress lines: $out"
for line in '^What happened' '^  accepted ' '^  duplicates ' '^  rejected ' '^  ERP outage ' '^  ERP posted ' \
            '^Where to look next'; do
  show | grep -q "$line" || fail "summary lacks '$line': $out"
done

# ERP postings > 0, none duplicated or out of order, everything issued posted.
posted_line=$(show | grep '^  ERP posted ')
issued=$(echo "$posted_line" | sed -n 's/^  ERP posted  \([0-9]*\) commands issued; the ERP posted \([0-9]*\), with \([0-9]*\) duplicates and \([0-9]*\) out of order.*/\1/p')
posted=$(echo "$posted_line" | sed -n 's/.*the ERP posted \([0-9]*\), with.*/\1/p')
dups=$(echo "$posted_line" | sed -n 's/.*, with \([0-9]*\) duplicates.*/\1/p')
ooo=$(echo "$posted_line" | sed -n 's/.* and \([0-9]*\) out of order.*/\1/p')
[ -n "$posted" ] && [ "$posted" -gt 0 ] || fail "no ERP postings: $posted_line"
[ "$dups" = 0 ] || fail "ERP duplicates: $posted_line"
[ "$ooo" = 0 ] || fail "ERP out-of-order postings: $posted_line"
[ "$posted" = "$issued" ] || fail "posted $posted of $issued issued: $posted_line"
show | grep -q 'commands (at [0-9]* s) and drained' || fail "the outbox did not drain: $out"

# The console's URL is printed (header and summary).
show | grep -q '^  console    http://127.0.0.1:[0-9]*/' || fail "no console URL in the header: $out"
show | grep -q '^  console     http://127.0.0.1:[0-9]*/' || fail "no console URL in the summary: $out"

# Malformed frames were rejected and quarantined.
quarantined=$(show | sed -n 's/^  rejected    \([0-9]*\) malformed frames.*quarantined (\([0-9]*\) records).*/\2/p')
[ -n "$quarantined" ] && [ "$quarantined" -gt 0 ] || fail "nothing quarantined: $(show | grep '^  rejected')"

# The printed commands work after the demo ended, on the kept data dir.
trace_cmd=$(show | sed -n 's/^  an order    //p')
order=${trace_cmd##* }
[ -n "$order" ] || fail "no trace command printed: $out"
sh -c "$trace_cmd" >"$tmp/trace" 2>&1 || fail "'$trace_cmd' exited $?: $(cat "$tmp/trace")"
grep -q "^order $order " "$tmp/trace" || fail "trace does not show $order: $(head -5 "$tmp/trace")"
grep -q 'ERP answered Posted' "$tmp/trace" || fail "trace shows no posting: $(cat "$tmp/trace")"
quarantine_cmd=$(show | sed -n 's/^  quarantine  //p')
[ -n "$quarantine_cmd" ] || fail "no quarantine command printed: $out"
sh -c "$quarantine_cmd" >"$tmp/quarantine" 2>&1 || fail "'$quarantine_cmd' exited $?: $(cat "$tmp/quarantine")"
grep -q "$quarantined records" "$tmp/quarantine" || fail "quarantine list disagrees: $(head -3 "$tmp/quarantine")"
dlq_cmd=$(show | sed -n 's/^  ERP DLQ     //p')
[ -n "$dlq_cmd" ] || fail "no dlq command printed: $out"
sh -c "$dlq_cmd" >"$tmp/dlq" 2>&1 || fail "'$dlq_cmd' exited $?: $(cat "$tmp/dlq")"
grep -q '0 dead letter(s)' "$tmp/dlq" || fail "dlq list: $(cat "$tmp/dlq")"

# --erp netsuite: the same pipeline posting to the simulated NetSuite REST API (OAuth,
# 503 + Retry-After during the outage); allocations go to the ZeroMQ target "wms".
"$bin" demo --erp netsuite --seconds 5 --outage-seconds 2 --data-dir "$tmp/ns" >"$tmp/ns.out" 2>"$tmp/ns.err" \
  || fail "demo --erp netsuite exited $?: $(cat "$tmp/ns.out" "$tmp/ns.err")"
ns_out=$(cat "$tmp/ns.out")
printf '%s\n' "$ns_out" | grep -q 'dispatcher -> simulated NetSuite REST API at http://127.0.0.1:[0-9]* (OAuth' \
  || fail "demo --erp netsuite does not name the NetSuite simulator: $ns_out"
ns_posted=$(printf '%s\n' "$ns_out" | grep '^  ERP posted ')
ns_issued=$(echo "$ns_posted" | sed -n 's/^  ERP posted  \([0-9]*\) commands issued.*/\1/p')
ns_count=$(echo "$ns_posted" | sed -n 's/.*the ERP posted \([0-9]*\), with.*/\1/p')
ns_dups=$(echo "$ns_posted" | sed -n 's/.*, with \([0-9]*\) duplicates.*/\1/p')
[ -n "$ns_count" ] && [ "$ns_count" -gt 0 ] && [ "$ns_count" = "$ns_issued" ] || fail "netsuite: $ns_posted"
[ "$ns_dups" = 0 ] || fail "netsuite duplicates: $ns_posted"
printf '%s\n' "$ns_out" | grep -q '^  ERP HTTP    target erp (netsuite): [0-9]* requests' \
  || fail "no HTTP figures for the NetSuite target: $ns_out"
printf '%s\n' "$ns_out" | grep -q '[1-9][0-9]* OAuth tokens' || fail "no OAuth token fetched: $ns_out"
ns_trace=$(printf '%s\n' "$ns_out" | sed -n 's/^  an order    //p')
sh -c "$ns_trace" >"$tmp/ns.trace" 2>&1 || fail "'$ns_trace' exited $?: $(cat "$tmp/ns.trace")"
grep -q 'ERP answered Posted, document [0-9A-Za-z-]* (HTTP 20[0-9])' "$tmp/ns.trace" \
  || fail "the trace shows no HTTP status with the document: $(cat "$tmp/ns.trace")"
echo "ok"
