"""The cluster fault suite's report (bench/cluster-faults/run): reads each scenario's
results in OUT (the checker's check.json, the loadgens' loadN.json, erp-sim's sim.json,
export-state's export.json, the driver's facts.txt and problems.txt), judges each scenario
(PASS / FAIL with the reasons) and writes OUT/report.md (a Markdown table) and
OUT/report.json; prints the Markdown. Exit 1 when a scenario failed.

Usage: report.py OUT SMOKE(0|1) KILLS
"""
import json, math, os, statistics, sys

out, smoke, kills = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])


def load(p):
    try:
        return json.load(open(p))
    except Exception:
        return {}


def pct(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    v = sorted(values)
    return v[max(0, min(len(v) - 1, math.ceil(q / 100 * len(v)) - 1))]


rows, report, failed = [], {"mode": "smoke" if smoke else "full", "scenarios": {}}, False
for name in ["node_kill", "nats_kill", "rolling", "partition"]:
    d = os.path.join(out, name)
    if not os.path.isdir(d):
        continue
    if os.path.exists(f"{d}/facts.txt") and any(l.startswith("skipped=") for l in open(f"{d}/facts.txt")):
        why = [l.strip().split("=", 1)[1] for l in open(f"{d}/facts.txt") if l.startswith("skipped=")][0]
        rows.append({"scenario": name, "result": "SKIPPED", "faults": why, "acked": None, "lost": None,
                     "duplicated": None, "postings": None, "expected": None, "missing": None, "posted_twice": None,
                     "order_violations": None, "outbox_left": None, "erp_repeats": None, "batches_resent": None,
                     "seconds": None, "problems": []})
        report["scenarios"][name] = rows[-1]
        continue
    c, sim, exp = load(f"{d}/check.json"), load(f"{d}/sim.json"), load(f"{d}/export.json")
    lgs = [load(f"{d}/load{n}.json") for n in (1, 2, 3)]
    facts = dict(l.strip().split("=", 1) for l in open(f"{d}/facts.txt") if "=" in l) \
        if os.path.exists(f"{d}/facts.txt") else {}
    problems = [l.strip() for l in open(f"{d}/problems.txt")] if os.path.exists(f"{d}/problems.txt") else []
    ev, erp = c.get("events", {}), c.get("erp", {})
    if c.get("failures", -1) != 0:
        problems.append(f"checker reports {c.get('failures')} failures"
                        + (f" (first: {erp.get('first_problem')})" if erp.get("first_problem") else ""))
    if ev.get("acked", 0) == 0:
        problems.append("no events acked")
    extra = {}
    if name == "node_kill":
        made = int(facts.get("kills", 0) or 0)
        fo = [int(x) for x in facts.get("failover_ms", "").split(",") if x.strip().isdigit()]
        owned = [int(x) for x in facts.get("owned_ms", "").split(",") if x.strip().isdigit()]
        extra = {"failover_ms": fo, "owned_ms": owned, "lease_ttl_s": int(facts.get("lease_ttl_s", 0) or 0)}
        if fo:
            extra.update({"failover_p50_ms": pct(fo, 50), "failover_p99_ms": pct(fo, 99), "failover_max_ms": max(fo),
                          "failover_mean_ms": round(statistics.mean(fo))})
        faults = (f"kill -9 x{made} ({facts.get('victims', '').replace(',', ', ')} acked); failover "
                  + (f"p50 {extra['failover_p50_ms']} ms, p99 {extra['failover_p99_ms']} ms (n={len(fo)}, "
                     f"lease TTL {facts.get('lease_ttl_s')} s)" if fo else "not measured"))
        if made < (1 if smoke else kills):
            problems.append(f"only {made} of {kills} kills happened before the load ended")
        if len(fo) < made:
            problems.append(f"{made - len(fo)} kill(s) without a completed failover")
    elif name == "nats_kill":
        made = int(facts.get("kills", 0) or 0)
        faults = (f"kill -9 of nats-server x{made} ({facts.get('victims', '').replace(',', ', ')} acked), "
                  f"rejoined in {facts.get('rejoin_ms', '').replace(',', ', ')} ms")
        planned = int(facts.get("kills_planned", 2) or 2)
        if made < planned:
            problems.append(f"only {made} of {planned} nats-server kills happened before the load ended")
    elif name == "partition":
        made = int(facts.get("cuts", 0) or 0)
        fo = facts.get("failover_ms", "")
        extra = {"failover_ms": int(fo) if fo.isdigit() else None,
                 "max_stopped_ms": facts.get("max_stopped_ms"), "min_gap_ms": facts.get("min_gap_ms"),
                 "lease_ttl_s": int(facts.get("lease_ttl_s", 0) or 0)}
        faults = (f"node3's cluster link cut (ERP link up) for {facts.get('healed_after_ms')} ms; its dispatching "
                  f"stopped within {facts.get('max_stopped_ms')} ms of the cut (lease TTL {facts.get('lease_ttl_s')} s), "
                  f"{facts.get('min_gap_ms')} ms or more before a live node adopted a partition; failover "
                  f"{facts.get('failover_ms')} ms; settled {facts.get('settled_after_heal_ms')} ms after the heal")
        if made < 1:
            problems.append("the cut did not happen")
        if facts.get("load_ran_past_faults") != "yes":
            problems.append("the load ended before the cut was healed (not under load throughout the cut)")
    else:
        made = int(facts.get("restarts", 0) or 0)
        faults = f"rolling restart of {made} nodes ({facts.get('restarted_at_acked', '').replace(',', ', ')} acked)"
        if made < 3:
            problems.append(f"only {made} of 3 nodes restarted")
        if facts.get("load_ran_past_faults") != "yes":
            problems.append("the load ended before the rolling restart did (not under load throughout)")
    ok = not problems
    failed = failed or not ok
    resent = sum(l.get("batches_resent", 0) for l in lgs)
    row = {"scenario": name, "result": "PASS" if ok else "FAIL", "faults": faults,
           "acked": ev.get("acked"), "lost": ev.get("lost"), "duplicated": ev.get("duplicated"),
           "postings": erp.get("postings"), "expected": erp.get("expected"), "missing": erp.get("missing"),
           "posted_twice": erp.get("posted_twice"), "order_violations": erp.get("order_violations"),
           "outbox_left": erp.get("outbox_left"), "erp_repeats": sim.get("duplicates_received", 0),
           "batches_resent": resent, "seconds": facts.get("seconds"), "problems": problems, **extra}
    rows.append(row)
    report["scenarios"][name] = {**row, "check": c, "facts": facts, "export": {k: v for k, v in exp.items()
                                                                                if k != "partitions"},
                                 "loadgens": lgs, "erp_sim": sim}

md = ["| scenario | result | faults | acked | lost | dup | postings (expected) | missing | twice | order viol. "
      "| outbox left | ERP repeats | resends | s |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    md.append(f"| {r['scenario']} | {r['result']} | {r['faults']} | {r['acked']} | {r['lost']} | {r['duplicated']} | "
              f"{r['postings']} ({r['expected']}) | {r['missing']} | {r['posted_twice']} | {r['order_violations']} | "
              f"{r['outbox_left']} | {r['erp_repeats']} | {r['batches_resent']} | {r['seconds']} |")
for r in rows:
    for p in r["problems"]:
        md.append(f"\n- **{r['scenario']}**: {p}")
text = "\n".join(md) + "\n"
open(f"{out}/report.md", "w").write(text)
report["result"] = "FAIL" if failed else "PASS"
json.dump(report, open(f"{out}/report.json", "w"), indent=1)
print(text)
print("result:", report["result"])
sys.exit(1 if failed or not rows else 0)
