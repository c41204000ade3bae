#!/usr/bin/env python3
"""EDI ingress end to end: real `ordersync serve` watching an inbox, a real `ordersync
erp-sim` as the ERP, kill -9 in the middle.

1. A 940 file (30 orders, 3 groups) dropped into the inbox (written under a .tmp name,
   then renamed) is taken in and moved to processed/; a 997 per group appears.
2. serve is killed (kill -9); a 945 file for 20 of the orders is dropped into the inbox
   while it is down; serve restarts and takes it in.
3. A large file (600 orders: 940s then 945s) is dropped and serve is killed -9 as soon as
   the ERP has seen its first postings; on restart the file is still in the inbox and is
   replayed.
4. The 940 file is resent under another name (answered Duplicate, nothing posts again), and
   once more with `ordersync edi ingest` (every event Duplicate).
5. A file with a broken set (SE01) lands in rejected/, the quarantine shows the set with its
   reason, partner and file name, and the 997 rejects that set (AK5*R*4).
Then: the ERP ledger holds every business fact exactly once (one CreateSalesOrder per
order, ConfirmAllocation/PostGoodsIssue/CreateInvoice once per shipped order, order_cmd_seq
1..n without gaps), and the 997s' control numbers (ISA13, GS06) are unique across the
restarts, each AK1 naming a group that was received.

Usage: edi_serve_test.py --ordersync PATH
"""

import argparse
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

PARTNER = ("ZZ", "ACMEWMS")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def interchange(isa13, set_id, fid, groups):
    """groups: [(gs06, [(st02, [segment, ...]), ...]), ...] -> X12 text (~ + LF)."""
    seg = [f"ISA*00*          *00*          *{PARTNER[0]}*{PARTNER[1]:<15}*ZZ*{'ORDERSYNC':<15}*251201*1200*U*00401*"
           f"{isa13:09d}*0*P*>"]
    for gs06, sets in groups:
        seg.append(f"GS*{fid}*{PARTNER[1]}*ORDERSYNC*20251201*1200*{gs06}*X*004010")
        for st02, body in sets:
            seg += [f"ST*{set_id}*{st02}"] + body + [f"SE*{len(body) + 2}*{st02}"]
        seg.append(f"GE*{len(sets)}*{gs06}")
    seg.append(f"IEA*{len(groups)}*{isa13:09d}")
    return "~\n".join(seg) + "~\n"


def order_940(order):
    return [f"W05*N*{order}*PO-{order}", "N1*ST*RETAILER*92*C-77", "LX*1", "W01*4*EA**VN*SKU-1", "LX*2",
            "W01*1*EA**VN*SKU-2", "W76*5*10*LB"]


def advice_945(order):
    return [f"W06*F*{order}*20251201*SHP-{order}", "N1*SF*WEST DC*9*WH-WEST", "W27*M*UPSN", "LX*1",
            "W12*CC*4*4*0*EA**VN*SKU-1", "LX*2", "W12*CC*1*1*0*EA**VN*SKU-2", "W03*5*10*LB"]


