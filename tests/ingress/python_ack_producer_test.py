#!/usr/bin/env python3
"""Ingress test: an independent Python producer against a running `ordersync serve`.

Generates Python code from the public schemas with `flatc --python`, starts
`ordersync serve` on a temporary data dir with the acknowledged endpoint on an
ephemeral loopback port (read back from its log), and sends a few thousand events in
batches from a pyzmq DEALER, the way a producer team would: a window of batches in
flight, each prefixed with a request id and an empty frame so replies can be matched.
Every IngressAck is checked: one result per frame, in frame order, event_id echoed, and
the status and reason each event calls for (Accepted, Duplicate on a resend, Rejected
with its reason code, parked events Accepted with "parked:..."). Busy and Throttled
events, if any, are resent after retry_after_ms. Finally serve is stopped with SIGTERM
and `ordersync quarantine list --json` must show exactly the rejected frames.

Usage: python_ack_producer_test.py --ordersync PATH --schemas DIR [--flatc PATH]
Exits non-zero on any mismatch.
"""

import argparse
import glob
import importlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

import flatbuffers
import zmq

ORDERS = 1000          # x3 events: accept, reserve, pick
BATCH = 100
WINDOW = 8
TIMEOUT_S = 60

ACCEPTED, DUPLICATE, REJECTED, THROTTLED, BUSY = range(5)
STATUS_NAMES = ["Accepted", "Duplicate", "Rejected", "Throttled", "Busy"]


class Encoder:
    """Envelopes through the flatc-generated Python API."""

    def __init__(self):
        self.m = {n: importlib.import_module(f"ordersync.{n}")
                  for n in ["Envelope", "Line", "Milestone", "OrderAccepted", "InventoryReserved", "PickCompleted",
                            "IngressAck", "EventResult"]}

    def _lines(self, b, table, lines):
        line = self.m["Line"]
        offsets = []
        for no, sku, qty in lines:
            s, u = b.CreateString(sku), b.CreateString("EA")
            line.LineStart(b)
            line.LineAddLineNo(b, no)
            line.LineAddSku(b, s)
            line.LineAddQty(b, qty)
            line.LineAddUom(b, u)
            line.LineAddUnitPriceMinor(b, 1500)
            offsets.append(line.LineEnd(b))
        getattr(self.m[table], f"{table}StartLinesVector")(b, len(offsets))
        for off in reversed(offsets):
            b.PrependUOffsetTRelative(off)
        return b.EndVector()

    def envelope(self, kind, event_id, order_id, source="WMS-EAST", key=None, schema_version=1, lines=None):
        b = flatbuffers.Builder(512)
        lines = lines or [(1, "SKU-1", 4), (2, "SKU-2", 1)]
        mod = self.m[kind]
        vec = self._lines(b, kind, lines)
        if kind == "OrderAccepted":
            cust, cur = b.CreateString("C-42"), b.CreateString("EUR")
            mod.OrderAcceptedStart(b)
            mod.OrderAcceptedAddCustomerId(b, cust)
            mod.OrderAcceptedAddCurrency(b, cur)
        else:
            k, wh = b.CreateString(key), b.CreateString("WH-EAST")
            getattr(mod, f"{kind}Start")(b)
            getattr(mod, "InventoryReservedAddReservationId" if kind == "InventoryReserved" else "PickCompletedAddPickId")(b, k)
            getattr(mod, f"{kind}AddWarehouse")(b, wh)
        getattr(mod, f"{kind}AddLines")(b, vec)
        payload = getattr(mod, f"{kind}End")(b)
        strings = {name: b.CreateString(v) for name, v in
                   [("event_id", event_id), ("order_id", order_id), ("source", source),
                    ("correlation_id", "trace-" + event_id), ("company_code", "1000")] if v}
        env = self.m["Envelope"]
        env.EnvelopeStart(b)
        if schema_version != 1:
            env.EnvelopeAddSchemaVersion(b, schema_version)
        if "event_id" in strings:
            env.EnvelopeAddEventId(b, strings["event_id"])
        env.EnvelopeAddCorrelationId(b, strings["correlation_id"])
        env.EnvelopeAddOrderId(b, strings["order_id"])
        env.EnvelopeAddSource(b, strings["source"])
        env.EnvelopeAddCompanyCode(b, strings["company_code"])
        env.EnvelopeAddOccurredAtNs(b, 1_750_000_000_000_000_000)
        env.EnvelopeAddPayloadType(b, getattr(self.m["Milestone"].Milestone, kind))
        env.EnvelopeAddPayload(b, payload)
        b.Finish(env.EnvelopeEnd(b), file_identifier=b"OSEV")
        return bytes(b.Output())

    def decode_ack(self, frame):
        ack = self.m["IngressAck"].IngressAck.GetRootAs(frame, 0)
        out = []
        for i in range(ack.ResultsLength()):
            r = ack.Results(i)
            out.append((r.Status(), (r.EventId() or b"").decode(), (r.Reason() or b"").decode(), r.RetryAfterMs()))
        return out


