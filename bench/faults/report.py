"""The fault suite's report (bench/faults/run): reads each scenario's results in OUT
(the checker's check.json, loadgen's load.json and load.log, erp-sim's sim.json, the
driver's facts.txt), judges each scenario (PASS / FAIL with the reasons) and writes
OUT/report.md (a Markdown table, and for erp_outage a table of its Busy answers) and
OUT/report.json; prints the Markdown and the result. Exit 1 when a scenario failed.

Usage: report.py OUT SMOKE(0|1) KILLS OUTAGE_S MUTATED SABOTAGE
"""
import json, os, sys
out, smoke, kills, outage, mutated, sabotage = sys.argv[1], sys.argv[2] == "1", *sys.argv[3:6], sys.argv[6]
def load(p, default=None):
    try:
        return json.load(open(p))
    except Exception:
        return default if default is not None else {}
rows, report, failed = [], {"mode": "smoke" if smoke else "full", "sabotage": sabotage, "scenarios": {}}, False

def busy_figures(d, facts, lg):
    """The Busy answers of the erp_outage scenario per second of outage, from loadgen's
    summary (total, retry_after_ms hints) and its progress lines (Busy counts every 0.1 s;
    the driver read them when the outage started and ended)."""
    outage_s = float(facts.get("outage_s", 0) or 0)
    total = lg.get("busy_retries", 0)
    on, off = int(facts.get("busy_at_outage_start", 0) or 0), int(facts.get("busy_at_outage_end", 0) or 0)
    samples, peak = [], 0.0
    try:
        for line in open(f"{d}/load.log"):
            if line.startswith("[") and "] sent" in line:
                w = line.replace("[", " ").replace("s]", " ").split()
                samples.append((float(w[0]), int(w[w.index("busy") + 1])))
    except OSError:
        pass
    j = 0  # the peak over windows of at least 1 s (progress lines come every 0.1 s)
    for t1, b1 in samples:
        while j + 1 < len(samples) and samples[j + 1][0] <= t1 - 1.0: j += 1
        t0, b0 = samples[j]
        if t1 - t0 >= 1.0: peak = max(peak, (b1 - b0) / (t1 - t0))
    per = lambda n: round(n / outage_s, 1) if outage_s > 0 else 0.0
    return {"outage_s": outage_s, "busy_answers": total, "busy_per_outage_s": per(total),
            "busy_before_outage": on, "busy_in_outage": max(0, off - on), "busy_in_outage_per_s": per(max(0, off - on)),
            "busy_after_outage": max(0, total - off), "peak_busy_per_s": round(peak, 1),
            "retry_after_ms": lg.get("busy_retry_after_ms", {})}
