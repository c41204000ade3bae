"""Reports of the end-to-end benchmark (bench/e2e/run_e2e): the Markdown tables (e2e.md,
also pasted into docs/benchmarks.md), the time-series CSV and gnuplot PNG, and the smoke
test's check that e2e.json holds every field (no timing is asserted).
"""

import os
import shutil
import subprocess

from e2e_measure import PROCESSES, log


def fmt(v, d=0):
    return "—" if v is None else f"{v:,.{d}f}"


def cpu_table(res):
    """CPU per answered event (µs) of each process in each phase, as a Markdown table."""
    ph = res["phases"]
    rows = [("ordersync e2e, flat out", ph.get("ordersync")), ("ordersync at 50 %", ph.get("fixed")),
            ("ZeroMQ ceiling", ph.get("zeromq")), ("NATS JetStream", ph.get("nats")),
            ("RocksDB ceiling", ph.get("rocksdb"))]
    sw = ph.get("sweep") or {}
    rows += [(f"sweep: {p['orders']:,} orders", p) for p in sw.get("orders", [])]
    rows += [(f"sweep: {p['workers']} engine worker(s)", p) for p in sw.get("workers", [])]
    L = ["CPU per answered event, µs (utime + stime of each process over the phase ÷ the events answered in it; "
         "NATS: acked messages; RocksDB ceiling: events written):", "",
         "| phase | events | " + " | ".join(h for _, h in PROCESSES) + " | all |",
         "|---|---|" + "---|" * (len(PROCESSES) + 1)]
    for label, p in rows:
        if not p or "cpu_us_per_event" not in p:
            L.append(f"| {label} | skipped |" + " — |" * (len(PROCESSES) + 1))
            continue
        c = p["cpu_us_per_event"]
        L.append(f"| {label} | {p.get('cpu_events', 0):,} | " +
                 " | ".join(fmt(c.get(k), 1) for k, _ in PROCESSES) + f" | {fmt(c.get('all'), 1)} |")
    notes = []
    for key, label in (("ordersync", "flat out"), ("fixed", "at 50 %")):
        d = (ph.get(key) or {}).get("cpu_us_per_event_incl_erp_drain")
        if d:
            notes.append(f"{label}: serve {d['serve']:.1f} µs, erp-sim {d['erp_sim']:.1f} µs")
    if notes:
        L += ["", "Including the ERP catch-up after the load (serve and erp-sim CPU until the ERP posted every "
              "command, same events): " + "; ".join(notes) + "."]
    return "\n".join(L)