class Check:
    def __init__(self):
        self.checks = 0
        self.failures = 0

    def expect(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures += 1
            if self.failures <= 20:
                print("FAIL:", what)


def start_serve(args, tmp):
    config = os.path.join(tmp, "ordersync.toml")
    with open(config, "w") as f:
        f.write(f'[storage]\ndata_dir = "{tmp}/data"\n'
                '[ingress]\nack_endpoint = "tcp://127.0.0.1:*"\npull_endpoint = ""\n'
                '[metrics]\nenabled = false\n[admin]\nendpoint = ""\n')
    log = open(os.path.join(tmp, "serve.log"), "w+")
    proc = subprocess.Popen([args.ordersync, "--config", config, "serve"], stderr=log, stdout=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        log.seek(0)
        m = re.search(r"acknowledged endpoint (tcp://[0-9.]+:\d+)", log.read())
        if m:
            return proc, config, m.group(1), log
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    log.seek(0)
    print(log.read())
    raise SystemExit("serve did not start")


class Producer:
    """A DEALER with a window of batches in flight, matched by request id."""

    def __init__(self, ctx, endpoint, encoder, check):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.enc = encoder
        self.check = check
        self.next_id = 1
        self.in_flight = {}   # request id -> [(frame, expect)]
        self.retry = []       # (due, (frame, expect))
        self.resends = 0

    def send(self, items):
        rid = self.next_id
        self.next_id += 1
        self.sock.send_multipart([struct.pack("<Q", rid), b""] + [f for f, _ in items])
        self.in_flight[rid] = items

    def receive(self, timeout_ms):
        if not self.sock.poll(timeout_ms):
            return False
        parts = self.sock.recv_multipart()
        self.check.expect(len(parts) == 3 and len(parts[0]) == 8 and parts[1] == b"",
                          f"reply framing [request id][empty][ack], got {len(parts)} parts")
        rid = struct.unpack("<Q", parts[0])[0]
        items = self.in_flight.pop(rid, None)
        self.check.expect(items is not None, f"reply for unknown request id {rid}")
        if items is None:
            return True
        results = self.enc.decode_ack(parts[2])
        self.check.expect(len(results) == len(items), f"one result per frame: {len(results)} for {len(items)}")
        for (frame, expect), (status, event_id, reason, retry) in zip(items, results):
            if status in (BUSY, THROTTLED):
                self.check.expect(retry > 0, f"{STATUS_NAMES[status]} carries retry_after_ms (event {event_id})")
                self.retry.append((time.time() + retry / 1000.0, (frame, expect)))
                self.resends += 1
                continue
            want_status, want_id, want_reason = expect
            self.check.expect(status == want_status and event_id == want_id and re.fullmatch(want_reason, reason),
                              f"event {want_id!r}: want {STATUS_NAMES[want_status]} {want_reason!r}, "
                              f"got {STATUS_NAMES[status]} {event_id!r} {reason!r}")
        return True

    def run(self, batches):
        """Sends every batch (window of WINDOW) and waits for every final answer."""
        pending = list(batches)
        deadline = time.time() + TIMEOUT_S
        while (pending or self.in_flight or self.retry) and time.time() < deadline:
            now = time.time()
            due = [item for when, item in self.retry if when <= now]
            self.retry = [(when, item) for when, item in self.retry if when > now]
            if due:
                pending.append(due)
            while pending and len(self.in_flight) < WINDOW:
                self.send(pending.pop(0))
            self.receive(50)
        self.check.expect(not (pending or self.in_flight or self.retry), "every batch answered before the timeout")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ordersync", required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--flatc", default="flatc")
    args = ap.parse_args()
    check = Check()
    with tempfile.TemporaryDirectory(prefix="ordersync-pyack-") as tmp:
        gen = os.path.join(tmp, "gen")
        schemas = sorted(glob.glob(os.path.join(args.schemas, "*.fbs")))
        subprocess.run([args.flatc, "--python", "-o", gen, "-I", args.schemas, *schemas], check=True)
        sys.path.insert(0, gen)
        enc = Encoder()
        proc, config, endpoint, log = start_serve(args, tmp)
        try:
            ctx = zmq.Context()
            producer = Producer(ctx, endpoint, enc, check)

            # 1. Three events per order, in business order: all applied.
            events = []
            for i in range(ORDERS):
                order = f"PY-{i:05d}"
                events.append(enc.envelope("OrderAccepted", f"{order}-a", order, source="SALES"))
                events.append(enc.envelope("InventoryReserved", f"{order}-r", order, key=f"RES-{i}"))
                events.append(enc.envelope("PickCompleted", f"{order}-p", order, key=f"PICK-{i}"))
            ids = [f"PY-{i:05d}-{k}" for i in range(ORDERS) for k in "arp"]
            batches = [[(events[j], (ACCEPTED, ids[j], "")) for j in range(s, min(s + BATCH, len(events)))]
                       for s in range(0, len(events), BATCH)]
            producer.run(batches)

            # 2. Resending acknowledged batches: every event a Duplicate (exact).
            producer.run([[(frame, (DUPLICATE, eid, "exact")) for frame, (_, eid, _) in batch] for batch in batches[:5]])

            # 3. A batch with bad frames among good ones: each bad one rejected alone.
            bad_version = enc.envelope("OrderAccepted", "PY-bad-v", "PY-X1", schema_version=2)
            no_event_id = enc.envelope("OrderAccepted", "", "PY-X2")
            mixed = [
                (enc.envelope("OrderAccepted", "PY-Y1-a", "PY-Y1"), (ACCEPTED, "PY-Y1-a", "")),
                (bad_version, (REJECTED, "PY-bad-v", "unsupported_schema_version")),
                (no_event_id, (REJECTED, "", "missing_field:event_id")),
                (b"garbage, not a FlatBuffer", (REJECTED, "", "wrong_file_identifier")),
                (enc.envelope("OrderAccepted", "PY-Y2-a", "PY-Y2"), (ACCEPTED, "PY-Y2-a", "")),
                # Out of order: the pick before its reservation is parked, durable, Accepted.
                (enc.envelope("PickCompleted", "PY-Y2-p", "PY-Y2", key="PICK-Y2"),
                 (ACCEPTED, "PY-Y2-p", r"parked:missing_prerequisite:.+")),
                (enc.envelope("InventoryReserved", "PY-Y2-r", "PY-Y2", key="RES-Y2"), (ACCEPTED, "PY-Y2-r", "")),
            ]
            producer.run([mixed])
            total = len(events) + 5 * BATCH + len(mixed)
            print(f"{total} events acknowledged ({producer.resends} Busy/Throttled resends)")
            ctx.destroy(linger=0)
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=60)
            check.expect(rc == 0, f"serve exits 0 after SIGTERM (got {rc})")
            log.seek(0)
            text = log.read()
            check.expect("stopped" in text, "serve logged a clean stop")
            if check.failures:
                print(text[-3000:])

        # 4. The rejected frames are in the quarantine, with their reasons.
        out = subprocess.run([args.ordersync, "--config", config, "quarantine", "list", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        try:
            listing = json.loads(out.stdout)
            reasons = [r["reason"] for r in listing["records"]]
        except ValueError:
            listing, reasons = {}, out
        check.expect(reasons == ["unsupported_schema_version", "missing_field:event_id", "wrong_file_identifier"],
                     f"quarantine list shows the three rejected frames (got {reasons})")
        check.expect(listing.get("records", [{}])[0].get("event_id") == "PY-bad-v",
                     "quarantine keeps the readable event_id")

    print(f"{check.checks - check.failures}/{check.checks} checks passed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
