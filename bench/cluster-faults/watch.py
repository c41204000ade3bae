"""Watchers of the cluster fault suite (bench/cluster-faults/run): they poll the cluster's
public surfaces — `ordersync cluster status --json` (etcd), the nodes' admin sockets
(`erp.status`), the nodes' logs and nats-server's monitoring port — and exit 0 when what
they wait for happened, 1 on their deadline (saying what they last saw on stderr).

  watch.py failover BIN CONFIG NODE READY_FILE KILL_FILE OUT_JSON LOG...
      Reads which partitions NODE owns (and their epochs), touches READY_FILE, and keeps
      reading them until KILL_FILE appears (the driver writes the kill's wall time into it
      after kill -9 of NODE). Then polls status every 100 ms until no partition is unowned or owned by NODE,
      and the logs (LOG... : the live nodes' logs) until each of NODE's partitions was
      "restored at epoch E" with E above NODE's epoch (= applied and dispatching on its
      new owner). OUT_JSON: failover_ms (kill → the last of those restore lines, by the
      line's own timestamp), owned_ms (kill → status shows every partition on a live
      node), the partitions and epochs.
  watch.py settled BIN CONFIG MEMBERS TIMEOUT_S
      Until MEMBERS members are live, no partition is unowned or moving (every partition
      on the node the assignment gives it).
  watch.py drained BIN CONFIG TIMEOUT_S (NODE_ID ADMIN_ENDPOINT LOG)...
      Until, three polls in a row (0.5 s apart): every partition is owned by a member and
      not moving (status), its owner's log last says "restored at epoch E" for the owner's
      current epoch (not halted since: fenced off, failed, stopped), and every node's ERP
      targets report backlog 0 and in_flight 0 (admin erp.status). On the deadline it says
      which partitions are stuck and their owner's last line about them.
  watch.py fencing CUT_FILE FAILOVER_JSON CUT_NODE_LOG OUT_JSON LOG...
      After a network cut of a node (CUT_FILE: the cut's wall time; FAILOVER_JSON: what
      `failover` wrote, the node's partitions and epochs at the cut): for each partition,
      when the cut node's dispatcher logged "partition P released (epoch E)" (stopped
      dispatching it) and when a live node's dispatcher (LOG...) first logged "partition P
      adopted at epoch E2", E2 > E. OUT_JSON: per partition stopped_ms / adopted_ms after
      the cut, and the violations: a partition adopted elsewhere before the cut node
      stopped dispatching it, or never seen stopping. Exit 1 on a violation.
  watch.py nats_ready TIMEOUT_S MONITOR_URL...
      Until each server's /healthz answers ok and /jsz names a meta leader.
"""
import datetime, json, os, re, subprocess, sys, time, urllib.request

RESTORED = re.compile(r"^(\S+) \[info\] cluster: partition (\d+) restored at epoch (\d+)")


def status(bin_, config):
    try:
        r = subprocess.run([bin_, "--config", config, "cluster", "status", "--json"], capture_output=True,
                           text=True, timeout=10)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        return None