for name in ["crash", "erp_outage", "ambiguous", "mutated", "curve", "http"]:
    d = os.path.join(out, name)
    if not os.path.isdir(d):
        continue
    c = load(f"{d}/check.json"); lg = load(f"{d}/load.json"); sim = load(f"{d}/sim.json")
    facts = dict(l.strip().split("=", 1) for l in open(f"{d}/facts.txt") if "=" in l) if os.path.exists(f"{d}/facts.txt") else {}
    ev, erp, q = c.get("events", {}), c.get("erp", {}), c.get("quarantine", {})
    problems = []
    if c.get("failures", -1) != 0: problems.append(f"checker reports {c.get('failures')} failures")
    if ev.get("valid_sent", 0) == 0 or ev.get("acked", 0) == 0: problems.append("no events")
    other = []
    if name == "crash":
        faults = (f"kill -9 x{facts.get('kills')} at {facts.get('killed_at_acked', '').replace(',', ', ')} acked events "
                  "(10% exact dup, 5% business dup, 10% out of order)")
        # Full mode must make every kill; the smoke (ASan, shared CI cores) at least one.
        if int(facts.get("kills", 0)) < (1 if smoke else int(kills)):
            problems.append(f"only {facts.get('kills')} of {kills} kills happened before the load ended")
        other.append(f"resends {lg.get('batches_resent', 0)}, reconnects {lg.get('reconnects', 0)}")
        other.append(f"ERP repeats {sim.get('duplicates_received', 0)}")
    elif name == "erp_outage":
        busy = busy_figures(d, facts, lg)
        faults = (f"ERP silent {busy['outage_s']} s under load (from {facts.get('outage_started_at_acked')} acked events)"
                  if busy["outage_s"] > 0 else "no ERP outage (the load ended before it could start)")
        ra = busy["retry_after_ms"]
        other.append(f"Busy answers {busy['busy_answers']} = {busy['busy_per_outage_s']:.0f} per s of outage "
                     f"({busy['busy_in_outage']} while silent, {busy['busy_after_outage']} after; peak "
                     f"{busy['peak_busy_per_s']:.0f}/s); retry_after_ms given min {ra.get('min', 0)} / mean "
                     f"{ra.get('mean', 0)} / max {ra.get('max', 0)}; outage drops {sim.get('outage_drops', 0)}")
        if busy["busy_answers"] == 0: other.append("back-pressure did not engage")
        if busy["outage_s"] <= 0: problems.append("the ERP outage never started (the load ended first)")
        elif facts.get("load_outlasted_outage") != "yes": problems.append("the load ended before the outage did")
    elif name == "ambiguous":
        faults = "10% of postings unanswered (ERP timeout after posting)"
        other.append(f"ambiguous {sim.get('ambiguous_injected', 0)}, AlreadyPosted {sim.get('duplicates_received', 0)}")
        if sim.get("ambiguous_injected", 0) == 0: problems.append("no ambiguous timeout injected")
    elif name == "mutated":
        mk = ev.get("mutated_by_kind", {})
        faults = f"{ev.get('malformed_sent', 0)} mutated frames (" + ", ".join(f"{k} {v}" for k, v in sorted(mk.items())) + ")"
        other.append(f"rejected {ev.get('malformed_rejected', 0)}, quarantined {q.get('count', 0)} (dropped {q.get('dropped', 0)}), reason mismatches {q.get('mismatches', 0)}")
        if q.get("mismatches", 1) != 0 or q.get("dropped", 0) != 0: problems.append("quarantine does not match the Rejected answers")
        if ev.get("malformed_rejected", 0) != ev.get("malformed_sent", -1): problems.append("not every mutated frame was rejected")
        if lg.get("unexpected", 1) != 0: problems.append(f"loadgen: {lg.get('unexpected')} answers with another reason than expected")
    elif name == "http":
        # Two HTTPS simulators (erp-sim --api netsuite / webhook), each with its summary.
        ns, hook = load(f"{d}/ns-sim.json"), load(f"{d}/hook-sim.json")
        sim = {"netsuite": ns, "webhook": hook}
        faults = (f"HTTP targets (NetSuite + webhook, HTTPS, OAuth): kill -9 x{facts.get('kills')} at "
                  f"{facts.get('killed_at_acked', '').replace(',', ', ')} acked events with requests in flight, "
                  "5% of replies lost after commit")
        if int(facts.get("kills", 0)) < (1 if smoke else int(facts.get("kills_planned", 0))):
            problems.append(f"only {facts.get('kills')} of {facts.get('kills_planned')} kills happened before the load ended")
        lost = ns.get("ambiguous_injected", 0) + hook.get("ambiguous_injected", 0)
        other.append(f"replies lost {lost}, NetSuite look-ups {ns.get('lookups', 0)}, tokens {ns.get('tokens_issued', 0)}, "
                     f"webhook replays {hook.get('replayed', 0)}; second documents {ns.get('duplicate_postings', 0)} + "
                     f"{hook.get('duplicate_postings', 0)}")
        if not ns or not hook: problems.append("an HTTP simulator wrote no summary")
        if ns.get("duplicate_postings", 0) or hook.get("duplicate_postings", 0):
            problems.append("an ERP holds a second document for one command")
        if lost == 0: problems.append("no reply was lost")
    elif name == "curve":
        per = {os.path.basename(p["file"]).split(".")[0]: p for p in c.get("per_log", [])}
        faults = "CURVE on; a wrong-key producer and a plain producer"
        bad = sum(per.get(k, {}).get("acked", 0) + per.get(k, {}).get("in_state", 0) for k in ("intruder", "plain"))
        bad += ev.get("unexpected", 0)
        other.append(f"ZAP denials {facts.get('zap_denials')}, unauthorised events acked or in state {bad}")
        if bad: problems.append("an unauthorised producer got events in")
        if int(facts.get("zap_denials", 0)) == 0: problems.append("no ZAP denial counted")
        if facts.get("refused_exited") != "yes": problems.append("a refused producer hung (killed after 60 s)")
    if erp.get("journal_not_expected", 0) or erp.get("expected_not_in_journal", 0):
        other.append(f"journal vs reference: {erp.get('journal_not_expected')} issued not expected, {erp.get('expected_not_in_journal')} expected not issued")
    failed |= bool(problems)
    report["scenarios"][name] = {"check": c, "loadgen": lg, "erp_sim": sim, "facts": facts, "problems": problems}
    if name == "erp_outage": report["scenarios"][name]["busy"] = busy
    rows.append([name, lg.get("sent", 0), faults, ev.get("acked", 0), ev.get("lost", "?"), ev.get("duplicated", "?"),
                 ev.get("unexpected", "?"), ev.get("recovered", "?"), erp.get("expected", "?"), erp.get("posted_once", "?"),
                 erp.get("missing", "?"), erp.get("posted_twice", "?"), erp.get("order_violations", "?"),
                 "; ".join(other), facts.get("seconds", ""), "PASS" if not problems else "FAIL: " + "; ".join(problems)])
head = ["scenario", "events sent", "faults injected", "acked", "lost", "duplicated", "unexpected", "recovered",
        "expected postings", "posted once", "missing", "posted twice", "order violations", "other", "s", "result"]
md = "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n"
md += "".join("| " + " | ".join(str(x) for x in r) + " |\n" for r in rows)
b = report["scenarios"].get("erp_outage", {}).get("busy")
if b:
    ra = b["retry_after_ms"]
    ranges = ", ".join(f"≤{k} ms: {v}" if k != "inf" else f">65536 ms: {v}" for k, v in ra.get("le", {}).items())
    md += ("\nBusy answers during the ERP outage (all Busy answers of the scenario; those after the outage are its backlog "
           "draining):\n\n| outage s | Busy answers | per s of outage | while silent (per s) | before / after | peak per s "
           "| retry_after_ms given: min / mean / max | retry_after_ms ranges |\n|---|---|---|---|---|---|---|---|\n"
           f"| {b['outage_s']} | {b['busy_answers']} | {b['busy_per_outage_s']:.0f} | {b['busy_in_outage']} "
           f"({b['busy_in_outage_per_s']:.0f}) | {b['busy_before_outage']} / {b['busy_after_outage']} | "
           f"{b['peak_busy_per_s']:.0f} | {ra.get('min', 0)} / {ra.get('mean', 0)} / {ra.get('max', 0)} | {ranges or '—'} |\n")
open(f"{out}/report.md", "w").write(md)
report["result"] = "FAIL" if failed else "PASS"
json.dump(report, open(f"{out}/report.json", "w"), indent=2)
print(md)
print(f"report: {out}/report.json")
print("RESULT:", report["result"])
sys.exit(1 if failed else 0)
