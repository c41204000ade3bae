"""Processes, CPU and metrics of the end-to-end benchmark (bench/e2e/run_e2e).

- CPU per event: utime + stime of a live process from /proc/PID/stat (proc_cpu_s, read
  before and after a phase), of a child that is the phase from wait4's rusage at its exit
  (wait_cpu_s); cpu_figures divides each process's CPU by the events answered in the phase.
- serve's Prometheus endpoint: scrape / total / buckets, and Sampler (one thread that
  scrapes once a second for the time series).
- small process helpers: free_port, wait_for_line, stop, proc_status_kb.

Thread-safety: Sampler appends to its list from its own thread; everything else is called
from the driver's thread.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_s(pid):
    """utime + stime of a live process, seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except OSError:
        return 0.0


def wait_cpu_s(proc):
    """Waits for child `proc` to exit; its utime + stime over its whole life (wait4's rusage:
    the counters /proc/PID/stat shows, at µs resolution, which stat cannot give after exit)."""
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_utime + ru.ru_stime


# Processes whose CPU is reported, in table order: JSON key, Markdown heading.
PROCESSES = [("serve", "serve"), ("erp_sim", "erp-sim"), ("loadgen", "loadgen"), ("ack_receiver", "ack receiver"),
             ("nats_server", "nats-server"), ("nats_peer", "NATS peer"), ("rocksdb_ceiling", "RocksDB ceiling")]


def cpu_figures(cpu_s, events):
    """A phase's CPU: seconds per process, the events they are divided by, and µs per event
    per process and for all of them ("all")."""
    per = {k: (1e6 * v / events if events else 0.0) for k, v in cpu_s.items()}
    per["all"] = 1e6 * sum(cpu_s.values()) / events if events else 0.0
    return dict(cpu_s=cpu_s, cpu_events=events, cpu_us_per_event=per)


def proc_status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_for_line(path, pattern, proc, timeout=30):
    rx = re.compile(pattern)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with open(path) as f:
                for line in f:
                    m = rx.search(line)
                    if m:
                        return m
        except OSError:
            pass
        time.sleep(0.05)
    with open(path) as f:
        sys.stderr.write(f.read()[-3000:])
    raise RuntimeError(f"timed out waiting for /{pattern}/ in {path}")


def stop(proc, timeout=60):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- Prometheus text parsing (only what we need) ---------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([^\s]+)')


def scrape(port):
    out = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except Exception:
        return None
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        try:
            v = float(value)
        except ValueError:
            continue
        out.setdefault(name, []).append((labels, v))
    return out


def total(metrics, name, label_filter=None):
    return sum(v for labels, v in metrics.get(name, []) if label_filter is None or label_filter in labels)


def buckets(metrics, name):
    """{le: cumulative count} summed over label sets."""
    out = {}
    for labels, v in metrics.get(name + "_bucket", []):
        m = re.search(r'le="([^"]+)"', labels)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[le] = out.get(le, 0) + v
    return out


def bucket_quantile(delta, q):
    """Upper bound of the bucket holding quantile q of a per-interval bucket delta."""
    items = sorted(delta.items())
    n = items[-1][1] if items else 0
    if n <= 0:
        return None
    for le, c in items:
        if c >= q * n:
            return le
    return items[-1][0]


class Sampler(threading.Thread):
    """Scrapes serve's metrics once a second: answered events/s, ERP acks/s, ack p99."""

    def __init__(self, port, phase, series):
        super().__init__(daemon=True)
        self.port, self.phase, self.series = port, phase, series
        self.stopped = threading.Event()
        self.last = None

    def run(self):
        t0 = time.time()
        prev = None
        while not self.stopped.is_set():
            m = scrape(self.port)
            now = time.time()
            if m is not None:
                self.last = m
                answered = sum(total(m, f"ordersync_ingress_events_{k}_total")
                               for k in ("accepted", "duplicate", "rejected"))
                cur = dict(t=now, answered=answered, erp=total(m, "ordersync_erp_acknowledged_total"),
                           lat=buckets(m, "ordersync_ingress_ack_latency_seconds"),
                           rss_kb=0)
                if prev is not None and now > prev["t"]:
                    dt = now - prev["t"]
                    delta = {le: cur["lat"].get(le, 0) - prev["lat"].get(le, 0) for le in cur["lat"]}
                    p99 = bucket_quantile(delta, 0.99)
                    self.series.append(dict(phase=self.phase, t=round(now - t0, 2),
                                            events_per_s=(cur["answered"] - prev["answered"]) / dt,
                                            erp_posted_per_s=(cur["erp"] - prev["erp"]) / dt,
                                            ack_p99_ms=None if p99 is None or p99 == float("inf") else p99 * 1000))
                prev = cur
            self.stopped.wait(max(0.0, 1.0 - (time.time() - now)))