def markdown(res):
    ph = res["phases"]
    o, f, z, rk, nt, pr = ph["ordersync"], ph["fixed"], ph["zeromq"], ph["rocksdb"], ph["nats"], ph["profile"]
    m = res["machine"]
    L = [f"Run {res['started']} – {res['finished']}, mode `{res['mode']}`; {m['cpus']} cores ({m['cpu']}), "
         f"{m['mem_gib']} GiB; load average {m['load_avg_at_start']:.1f} at start, {res['load_avg_at_end']:.1f} at end.",
         "",
         "| phase | events/s | ack p50 / p99 / p99.9 ms | notes |", "|---|---|---|---|"]

    def lat(x):
        return f"{x['p50']:.2f} / {x['p99']:.2f} / {x['p99_9']:.2f}"

    L.append(f"| **ordersync e2e**, flat out | **{fmt(o['answered_per_s'])}** answered ({fmt(o['accepted_per_s'])} "
             f"accepted) | {lat(o['ack_latency_ms'])} | ERP posted {fmt(o['erp_posted_per_s'])}/s; event→ERP p50 "
             f"{fmt(o['event_to_erp_ms'].get('p50'), 1)} / p99 {fmt(o['event_to_erp_ms'].get('p99'), 1)} ms; "
             f"{o['events_per_group_commit']:.0f} events/commit |")
    L.append(f"| ordersync at 50 % ({fmt(f['target_rate'])}/s) | {fmt(f['answered_per_s'])} | {lat(f['ack_latency_ms'])}"
             f" | event→ERP p50 {fmt(f['event_to_erp_ms'].get('p50'), 1)} / p99 "
             f"{fmt(f['event_to_erp_ms'].get('p99'), 1)} ms |")
    L.append(f"| ZeroMQ ceiling (ack-only receiver) | {fmt(z['answered_per_s'])} | {lat(z['ack_latency_ms'])} | same "
             f"loadgen options |")
    L.append(f"| RocksDB ceiling ({rk['threads']} writer(s)) | {fmt(rk['events_per_s'])} | commit {rk['commit_ms']['p50']:.2f}"
             f" / {rk['commit_ms']['p99']:.2f} / {rk['commit_ms']['p99_9']:.2f} | {pr['writes_per_event']:.2f} writes/event, "
             f"{pr['bytes_per_write']:.0f} B/write, {rk['events_per_batch']} events/batch |")
    if nt.get("skipped"):
        L.append(f"| NATS JetStream peer | skipped | | {nt['reason']} |")
    else:
        L.append(f"| NATS JetStream (dedup on, file store) | {fmt(nt['acked_per_s'])} acked ({fmt(nt['stored_per_s'])} "
                 f"stored) | {lat(nt['ack_latency_ms'])} (per message) | dedup "
                 f"{'verified' if nt['dedup_ok'] else 'NOT verified'}: {nt['acked_duplicate']:,} duplicates dropped, "
                 f"stream holds {nt['stream_msgs']:,} |")
    L += ["", "| ordersync resources (flat out) | serve |", "|---|---|",
          f"| peak RSS (VmHWM) | {o['serve_peak_rss_mib']:,.0f} MiB |"]
    L += ["", cpu_table(res)]
    r = res["ratios"]
    L += ["", f"Ratios of figures measured in this same run (started {r.get('run_started', res['started'])}):", "",
          "| ratio | value |", "|---|---|",
          f"| ordersync / ZeroMQ ceiling (answered events/s) | {fmt(r['ordersync_over_zeromq'], 2)} |",
          f"| ordersync / RocksDB ceiling (events/s) | {fmt(r['ordersync_over_rocksdb'], 2)} |",
          f"| ordersync / NATS JetStream (answered events/s vs acked messages/s) | {fmt(r['ordersync_over_nats'], 2)} |",
          f"| serve CPU per event / nats-server CPU per message | {fmt(r.get('serve_cpu_over_nats_server_cpu'), 2)} |",
          f"| loadgen CPU per event / NATS peer CPU per message (the two load generators) | "
          f"{fmt(r.get('loadgen_cpu_over_nats_peer_cpu'), 2)} |",
          f"| ERP posted / commands issued during the flat-out load | {fmt(r.get('erp_posted_over_issued'), 2)} |"]
    sw = ph.get("sweep")
    if sw:
        L += ["", "| orders in state | preload | events/s | ack p99 ms | serve peak RSS |", "|---|---|---|---|---|"]
        for p in sw["orders"]:
            L.append(f"| {p['orders']:,} | {p['preload']['wall_s']:.0f} s | {fmt(p['answered_per_s'])} | "
                     f"{p['ack_latency_ms']['p99']:.2f} | {p['serve_peak_rss_mib']:,.0f} MiB |")
        L += ["", "| engine workers | events/s | ack p99 ms | CPU µs/event (serve) |", "|---|---|---|---|"]
        for p in sw["workers"]:
            L.append(f"| {p['workers']} | {fmt(p['answered_per_s'])} | {p['ack_latency_ms']['p99']:.2f} | "
                     f"{p['cpu_us_per_event']['serve']:.1f} |")
    L += ["", "| target | met | figure |", "|---|---|---|"]
    for t in res["targets"]:
        met = "n/a" if t["met"] is None else ("**met**" if t["met"] else "**not met**")
        L.append(f"| {t['target']} | {met} | {t['figure']} |")
    return "\n".join(L) + "\n"


def plot(res, out):
    rows = [s for s in res["timeseries"] if s["phase"] in ("ordersync", "fixed")]
    csv = os.path.join(out, "timeseries.csv")
    with open(csv, "w") as f:
        f.write("phase,t,events_per_s,erp_posted_per_s,ack_p99_ms\n")
        for s in res["timeseries"]:
            f.write(f"{s['phase']},{s['t']},{s['events_per_s']:.1f},{s['erp_posted_per_s']:.1f},"
                    f"{'' if s['ack_p99_ms'] is None else round(s['ack_p99_ms'], 3)}\n")
    gp = shutil.which("gnuplot")
    if not gp or not rows:
        log("no plot: " + ("gnuplot is missing (apt install gnuplot-nox)" if not gp else "no samples"))
        return None
    data = {}
    for ph in ("ordersync", "fixed"):
        p = os.path.join(out, f"ts-{ph}.dat")
        with open(p, "w") as f:
            for s in rows:
                if s["phase"] == ph:
                    f.write(f"{s['t']} {s['events_per_s']:.1f} {s['erp_posted_per_s']:.1f} "
                            f"{'NaN' if s['ack_p99_ms'] is None else s['ack_p99_ms']}\n")
        data[ph] = p
    png = os.path.join(out, "e2e.png")
    script = f"""set terminal pngcairo size 1100,700
set output '{png}'
set multiplot layout 2,1 title 'ordersync end to end (serve metrics, 1 s samples)'
set grid
set ylabel 'events/s'
set xlabel 's since start of run'
set key outside right
plot '{data['ordersync']}' u 1:2 w lp t 'answered, flat out', '{data['ordersync']}' u 1:3 w l t 'ERP posted, flat out', \\
     '{data['fixed']}' u 1:2 w lp t 'answered, 50% rate', '{data['fixed']}' u 1:3 w l t 'ERP posted, 50% rate'
set ylabel 'ack p99 (ms, server side)'
set logscale y
plot '{data['ordersync']}' u 1:4 w lp t 'flat out', '{data['fixed']}' u 1:4 w lp t '50% rate'
unset multiplot
"""
    p = subprocess.run([gp], input=script, text=True, capture_output=True)
    if p.returncode != 0:
        log("gnuplot failed: " + p.stderr.strip())
        return None
    return png


