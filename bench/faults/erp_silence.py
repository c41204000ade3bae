"""The fault suite's ERP outage switch (bench/faults/run, scenario erp_outage).

Usage: erp_silence.py CONTROL_ENDPOINT DIR LEAD SECONDS

Started before the load: once loadgen's progress lines (DIR/load.log) show LEAD acked
events, switches erp-sim's outage on over its control socket, SECONDS later off again, and
writes what happened to DIR/outage.txt (KEY=VALUE lines for the report's facts). One
Python process throughout, so on a loaded machine the switch does not wait for an
interpreter to start. Touches DIR/silence.ready once connected (start the load after
that); gives up when the load ends first (loadgen's summary in the log, or DIR/load.done).
"""
import json, os, re, sys, time
import zmq
endpoint, d, lead, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
LINE = re.compile(r"^\[ *[0-9.]+s\] sent .* accepted (\d+) duplicate (\d+) .* busy (\d+) ")

def progress():
    """(acked, busy) of loadgen's last progress line, and whether the load has ended."""
    acked = busy = 0
    ended = os.path.exists(f"{d}/load.done")
    try:
        for line in open(f"{d}/load.log"):
            m = LINE.match(line)
            if m:
                acked, busy = int(m[1]) + int(m[2]), int(m[3])
            elif line.startswith("Summary ("):
                ended = True
    except OSError:
        pass
    return acked, busy, ended

sock = zmq.Context().socket(zmq.REQ)
sock.setsockopt(zmq.LINGER, 0)
sock.connect(endpoint)
open(f"{d}/silence.ready", "w").close()  # the driver starts the load after this

def outage(on):
    sock.send_string(json.dumps({"cmd": "set", "outage": on}))
    if not sock.poll(10000) or not json.loads(sock.recv_string()).get("ok"):
        sys.exit("erp-sim control: no answer or not ok")
    return time.time()

facts = {"outage_s": 0, "load_outlasted_outage": "no"}
while True:
    acked, busy, ended = progress()
    if ended:
        print("[faults] the load ended before the outage could start", file=sys.stderr)
        break
    if acked >= lead:
        t_on = outage(True)
        print(f"[faults] ERP silent from {acked} acked events, for {seconds:g} s", file=sys.stderr)
        facts.update(outage_started_at_acked=acked, busy_at_outage_start=busy)
        time.sleep(max(0.0, seconds - (time.time() - t_on)))
        _, busy, ended = progress()
        t_off = outage(False)
        facts.update(outage_s=round(t_off - t_on, 2), busy_at_outage_end=busy,
                     load_outlasted_outage="no" if ended else "yes")
        break
    time.sleep(0.1)
with open(f"{d}/outage.txt", "w") as f:
    f.writelines(f"{k}={v}\n" for k, v in facts.items())
