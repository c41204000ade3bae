#!/bin/sh
# The monitoring pack in configs/prometheus/: the scrape config and the rules load in the
# real promtool, the rule unit tests pass, and the Grafana dashboard is valid JSON whose
# queries use only ordersync metrics that the docs list.
# Usage: monitoring_pack_test.sh PROMTOOL PACK_DIR
set -eu
promtool="$1"
pack="$2"
[ -x "$promtool" ] || { echo "promtool not found (Debian package prometheus; scripts/bootstrap)"; exit 1; }
cd "$pack"
"$promtool" check config prometheus.yml
"$promtool" check rules ordersync-alerts.yml
"$promtool" test rules ordersync-alerts.test.yml ordersync-cluster-alerts.test.yml
python3 - grafana-dashboard.json ../../docs/operations.md <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
docs = open(sys.argv[2]).read()
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
assert exprs, "dashboard has no queries"
missing = set()
for e in exprs:
    for m in re.findall(r"\b(ordersync_[a-z0-9_]+)", e):
        base = re.sub(r"_(bucket|sum|count)$", "", m)
        if base not in docs and m not in docs:
            missing.add(m)
assert not missing, "dashboard metrics not documented in docs/operations.md: %s" % sorted(missing)
print("dashboard: %d panels, %d queries ok" % (len(dash["panels"]), len(exprs)))
PY