REQUIRED = {
    "ordersync": ["answered_per_s", "accepted_per_s", "erp_posted_per_s", "ack_latency_ms", "event_to_erp_ms",
                  "cpu_us_per_event", "serve_peak_rss_mib", "events_per_group_commit", "commands_per_event"],
    "fixed": ["answered_per_s", "ack_latency_ms", "target_rate", "event_to_erp_ms", "cpu_us_per_event"],
    "zeromq": ["answered_per_s", "ack_latency_ms", "cpu_us_per_event"],
    "rocksdb": ["events_per_s", "commit_ms", "writes_per_event", "cpu_us_per_event"],
    "profile": ["writes_per_event", "bytes_per_write", "tables"],
    "nats": [],
}


def check(res, require_nats):
    """Every field present and every phase produced events (the smoke test's assertion)."""
    problems = []
    ph = res["phases"]
    for phase, fields in REQUIRED.items():
        if phase not in ph:
            problems.append(f"phase {phase} missing")
            continue
        for k in fields:
            if k not in ph[phase]:
                problems.append(f"{phase}.{k} missing")
    for phase in ("ordersync", "fixed", "zeromq"):
        if ph.get(phase, {}).get("answered_per_s", 0) <= 0:
            problems.append(f"{phase}: no events answered")
        if ph.get(phase, {}).get("unexpected", 0) or ph.get(phase, {}).get("unanswered", 0):
            problems.append(f"{phase}: unexpected or unanswered events")
    if ph.get("ordersync", {}).get("erp_postings", 0) <= 0:
        problems.append("ordersync: nothing posted to the ERP")
    if ph.get("ordersync", {}).get("event_to_erp_ms", {}).get("count", 0) <= 0:
        problems.append("ordersync: no event-to-ERP latency samples")
    # CPU per event of every process of every phase (values are not asserted: no timing).
    procs = dict(ordersync=["serve", "erp_sim", "loadgen"], fixed=["serve", "erp_sim", "loadgen"],
                 zeromq=["ack_receiver", "loadgen"], rocksdb=["rocksdb_ceiling"])
    if not ph.get("nats", {}).get("skipped"):
        procs["nats"] = ["nats_server", "nats_peer"]
    for phase, names in procs.items():
        c = ph.get(phase, {}).get("cpu_us_per_event", {})
        problems += [f"{phase}: no CPU per event for {k}" for k in names + ["all"] if k not in c]
    for p in (ph.get("sweep") or {}).get("orders", []) + (ph.get("sweep") or {}).get("workers", []):
        if set(procs["ordersync"]) - set(p.get("cpu_us_per_event", {})):
            problems.append(f"sweep point {p.get('orders', p.get('workers'))}: CPU per event missing")
    for k in ("ordersync_over_zeromq", "ordersync_over_nats", "serve_cpu_over_nats_server_cpu"):
        if k not in res.get("ratios", {}):
            problems.append(f"ratios.{k} missing")
    if ph.get("rocksdb", {}).get("events_per_s", 0) <= 0:
        problems.append("rocksdb: no events written")
    n = ph.get("nats", {})
    if n.get("skipped"):
        if require_nats:
            problems.append("nats: skipped (" + n.get("reason", "") + ")")
    else:
        if n.get("acked", 0) <= 0:
            problems.append("nats: nothing acknowledged")
        if not n.get("dedup_ok"):
            problems.append("nats: the stream's message count does not show the duplicates dropped")
    sw = ph.get("sweep")
    if sw is not None:
        for p in sw["orders"] + sw["workers"]:
            if p["answered_per_s"] <= 0:
                problems.append(f"sweep point {p} answered no events")
    for k in ("ratios", "targets", "timeseries"):
        if k not in res:
            problems.append(f"{k} missing")
    if not res.get("timeseries"):
        problems.append("no time series samples")
    return problems
