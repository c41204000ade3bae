#!/usr/bin/env python3
"""HTTP/JSON ingress: an independent client (standard library urllib only) against a real
`ordersync serve`.

1. The request examples of docs/openapi.yaml are accepted by the running server.
2. Bearer token: none or a wrong one -> 401; the right one -> 200.
3. Load with a crash: 3000 events (1000 orders x accept/reserve/pick) in batches of 100
   from two client threads; serve is killed with kill -9 mid-stream and restarted; the
   clients resend whatever had no answer. Every result is checked: events acknowledged
   before the crash are Duplicate when resent, every event ends Accepted or Duplicate, and
   a final resend of all 3000 is answered Duplicate for every one (nothing acknowledged
   was lost).
4. Documented answers to bad input: 400 invalid_json (with reasons) for a body that is not
   a JSON array; per-event Rejected json_unknown_field / json_wrong_type / a contract
   reason; 413 for an oversized body; 415 for a non-JSON content type; 429 + Retry-After
   when every event is throttled; rejected events in `ordersync quarantine list`.

Usage: http_ingress_test.py --ordersync PATH --openapi docs/openapi.yaml
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

import yaml

TOKEN = "s3cret-token-for-tests"
ORDERS = 1000
BATCH = 100


class Check:
    def __init__(self):
        self.checks = 0
        self.failures = 0
        self.lock = threading.Lock()

    def expect(self, ok, what):
        with self.lock:
            self.checks += 1
            if not ok:
                self.failures += 1
                if self.failures <= 30:
                    print("FAIL:", what)
        return ok


def post(url, body, token=TOKEN, content_type="application/json", timeout=60):
    """-> (status, headers, parsed JSON or None). Raises OSError when the connection fails."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + "/v1/events", data=data, method="POST")
    if content_type:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, e.headers, json.loads(text)
        except ValueError:
            return e.code, e.headers, None


def event(kind, order, key=None, source="SHOP"):
    lines = [{"line_no": 1, "sku": "SKU-1", "qty": 4, "uom": "EA", "unit_price_minor": 1500},
             {"line_no": 2, "sku": "SKU-2", "qty": 1, "uom": "EA", "unit_price_minor": 900}]
    e = {"event_id": f"{order}-{kind}", "order_id": order, "source": source, "company_code": "1000",
         "occurred_at_ns": 1750000000000000000, "payload_type": kind}
    if kind == "OrderAccepted":
        e["payload"] = {"customer_id": "C-1", "currency": "EUR", "lines": lines}
    elif kind == "InventoryReserved":
        e["payload"] = {"reservation_id": key, "warehouse": "WH-1", "lines": lines}
    else:
        e["payload"] = {"pick_id": key, "warehouse": "WH-1", "lines": lines}
    return e


