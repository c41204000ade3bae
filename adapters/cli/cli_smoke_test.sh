#!/bin/sh
# CliTest.HelpAndConfigCheck: runs the real `ordersync` binary through --help, config
# show/check and serve --print-config, checking exit codes and key output.
# Usage: cli_smoke_test.sh path/to/ordersync
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# --help: exit 0, lists the subcommands and says where the default config comes from.
"$bin" --help >"$tmp/help" || fail "--help exited $?"
for word in serve config validate configs/ordersync.toml Examples; do
  grep -q "$word" "$tmp/help" || fail "--help does not mention '$word'"
done

# The documented default passes config check, through a file and through stdin.
"$bin" config show --default >"$tmp/default.toml" || fail "config show --default exited $?"
out=$("$bin" config check "$tmp/default.toml") || fail "config check of the default failed"
[ "$out" = "ok" ] || fail "config check printed '$out', want 'ok'"
"$bin" config show --default | "$bin" config check /dev/stdin >/dev/null \
  || fail "config check /dev/stdin failed"

# serve --print-config prints a config that loads back, from the default and a file.
"$bin" serve --print-config >"$tmp/effective.toml" || fail "serve --print-config exited $?"
grep -q '^partitions = 64$' "$tmp/effective.toml" || fail "--print-config lacks partitions"
"$bin" config check "$tmp/effective.toml" >/dev/null || fail "--print-config output does not load"
printf '[engine]\npartitions = 8\n' >"$tmp/eight.toml"
"$bin" --config "$tmp/eight.toml" serve --print-config | grep -q '^partitions = 8$' \
  || fail "--config before serve not applied"
"$bin" serve --config "$tmp/eight.toml" --print-config | grep -q '^partitions = 8$' \
  || fail "--config after serve not applied"

# serve starts the engine on a data dir, runs until SIGTERM, then drains and exits 0.
# Ephemeral loopback ports and no metrics/admin listeners, so parallel runs never collide.
cat >"$tmp/serve.toml" <<TOML
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
"$bin" --config "$tmp/serve.toml" serve 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 1 100); do grep -q 'running; stop with' "$tmp/serve.log" && break; sleep 0.1; done
grep -q 'running; stop with' "$tmp/serve.log" || fail "serve did not start: $(cat "$tmp/serve.log")"
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve exited $? after SIGTERM"
grep -q 'partitions=64' "$tmp/serve.log" || fail "serve banner lacks partitions"
grep -q 'stopped' "$tmp/serve.log" || fail "serve did not report a clean stop"
[ -d "$tmp/data" ] || fail "serve did not create its data dir"

# Errors: exit 2 with the offending key on stderr.
printf '[engine]\ndurability = "sync"\n' >"$tmp/bad.toml"
set +e
"$bin" config check "$tmp/bad.toml" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "config check of a bad file exited $rc, want 2"
grep -q 'engine.durability' "$tmp/err" || fail "error does not name the key: $(cat "$tmp/err")"
"$bin" config check "$tmp/missing.toml" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "config check of a missing file exited $rc, want 2"
"$bin" --config "$tmp/bad.toml" serve 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "serve with a bad config exited $rc, want 2"
"$bin" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "no subcommand exited $rc, want 2"
"$bin" frobnicate 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown subcommand exited $rc, want 2"
grep -q "unknown subcommand 'frobnicate'" "$tmp/err" || fail "unknown subcommand not named: $(cat "$tmp/err")"
"$bin" frobnicate --help >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown subcommand with --help exited $rc, want 2"
grep -q "unknown subcommand 'frobnicate'" "$tmp/err" || fail "unknown subcommand --help: $(cat "$tmp/err")"
[ ! -s "$tmp/out" ] || fail "unknown subcommand --help printed help: $(head -3 "$tmp/out")"
"$bin" --config "$tmp/bad.toml" frobnicate 2>"$tmp/err"; rc=$?
grep -q "unknown subcommand 'frobnicate'" "$tmp/err" || fail "--config FILE frobnicate: $(cat "$tmp/err")"
set -e

echo "ok"