def log_time(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def failover(bin_, config, node, ready, kill_file, out, logs):
    # Keeps NODE's partitions and epochs up to date until the kill (its lease outlives it
    # by up to the TTL, so the last reading before the kill is the one that counts).
    mine, fails, give_up = None, 0, time.time() + 3600
    while not (os.path.exists(kill_file) and os.path.getsize(kill_file) > 0):
        if time.time() > give_up or os.getppid() == 1:  # no kill within an hour, or the driver is gone
            return 1
        s = status(bin_, config)
        if s is not None:
            mine = {o["partition"]: o["epoch"] for o in s["owners"] if o["node_id"] == node}
            if not os.path.exists(ready):
                open(ready, "w").close()
        elif mine is None:
            fails += 1
            if fails > 100:
                print("failover: cluster status unreadable", file=sys.stderr)
                return 1
        time.sleep(0.05)
    killed_at = float(open(kill_file).read().strip())
    restored, owned_ms, deadline = {}, None, time.time() + 120
    last = None
    while time.time() < deadline:
        now = time.time()
        s = status(bin_, config)
        if s is not None:
            last = s
            if owned_ms is None and not s["unowned"] and all(o["node_id"] not in (None, node) for o in s["owners"]):
                owned_ms = round((now - killed_at) * 1000)
        for path in logs:
            try:
                lines = open(path, errors="replace").readlines()
            except OSError:
                continue
            for line in lines:
                m = RESTORED.match(line)
                if not m:
                    continue
                p, epoch, t = int(m.group(2)), int(m.group(3)), log_time(m.group(1))
                if p in mine and epoch > mine[p] and t >= killed_at - 0.01:
                    restored.setdefault(p, (t, epoch, os.path.basename(path)))
        if owned_ms is not None and len(restored) == len(mine):
            break
        time.sleep(0.1)
    done = owned_ms is not None and len(restored) == len(mine)
    result = {"node": node, "partitions": sorted(mine), "old_epochs": mine,
              "new_owners": {p: {"epoch": e, "log": l, "restored_ms": round((t - killed_at) * 1000)}
                             for p, (t, e, l) in restored.items()},
              "owned_ms": owned_ms,
              "failover_ms": (max(round((t - killed_at) * 1000) for t, _, _ in restored.values()) if restored else 0)
              if done else None}
    json.dump(result, open(out, "w"))
    if not done:
        print(f"failover: {node}'s partitions {sorted(mine)} not all restored within 120 s (restored "
              f"{sorted(restored)}; last status: unowned {last and last['unowned']})", file=sys.stderr)
        return 1
    return 0


def settled(bin_, config, members, timeout):
    deadline, s = time.time() + float(timeout), None
    while time.time() < deadline:
        s = status(bin_, config)
        if s and len([m for m in s["members"] if not m["draining"]]) == int(members) and not s["unowned"] \
                and not s["moving"]:
            return 0
        time.sleep(0.2)
    print(f"settled: not within {timeout} s; last status: {s and {k: s[k] for k in ('unowned', 'moving')}}, "
          f"members {s and [m['node_id'] for m in s['members']]}", file=sys.stderr)
    return 1


LIFECYCLE = re.compile(r"^\S+ \[\w+\] cluster: partition (\d+)(?: \(epoch (\d+)\))?:? "
                       r"(acquired at epoch|restored at epoch|fenced off|stopped|handed over|cannot restore|applying|.*failed)"
                       r"(?: (\d+))?")
HALTED = re.compile(r"^\S+ \[\w+\] cluster: cannot restore partition (\d+)")


def partition_states(path):
    """The last lifecycle line of each partition in a node's log: {p: (what, epoch, line)}."""
    states = {}
    try:
        lines = open(path, errors="replace").readlines()
    except OSError:
        return states
    for line in lines:
        m = LIFECYCLE.match(line)
        if m:
            epoch = m.group(2) or m.group(4)
            states[int(m.group(1))] = (m.group(3), int(epoch) if epoch else None, line.strip())
        m = HALTED.match(line)
        if m:
            states[int(m.group(1))] = ("halted", None, line.strip())
    return states


def drained(bin_, config, timeout, nodes):
    """nodes: [(node_id, admin endpoint, current log)]. Drained = three polls in a row
    (0.5 s apart) where every partition is owned by a running member (status), not moving,
    its owner's log says it was "restored at epoch E" for the owner's current epoch E and
    nothing since (not halted, fenced or failing), and every node's ERP targets report
    backlog 0 and in_flight 0."""
    import zmq
    ctx = zmq.Context()
    logs = {n: l for n, _, l in nodes}
    zero, deadline, why = 0, time.time() + float(timeout), []
    while time.time() < deadline:
        why = []
        s = status(bin_, config)
        if s is None:
            why.append("cluster status unreadable")
        else:
            if s["unowned"] or s["moving"]:
                why.append(f"unowned {s['unowned']}, moving {s['moving']}")
            states = {n: partition_states(l) for n, l in logs.items()}
            for o in s["owners"]:
                if o["node_id"] is None:
                    continue
                st = states.get(o["node_id"], {}).get(o["partition"])
                if st is None or st[0] != "restored at epoch" or st[1] != o["epoch"]:
                    why.append(f"partition {o['partition']} owned by {o['node_id']} at epoch {o['epoch']} is not "
                               f"applying and dispatching; its last line: {st[2] if st else 'none'}")
        for n, e, _ in nodes:
            sock = ctx.socket(zmq.REQ)
            sock.setsockopt(zmq.LINGER, 0)
            sock.connect(e)
            sock.send_string(json.dumps({"command": "erp.status", "args": {}}))
            targets = None
            if sock.poll(2000):
                doc = json.loads(sock.recv_string())
                targets = doc.get("result", {}).get("targets") if doc.get("ok") else None
            sock.close()
            if targets is None:
                why.append(f"{n}: no erp.status answer")
            elif not all(t["backlog"] == 0 and t["in_flight"] == 0 for t in targets):
                why.append(f"{n}: ERP backlog " + ", ".join(f"{t.get('name', '?')} {t['backlog']}+{t['in_flight']}"
                                                             for t in targets))
        zero = zero + 1 if not why else 0
        if zero >= 3:
            return 0
        time.sleep(0.5)
    print(f"drained: not within {timeout} s: " + "; ".join(why), file=sys.stderr)
    return 1


RELEASED = re.compile(r"^(\S+) \[\w+\] erp dispatcher: partition (\d+) released \(epoch (\d+)\)")
ADOPTED = re.compile(r"^(\S+) \[\w+\] erp dispatcher: partition (\d+) adopted at epoch (\d+)")


def fencing(cut_file, failover_json, cut_log, out, logs):
    cut_at = float(open(cut_file).read().strip())
    fo = json.load(open(failover_json))
    old = {int(p): int(e) for p, e in fo["old_epochs"].items()}

    def lines(path):
        try:
            return open(path, errors="replace").readlines()
        except OSError:
            return []

    stopped, adopted, dispatched_at_cut = {}, {}, set()
    for line in lines(cut_log):
        m = ADOPTED.match(line)
        if m and old.get(int(m.group(2))) == int(m.group(3)) and log_time(m.group(1)) < cut_at:
            dispatched_at_cut.add(int(m.group(2)))
        m = RELEASED.match(line)
        if m:
            p, e, t = int(m.group(2)), int(m.group(3)), log_time(m.group(1))
            if old.get(p) == e and t >= cut_at - 0.01:
                stopped.setdefault(p, t)
    for path in logs:
        for line in lines(path):
            m = ADOPTED.match(line)
            if m:
                p, e, t = int(m.group(2)), int(m.group(3)), log_time(m.group(1))
                if p in old and e > old[p] and t >= cut_at - 0.01:
                    adopted[p] = min(adopted.get(p, t), t)
    parts, violations = {}, []
    for p in sorted(old):
        s, a = stopped.get(p), adopted.get(p)
        parts[p] = {"epoch": old[p], "dispatching_at_cut": p in dispatched_at_cut,
                    "stopped_ms": round((s - cut_at) * 1000) if s else None,
                    "adopted_ms": round((a - cut_at) * 1000) if a else None}
        if s is None and p in dispatched_at_cut:
            violations.append(f"partition {p}: the cut node never logged that it stopped dispatching it")
        elif s is not None and a is not None and a <= s:
            violations.append(f"partition {p}: adopted elsewhere {parts[p]['adopted_ms']} ms after the cut, before "
                              f"the cut node stopped dispatching it ({parts[p]['stopped_ms']} ms)")
    stops = [v["stopped_ms"] for v in parts.values() if v["stopped_ms"] is not None]
    gaps = [v["adopted_ms"] - v["stopped_ms"] for v in parts.values()
            if v["stopped_ms"] is not None and v["adopted_ms"] is not None]
    result = {"partitions": parts, "violations": violations, "max_stopped_ms": max(stops) if stops else None,
              "min_gap_ms": min(gaps) if gaps else None}
    json.dump(result, open(out, "w"))
    for v in violations:
        print("fencing: " + v, file=sys.stderr)
    return 1 if violations else 0


def nats_ready(timeout, urls):
    deadline = time.time() + float(timeout)
    while time.time() < deadline:
        ok = True
        for u in urls:
            try:
                h = json.load(urllib.request.urlopen(u + "/healthz", timeout=2))
                j = json.load(urllib.request.urlopen(u + "/jsz", timeout=2))
                ok = ok and h.get("status") == "ok" and bool(j.get("meta_cluster", {}).get("leader"))
            except Exception:
                ok = False
        if ok:
            return 0
        time.sleep(0.2)
    print(f"nats_ready: {urls} not healthy within {timeout} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "failover":
        sys.exit(failover(a[0], a[1], a[2], a[3], a[4], a[5], a[6:]))
    if cmd == "settled":
        sys.exit(settled(*a[:4]))
    if cmd == "drained":
        sys.exit(drained(a[0], a[1], a[2], [tuple(a[i:i + 3]) for i in range(3, len(a), 3)]))
    if cmd == "fencing":
        sys.exit(fencing(a[0], a[1], a[2], a[3], a[4:]))
    if cmd == "nats_ready":
        sys.exit(nats_ready(a[0], a[1:]))
    sys.exit(f"unknown watcher {cmd}")