class Server:
    def __init__(self, binary, tmp):
        self.binary = binary
        self.tmp = tmp
        self.config = os.path.join(tmp, "ordersync.toml")
        token_file = os.path.join(tmp, "http.token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        with open(self.config, "w") as f:
            f.write(f'[storage]\ndata_dir = "{tmp}/data"\n'
                    '[ingress]\nack_endpoint = ""\npull_endpoint = ""\n'
                    '[[ingress.rate_limit.sources]]\nsource = "THROTTLED"\nevents_per_s = 1\nburst = 1\n'
                    f'[ingress.http]\nenabled = true\nlisten = "127.0.0.1:0"\ntoken_file = "{token_file}"\n'
                    'max_body_bytes = 262144\nthreads = 4\n'
                    '[metrics]\nenabled = false\n[admin]\nendpoint = ""\n')
        self.log_path = os.path.join(tmp, "serve.log")
        self.proc = None
        self.url = None

    def start(self):
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "--config", self.config, "serve"], stdout=log, stderr=log)
        deadline = time.time() + 60
        while time.time() < deadline:
            text = open(self.log_path).read()[offset:]
            m = re.search(r"http ingress: (http://[0-9.]+:\d+)/v1/events", text)
            if m and "running; stop with" in text:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        print(open(self.log_path).read()[-3000:])
        raise SystemExit("serve did not start")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def send_all(server, batches, check, acked, kill_after=None, on_kill=None):
    """Sends `batches` from two threads; Busy/Throttled events are resent after their hint,
    failed connections wait for the server and resend. `acked[event_id]` = first final status.
    Returns the statuses seen per event (list)."""
    seen = {}
    lock = threading.Lock()
    queue = list(enumerate(batches))
    answered = [0]

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                index, batch = queue.pop(0)
            while True:
                try:
                    status, headers, body = post(server.url, batch)
                except (OSError, http.client.HTTPException):
                    time.sleep(0.2)  # the server is down (kill -9): wait for it, resend the whole batch
                    continue
                if status not in (200, 429):
                    check.expect(False, f"batch {index}: HTTP {status} {body}")
                    break
                results = body["results"]
                check.expect(len(results) == len(batch), f"one result per event ({len(results)} for {len(batch)})")
                retry, wait_ms = [], 0
                for e, r in zip(batch, results):
                    check.expect(r["event_id"] == e["event_id"], f"results in order: {r['event_id']} for {e['event_id']}")
                    with lock:
                        seen.setdefault(e["event_id"], []).append(r["status"])
                        if r["status"] in ("Accepted", "Duplicate"):
                            acked.setdefault(e["event_id"], r["status"])
                    if r["status"] in ("Busy", "Throttled"):
                        check.expect(r["retry_after_ms"] > 0, f"{r['status']} carries retry_after_ms")
                        retry.append(e)
                        wait_ms = max(wait_ms, r["retry_after_ms"])
                    else:
                        check.expect(r["status"] in ("Accepted", "Duplicate") and
                                     (r["status"] != "Accepted" or r["reason"] == ""),
                                     f"{e['event_id']}: {r}")
                if status == 429:
                    check.expect(not [r for r in results if r["status"] not in ("Busy", "Throttled")],
                                 "429 only when every event is Throttled or Busy")
                    check.expect(int(headers.get("Retry-After", "0")) >= 1, "429 carries Retry-After")
                if not retry:
                    break
                time.sleep(wait_ms / 1000.0)
                batch = retry
            with lock:
                answered[0] += 1
                do_kill = kill_after is not None and answered[0] == kill_after
            if do_kill:
                on_kill()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ordersync", required=True)
    ap.add_argument("--openapi", required=True)
    args = ap.parse_args()
    check = Check()
    with tempfile.TemporaryDirectory(prefix="ordersync-http-") as tmp:
        server = Server(args.ordersync, tmp)
        server.start()
        try:
            # 1. The OpenAPI examples.
            spec = yaml.safe_load(open(args.openapi))
            examples = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["examples"]
            check.expect(len(examples) >= 2, "docs/openapi.yaml has request examples")
            for name, ex in examples.items():
                status, _, body = post(server.url, ex["value"])
                check.expect(status == 200, f"openapi example {name}: HTTP {status} {body}")
                if status == 200:
                    for r in body["results"]:
                        check.expect(r["status"] == "Accepted" and r["reason"] == "",
                                     f"openapi example {name}: {r}")
            # 2. Bearer token.
            good = [event("OrderAccepted", "TOK-1")]
            status, headers, body = post(server.url, good, token=None)
            check.expect(status == 401 and headers.get("WWW-Authenticate") == "Bearer" and body["error"] == "unauthorized",
                         f"no token -> 401 (got {status} {body})")
            status, _, _ = post(server.url, good, token="wrong-token")
            check.expect(status == 401, f"wrong token -> 401 (got {status})")
            status, _, body = post(server.url, good)
            check.expect(status == 200 and body["results"][0]["status"] == "Accepted", f"right token -> 200 ({body})")

            # 3. Load with kill -9 in the middle.
            events = []
            for i in range(ORDERS):
                order = f"HTTP-{i:05d}"
                events += [event("OrderAccepted", order), event("InventoryReserved", order, f"RES-{i}", "WMS"),
                           event("PickCompleted", order, f"PICK-{i}", "WMS")]
            # Batches keep each order's events in business order (one order never spans two
            # batches sent concurrently by the two threads).
            batches = [events[s:s + BATCH - 1] for s in range(0, len(events), BATCH - 1)]
            acked_before = {}

            def crash():
                snapshot = dict(acked_before)
                server.kill9()
                crash.snapshot = snapshot
                server.start()

            crash.snapshot = {}
            send_all(server, batches, check, acked_before, kill_after=len(batches) // 3, on_kill=crash)
            check.expect(len(crash.snapshot) > 0, "some events were acknowledged before the kill -9")
            check.expect(len(acked_before) == len(events), f"every event answered ({len(acked_before)}/{len(events)})")
            # Resend everything: all durable, nothing acknowledged lost.
            final = {}
            seen = send_all(server, batches, check, final)
            not_dup = [e for e, s in final.items() if s != "Duplicate"]
            check.expect(not not_dup, f"after the crash every event resent is Duplicate (not: {not_dup[:5]})")
            check.expect(len(final) == len(events), "every event answered on the resend")
            print(f"{len(events)} events, {len(crash.snapshot)} acknowledged before kill -9, all durable after restart")

            # 4. Bad input.
            status, _, body = post(server.url, b'[{"event_id": "x", ')
            check.expect(status == 400 and body["error"] == "invalid_json" and body["reasons"],
                         f"truncated JSON -> 400 invalid_json with reasons ({status} {body})")
            status, _, body = post(server.url, b'{"event_id": "x"}')
            check.expect(status == 400 and body["error"] == "invalid_json", f"not an array -> 400 ({status} {body})")
            status, _, body = post(server.url, b"[]")
            check.expect(status == 200 and body["results"] == [], f"empty array -> 200 [] ({status} {body})")
            unknown = dict(event("OrderAccepted", "BAD-1"), colour="red")
            wrong_type = dict(event("OrderAccepted", "BAD-2"), occurred_at_ns="yesterday")
            wrong_enum = dict(event("OrderAccepted", "BAD-3"), priority="Urgent")
            no_order = event("OrderAccepted", "BAD-4")
            del no_order["order_id"]
            zero_qty = event("OrderAccepted", "BAD-5")
            zero_qty["payload"]["lines"][0]["qty"] = 0
            fine = event("OrderAccepted", "OK-6")
            status, _, body = post(server.url, [unknown, wrong_type, wrong_enum, no_order, zero_qty, fine])
            want = [("Rejected", "json_unknown_field"), ("Rejected", "json_wrong_type"), ("Rejected", "json_wrong_type"),
                    ("Rejected", "missing_field:order_id"), ("Rejected", "non_positive_qty"), ("Accepted", "")]
            got = [(r["status"], r["reason"]) for r in body["results"]] if status == 200 else []
            check.expect(got == want, f"bad elements rejected alone with their reasons: {got}")
            status, _, body = post(server.url, b"[" + b" " * 300000 + b"]")
            check.expect(status == 413 and body and body["error"] == "body_too_large", f"oversized body -> 413 ({status})")
            status, _, body = post(server.url, b"[]", content_type="text/plain")
            check.expect(status == 415, f"text/plain -> 415 ({status})")
            # Throttled: source THROTTLED has 1 event/s, burst 1.
            throttled = [event("OrderAccepted", f"THR-{i}", source="THROTTLED") for i in range(4)]
            status, _, body = post(server.url, throttled[:2])
            check.expect(status == 200 and [r["status"] for r in body["results"]] == ["Accepted", "Throttled"],
                         f"over the rate limit -> Throttled ({status} {body})")
            status, headers, body = post(server.url, throttled[2:])
            check.expect(status == 429 and int(headers.get("Retry-After", "0")) >= 1 and
                         {r["status"] for r in body["results"]} == {"Throttled"},
                         f"all throttled -> 429 + Retry-After ({status} {dict(headers)} {body})")
        finally:
            rc = server.stop()
            check.expect(rc == 0, f"serve exits 0 after SIGTERM (got {rc})")
        out = subprocess.run([args.ordersync, "--config", server.config, "quarantine", "list", "--json"],
                             stdout=subprocess.PIPE, text=True, timeout=60)
        records = json.loads(out.stdout)["records"]
        reasons = [r["reason"] for r in records if r["endpoint"] == "http"]
        check.expect(reasons == ["json_unknown_field", "json_wrong_type", "json_wrong_type", "missing_field:order_id",
                                 "non_positive_qty"], f"quarantine holds the rejected HTTP events: {reasons}")
        if check.failures:
            print(open(server.log_path).read()[-4000:])
    print(f"{check.checks - check.failures}/{check.checks} checks passed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
