#!/bin/sh
# The shipped nats-server configs (deploy/cluster/nats-*.conf) are valid for the installed
# nats-server. They set "sync_interval: always" (fsync per write, docs/cluster-log.md
# "Durability"), which needs nats-server 2.10+ (scripts/bootstrap installs Debian
# trixie's 2.10.27). On a 2.9 server (bootstrap could not fetch 2.10) the rest of each
# config is checked without that line, and a warning says what is missing.
# Usage: check_deploy_configs.sh <deploy/cluster dir>
set -eu
# Debian installs nats-server in /usr/sbin, which a non-root user's PATH may lack.
PATH="$PATH:/usr/sbin"
dir=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'jetstream { store_dir: "%s", sync_interval: always }\n' "$tmp" > "$tmp/sync.conf"
has_sync=1
nats-server -t -c "$tmp/sync.conf" >/dev/null 2>&1 || has_sync=0
for conf in "$dir"/nats-*.conf; do
  grep -q '^ *sync_interval: always' "$conf" || { echo "$conf does not set sync_interval: always"; exit 1; }
  if [ $has_sync -eq 1 ]; then
    nats-server -t -c "$conf" || { echo "invalid: $conf"; exit 1; }
  else
    sed '/^ *sync_interval:/d' "$conf" > "$tmp/$(basename "$conf")"
    nats-server -t -c "$tmp/$(basename "$conf")" || { echo "invalid (without sync_interval): $conf"; exit 1; }
  fi
done
if [ $has_sync -eq 1 ]; then
  echo "configs valid for $(nats-server --version), fsync per write (sync_interval: always)"
else
  echo "WARNING: $(nats-server --version) has no sync_interval: configs valid without it; run scripts/bootstrap" \
       "to install nats-server 2.10 (durability = \"fsync\" needs it)"
fi