def file_940(isa13, orders, per_group=10, first_gs=1):
    groups = []
    for g in range(0, len(orders), per_group):
        sets = [(f"{i + 1:04d}", order_940(o)) for i, o in enumerate(orders[g:g + per_group])]
        groups.append((first_gs + g // per_group, sets))
    return interchange(isa13, "940", "OW", groups)


def file_945(isa13, orders, per_group=10, first_gs=1):
    groups = []
    for g in range(0, len(orders), per_group):
        sets = [(f"{i + 1:04d}", advice_945(o)) for i, o in enumerate(orders[g:g + per_group])]
        groups.append((first_gs + g // per_group, sets))
    return interchange(isa13, "945", "SW", groups)


class Check:
    def __init__(self):
        self.checks = 0
        self.failures = 0

    def expect(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures += 1
            print("FAIL:", what)
        return ok


def wait_for(pred, timeout, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def drop(inbox, name, text):
    tmp = os.path.join(inbox, "." + name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(inbox, name))


def ledger_rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.count("\t") >= 6]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ordersync", required=True)
    args = ap.parse_args()
    bin_ = args.ordersync
    check = Check()
    with tempfile.TemporaryDirectory(prefix="ordersync-edi-") as tmp:
        inbox, outbox = os.path.join(tmp, "inbox"), os.path.join(tmp, "outbox")
        ledger = os.path.join(tmp, "ledger.tsv")
        sim_log = open(os.path.join(tmp, "sim.log"), "w+")
        sim = subprocess.Popen([bin_, "erp-sim", "--endpoint", "tcp://127.0.0.1:*", "--ledger", ledger],
                               stdout=sim_log, stderr=sim_log)
        erp = None
        for _ in range(300):
            sim_log.seek(0)
            m = re.search(r"erp-sim listening on (tcp://[0-9.]+:\d+)", sim_log.read())
            if m:
                erp = m.group(1)
                break
            time.sleep(0.05)
        if erp is None:
            sim.kill()
            raise SystemExit("erp-sim did not start")
        admin = f"tcp://127.0.0.1:{free_port()}"
        config = os.path.join(tmp, "ordersync.toml")
        with open(config, "w") as f:
            f.write(f'[storage]\ndata_dir = "{tmp}/data"\n'
                    '[ingress]\nack_endpoint = ""\npull_endpoint = ""\n'
                    f'[ingress.edi]\ninbox_dir = "{inbox}"\noutbox_dir = "{outbox}"\npoll_interval_ms = 50\n'
                    f'[metrics]\nenabled = false\n[admin]\nendpoint = "{admin}"\n'
                    f'[erp.targets.erp]\nendpoint = "{erp}"\n'
                    f'[[edi.partners]]\nname = "ACME"\nisa_qualifier = "{PARTNER[0]}"\nisa_id = "{PARTNER[1]}"\n'
                    'company_code = "US01"\nsku_qualifier = "VN"\n')
        log_path = os.path.join(tmp, "serve.log")
        state = {"proc": None, "log": None}

        def start():
            state["log"] = open(log_path, "a+")
            state["proc"] = subprocess.Popen([bin_, "--config", config, "serve"], stdout=state["log"],
                                             stderr=state["log"])
            ok = wait_for(lambda: "running; stop with" in open(log_path).read(), 60)
            if not ok:
                print(open(log_path).read()[-3000:])
                raise SystemExit("serve did not start")

        def kill9():
            state["proc"].send_signal(signal.SIGKILL)
            state["proc"].wait()

        processed = lambda name: os.path.exists(os.path.join(inbox, "processed", name))
        try:
            start()
            a_orders = [f"EDI-{i:04d}" for i in range(30)]
            text_a = file_940(11, a_orders)
            # 1. Dropped while running.
            drop(inbox, "a-940.edi", text_a)
            check.expect(wait_for(lambda: processed("a-940.edi"), 60), "the 940 file moved to processed/")
            check.expect(len(glob.glob(os.path.join(outbox, "ACME", "997-*.edi"))) == 3, "one 997 per group (3)")
            # 2. Dropped while the engine is down (kill -9), taken in on restart.
            kill9()
            drop(inbox, "b-945.edi", file_945(12, a_orders[:20]))
            start()
            check.expect(wait_for(lambda: processed("b-945.edi"), 60), "the 945 file dropped while down is processed")
            # 3. kill -9 in the middle of a large file.
            c_orders = [f"EDI-{i:04d}" for i in range(100, 700)]
            text_c = file_940(13, c_orders, first_gs=100) + file_945(14, c_orders, first_gs=200)
            before = len(ledger_rows(ledger))
            drop(inbox, "c-big.edi", text_c)
            wait_for(lambda: len(ledger_rows(ledger)) > before + 20 or processed("c-big.edi"), 120, 0.02)
            kill9()
            check.expect(not processed("c-big.edi"), "killed before the large file was fully durable "
                                                     "(else this run did not test the replay)")
            check.expect(os.path.exists(os.path.join(inbox, "c-big.edi")) or processed("c-big.edi"),
                         "the unfinished file is still in the inbox after kill -9")
            start()
            check.expect(wait_for(lambda: processed("c-big.edi"), 180), "the large file is replayed and processed")
            # 4. Resent interchange: Duplicate.
            drop(inbox, "a-940-resent.edi", text_a)
            check.expect(wait_for(lambda: processed("a-940-resent.edi"), 60), "the resent file is processed")
            check.expect(re.search(r"a-940-resent.edi -> processed: 30 sets \(0 rejected, 0 for review\), 30 events "
                                   r"\(0 accepted, 30 duplicate\)", open(log_path).read()) is not None,
                         "the resent interchange is answered Duplicate (30 of 30)")
            a_path = os.path.join(tmp, "a-940.edi")
            with open(a_path, "w") as f:
                f.write(text_a)
            out = subprocess.run([bin_, "--config", config, "edi", "ingest", "--json", a_path],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
            check.expect(out.returncode == 0, f"edi ingest exits 0 (got {out.returncode}: {out.stderr})")
            try:
                report = json.loads(out.stdout)[0]
                statuses = {e["status"] for s in report["set_reports"] for e in s["events"]}
                check.expect(report["duplicate"] == 30 and statuses == {"Duplicate"},
                             f"edi ingest: every event Duplicate (got {report['duplicate']}, {statuses})")
            except (ValueError, KeyError, IndexError) as e:
                check.expect(False, f"edi ingest --json output: {e}: {out.stdout[:500]}")
            # 5. A broken set: rejected/, quarantine, 997 AK5*R*4.
            bad = file_940(15, ["EDI-BAD-1", "EDI-BAD-2"], first_gs=300).replace("SE*9*0002~", "SE*7*0002~")
            drop(inbox, "d-bad.edi", bad)
            check.expect(wait_for(lambda: os.path.exists(os.path.join(inbox, "rejected", "d-bad.edi")), 60),
                         "a file with a rejected set moves to rejected/")
            q = subprocess.run([bin_, "--config", config, "quarantine", "list", "--json"], stdout=subprocess.PIPE,
                               text=True, timeout=60)
            records = json.loads(q.stdout)["records"]
            bad_records = [r for r in records if r["file_name"] == "d-bad.edi"]
            check.expect(len(bad_records) == 1 and bad_records[0]["reason"] == "edi_segment_count:SE01" and
                         bad_records[0]["source"] == "ACME" and bad_records[0]["endpoint"] == "edi",
                         f"quarantine holds the broken set with reason, partner, file (got {bad_records})")
            # Drain: every expected posting.
            shipped = a_orders[:20] + c_orders
            expected = {(o, k) for o in a_orders + c_orders + ["EDI-BAD-1"] for k in ["CreateSalesOrder"]}
            expected |= {(o, k) for o in shipped for k in ["ConfirmAllocation", "PostGoodsIssue", "CreateInvoice"]}
            wait_for(lambda: len(ledger_rows(ledger)) >= len(expected), 180, 0.2)
            time.sleep(1)  # anything extra would show up now
        finally:
            if state["proc"] is not None and state["proc"].poll() is None:
                state["proc"].send_signal(signal.SIGTERM)
                rc = state["proc"].wait(timeout=60)
                check.expect(rc == 0, f"serve exits 0 after SIGTERM (got {rc})")
            sim.send_signal(signal.SIGTERM)
            sim.wait(timeout=30)
        rows = ledger_rows(ledger)
        facts = [(r[3], r[5]) for r in rows]
        check.expect(len(facts) == len(set(facts)), f"no business fact posted twice ({len(facts) - len(set(facts))} "
                                                     "duplicates)")
        check.expect(set(facts) == expected, f"every fact posted: missing {sorted(expected - set(facts))[:5]}, "
                                             f"unexpected {sorted(set(facts) - expected)[:5]}")
        seqs = {}
        for r in rows:
            seqs.setdefault(r[3], []).append(int(r[4]))
        gaps = [o for o, s in seqs.items() if sorted(s) != list(range(1, len(s) + 1))]
        check.expect(not gaps, f"order_cmd_seq 1..n without gaps per order (not: {gaps[:5]})")
        # 997s: unique control numbers across the restarts; AK1 names received groups.
        isa13s, gs06s, ak1s = [], [], []
        received_groups = {str(g) for g in list(range(1, 4)) + list(range(100, 160)) + list(range(200, 260)) + [300]}
        received_groups |= {str(g) for g in range(1, 3)}  # the 945 file's two groups
        for path in sorted(glob.glob(os.path.join(outbox, "ACME", "997-*.edi"))):
            text = open(path).read()
            segs = [s.strip() for s in text.split("~") if s.strip()]
            isa13s.append(segs[0].split("*")[13])
            gs06s.append(segs[1].split("*")[6])
            ak1 = [s for s in segs if s.startswith("AK1*")][0].split("*")
            ak1s.append(ak1[2])
            ak9 = [s for s in segs if s.startswith("AK9*")][0].split("*")
            se = [s for s in segs if s.startswith("SE*")][0].split("*")
            st_at = [i for i, s in enumerate(segs) if s.startswith("ST*")][0]
            se_at = [i for i, s in enumerate(segs) if s.startswith("SE*")][0]
            check.expect(int(se[1]) == se_at - st_at + 1, f"{os.path.basename(path)}: SE01 counts the segments")
            if ak1[2] == "300":
                check.expect(ak9[1] == "P" and "AK2*940*0002" in segs and "AK5*R*4" in segs,
                             f"997 of the broken group rejects set 0002 with AK5*R*4: {segs}")
            else:
                check.expect(ak9[1] == "A", f"{os.path.basename(path)}: AK9*A for group {ak1[2]}")
        check.expect(len(isa13s) == len(set(isa13s)) and len(gs06s) == len(set(gs06s)),
                     f"997 control numbers never repeat ({len(isa13s)} 997s)")
        check.expect(set(ak1s) <= received_groups, f"AK1 names received groups only: {set(ak1s) - received_groups}")
        check.expect(len(isa13s) >= 3 + 2 + 120 + 3 + 3 + 1, f"a 997 for every received group (got {len(isa13s)})")
        if check.failures:
            print(open(log_path).read()[-4000:])
    print(f"{check.checks - check.failures}/{check.checks} checks passed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
