#!/bin/sh
# The shipped nats-server configs (deploy/cluster/nats-*.conf) are valid for the installed
# nats-server, and what docs/cluster-log.md says about its fsync setting is still true:
# nats-server 2.9 refuses "sync_interval" (fsync per write needs 2.10+). When the installed
# server accepts it, this fails so that the configs and the doc get updated.
# Usage: check_deploy_configs.sh <deploy/cluster dir>
set -eu
# Debian installs nats-server in /usr/sbin, which a non-root user's PATH may lack.
PATH="$PATH:/usr/sbin"
dir=$1
for conf in "$dir"/nats-*.conf; do
  nats-server -t -c "$conf" || { echo "invalid: $conf"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'jetstream { store_dir: "%s", sync_interval: always }\n' "$tmp" > "$tmp/sync.conf"
if nats-server -t -c "$tmp/sync.conf" >/dev/null 2>&1; then
  echo "nats-server $(nats-server --version) accepts 'sync_interval: always': set it in deploy/cluster/nats-*.conf"
  echo "and update docs/cluster-log.md (Durability)"
  exit 1
fi
echo "configs valid; $(nats-server --version) has no sync_interval setting (as docs/cluster-log.md says)"
