#!/usr/bin/env python3
"""Contract test: an independent Python producer against the C++ validator.

Generates Python code from the public schemas with `flatc --python` (into a temporary
directory), encodes envelopes of every payload kind plus a set of malformed ones with
Debian's python3-flatbuffers, writes each to a file and runs
`ordersync validate --json FILE...`. Every file's verdict must equal the expected reason
code (docs/contract.md). Also checks text mode, --max-message-bytes and the exit codes
(0 all ok, 1 some rejected, 2 unreadable file).

Usage: python_producer_test.py --ordersync PATH --schemas DIR [--flatc PATH]
Exits non-zero on any mismatch.
"""

import argparse
import glob
import importlib
import json
import os
import subprocess
import sys
import tempfile

import flatbuffers

MAX_MESSAGE_BYTES = 64 * 1024
OMIT = None  # a string field set to OMIT is left out of the buffer

# Payload tables in schema order: (field, kind of value). Drives the generic encoder
# below through the flatc-generated <Table>Add<Field> functions.
PAYLOAD_FIELDS = {
    "OrderAccepted": [("customer_id", "str"), ("currency", "str"), ("lines", "lines")],
    "InventoryReserved": [("reservation_id", "str"), ("warehouse", "str"), ("lines", "lines")],
    "PickCompleted": [("pick_id", "str"), ("warehouse", "str"), ("lines", "lines")],
    "ShipmentDispatched": [("shipment_id", "str"), ("carrier", "str"), ("tracking_no", "str"), ("lines", "lines")],
    "DeliveryConfirmed": [("shipment_id", "str"), ("signed_by", "str")],
    "ReturnReceived": [("return_id", "str"), ("lines", "lines")],
    "OrderCancelled": [("reason", "str")],
    "InventoryAdjusted": [("adjustment_id", "str"), ("warehouse", "str"), ("sku", "str"), ("delta_qty", "long"),
                          ("reason", "str")],
}

VALID_PAYLOADS = {
    "OrderAccepted": {"customer_id": "C-42", "currency": "EUR"},
    "InventoryReserved": {"reservation_id": "RES-1", "warehouse": "WH-EAST"},
    "PickCompleted": {"pick_id": "PICK-1", "warehouse": "WH-EAST"},
    "ShipmentDispatched": {"shipment_id": "SHP-1", "carrier": "DHL", "tracking_no": "00340434161094042557"},
    "DeliveryConfirmed": {"shipment_id": "SHP-1", "signed_by": "J. Doe"},
    "ReturnReceived": {"return_id": "RET-1"},
    "OrderCancelled": {"reason": "customer request"},
    "InventoryAdjusted": {"adjustment_id": "ADJ-1", "warehouse": "WH-EAST", "sku": "SKU-1", "delta_qty": -2,
                          "reason": "damaged"},
}

DEFAULT_LINES = [
    {"line_no": 1, "sku": "SKU-1", "qty": 3, "uom": "EA", "unit_price_minor": 1999},
    {"line_no": 2, "sku": "SKU-2", "qty": 1, "uom": "EA", "unit_price_minor": 0},
]


def camel(name):
    return "".join(part.capitalize() for part in name.split("_"))


class Producer:
    """Encodes Envelopes with the flatc-generated Python API, as a producer team would."""

    def __init__(self, package):
        self.mod = {name: importlib.import_module(f"{package}.{name}")
                    for name in ["Envelope", "Line", "Milestone", "Priority", *PAYLOAD_FIELDS]}
        self.milestone = self.mod["Milestone"].Milestone

    def _string(self, b, s):
        return None if s is OMIT else b.CreateString(s)

    def _lines(self, b, table, lines):
        if lines is OMIT:
            return None
        line_mod = self.mod["Line"]
        offsets = []
        for spec in lines:
            line = dict(DEFAULT_LINES[0], **spec)
            sku = self._string(b, line["sku"])
            uom = self._string(b, line["uom"])
            line_mod.LineStart(b)
            line_mod.LineAddLineNo(b, line["line_no"])
            if sku is not None:
                line_mod.LineAddSku(b, sku)
            line_mod.LineAddQty(b, line["qty"])
            if uom is not None:
                line_mod.LineAddUom(b, uom)
            line_mod.LineAddUnitPriceMinor(b, line["unit_price_minor"])
            offsets.append(line_mod.LineEnd(b))
        getattr(self.mod[table], f"{table}StartLinesVector")(b, len(offsets))
        for off in reversed(offsets):
            b.PrependUOffsetTRelative(off)
        return b.EndVector()

    def _payload(self, b, table, fields):
        mod = self.mod[table]
        values = {}
        for name, kind in PAYLOAD_FIELDS[table]:  # children first: FlatBuffers builds bottom-up
            v = fields.get(name, OMIT)
            if kind == "str":
                values[name] = self._string(b, v)
            elif kind == "lines":
                values[name] = self._lines(b, table, v)
            else:
                values[name] = v
        getattr(mod, f"{table}Start")(b)
        for name, _ in PAYLOAD_FIELDS[table]:
            if values[name] is not None:
                getattr(mod, f"{table}Add{camel(name)}")(b, values[name])
        return getattr(mod, f"{table}End")(b)

    def encode(self, kind, payload_type=None, with_payload=True, identifier=b"OSEV", schema_version=1,
               event_id="evt-0001", correlation_id="trace-0001", order_id="SO-1001", source="WMS-EAST",
               source_seq=1, company_code="1000", priority=0, occurred_at_ns=1_700_000_000_000_000_000,
               **payload_overrides):
        """Encodes one Envelope. `kind` names the payload table (None: no payload);
        `payload_type` overrides the union type byte; keyword arguments override payload
        fields (OMIT leaves a field out)."""
        b = flatbuffers.Builder(256)
        payload = None
        if kind is not None and with_payload:
            fields = dict(VALID_PAYLOADS[kind])
            if any(name == "lines" for name, _ in PAYLOAD_FIELDS[kind]):
                fields["lines"] = DEFAULT_LINES
            fields.update(payload_overrides)
            payload = self._payload(b, kind, fields)
        strings = {name: self._string(b, value) for name, value in [
            ("event_id", event_id), ("correlation_id", correlation_id), ("order_id", order_id),
            ("source", source), ("company_code", company_code)]}
        env = self.mod["Envelope"]
        env.EnvelopeStart(b)
        env.EnvelopeAddSchemaVersion(b, schema_version)
        for name, off in strings.items():
            if off is not None:
                getattr(env, f"EnvelopeAdd{camel(name)}")(b, off)
        env.EnvelopeAddSourceSeq(b, source_seq)
        env.EnvelopeAddPriority(b, priority)
        env.EnvelopeAddOccurredAtNs(b, occurred_at_ns)
        if payload_type is None:
            payload_type = getattr(self.milestone, kind) if kind is not None else self.milestone.NONE
        env.EnvelopeAddPayloadType(b, payload_type)
        if payload is not None:
            env.EnvelopeAddPayload(b, payload)
        b.Finish(env.EnvelopeEnd(b), file_identifier=identifier)
        return bytes(b.Output())


def build_cases(p):
    """(name, frame bytes, expected reason)."""
    cases = []
    for kind in PAYLOAD_FIELDS:
        cases.append((f"valid_{kind}", p.encode(kind), "ok"))
    cases += [
        ("valid_same_day_unsequenced", p.encode("ShipmentDispatched", priority=1, source_seq=0), "ok"),
        ("valid_optional_fields_absent", p.encode("ShipmentDispatched", correlation_id=OMIT, company_code=OMIT,
                                                  carrier=OMIT, tracking_no=OMIT), "ok"),
        ("valid_event_id_128_bytes", p.encode("OrderAccepted", event_id="e" * 128), "ok"),
        ("valid_order_id_64_bytes", p.encode("OrderAccepted", order_id="o" * 64), "ok"),
        ("missing_event_id", p.encode("OrderAccepted", event_id=OMIT), "missing_field:event_id"),
        ("empty_event_id", p.encode("OrderAccepted", event_id=""), "missing_field:event_id"),
        ("missing_order_id", p.encode("PickCompleted", order_id=OMIT), "missing_field:order_id"),
        ("missing_source", p.encode("PickCompleted", source=OMIT), "missing_field:source"),
        ("missing_currency", p.encode("OrderAccepted", currency=OMIT), "missing_field:currency"),
        ("missing_shipment_id", p.encode("DeliveryConfirmed", shipment_id=OMIT), "missing_field:shipment_id"),
        ("missing_line_sku", p.encode("ReturnReceived", lines=[{"sku": OMIT}]), "missing_field:lines.sku"),
        ("payload_type_without_payload", p.encode("ShipmentDispatched", with_payload=False),
         "missing_field:payload"),
        ("event_id_129_bytes", p.encode("OrderAccepted", event_id="e" * 129), "field_too_long:event_id"),
        ("order_id_65_bytes", p.encode("OrderAccepted", order_id="o" * 65), "field_too_long:order_id"),
        ("empty_lines", p.encode("OrderAccepted", lines=[]), "empty_lines"),
        ("absent_lines", p.encode("InventoryReserved", lines=OMIT), "empty_lines"),
        ("qty_0", p.encode("PickCompleted", lines=[{"qty": 0}]), "non_positive_qty"),
        ("qty_negative", p.encode("ShipmentDispatched", lines=[{"qty": -5}]), "non_positive_qty"),
        ("negative_unit_price", p.encode("OrderAccepted", lines=[{"unit_price_minor": -1}]), "negative_unit_price"),
        ("line_no_0", p.encode("OrderAccepted", lines=[{"line_no": 0}]), "invalid_line_no"),
        ("duplicate_line_no", p.encode("OrderAccepted", lines=[{"line_no": 7}, {"line_no": 7, "sku": "SKU-9"}]),
         "duplicate_line_no"),
        ("too_many_lines", p.encode("OrderAccepted", lines=[{"line_no": i} for i in range(1, 1002)]),
         "too_many_lines"),
        ("zero_delta_qty", p.encode("InventoryAdjusted", delta_qty=0), "zero_delta_qty"),
        ("zero_timestamp", p.encode("OrderAccepted", occurred_at_ns=0), "invalid_timestamp"),
        ("priority_5", p.encode("OrderAccepted", priority=5), "invalid_priority"),
        ("wrong_identifier", p.encode("OrderAccepted", identifier=b"OSEC"), "wrong_file_identifier"),
        ("schema_version_2", p.encode("OrderAccepted", schema_version=2), "unsupported_schema_version"),
        ("schema_version_0", p.encode("OrderAccepted", schema_version=0), "unsupported_schema_version"),
        ("payload_none", p.encode(None), "unknown_payload"),
        # A producer built from a newer schema: union member 9 with a table the engine cannot know.
        ("payload_type_from_newer_schema", p.encode("OrderCancelled", payload_type=max(
            v for k, v in vars(p.milestone).items() if not k.startswith("_")) + 1), "unknown_payload"),
        ("three_bytes", b"\x01\x02\x03", "truncated_or_corrupt"),
        ("empty_file", b"", "truncated_or_corrupt"),
    ]
    valid = p.encode("ShipmentDispatched")
    for cut in (8, len(valid) // 3, len(valid) // 2, len(valid) - 8):
        cases.append((f"truncated_at_{cut}_of_{len(valid)}", valid[:cut], "truncated_or_corrupt"))
    cases.append(("oversized_by_one_byte", valid + b"\0" * (MAX_MESSAGE_BYTES + 1 - len(valid)), "oversized_message"))
    cases.append(("exactly_max_message_bytes", valid + b"\0" * (MAX_MESSAGE_BYTES - len(valid)), "ok"))
    cases.append(("valid_padded_to_2000_bytes", valid + b"\0" * (2000 - len(valid)), "ok"))
    return cases


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def expect(self, cond, what):
        self.checks += 1
        print(("  ok    " if cond else "  FAIL  ") + what)
        if not cond:
            self.failures += 1
        return cond


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ordersync", required=True, help="the ordersync binary")
    ap.add_argument("--schemas", required=True, help="directory holding the public *.fbs schemas")
    ap.add_argument("--flatc", default="flatc")
    args = ap.parse_args()
    check = Checker()

    with tempfile.TemporaryDirectory(prefix="ordersync-contract-") as tmp:
        gen = os.path.join(tmp, "gen")
        schemas = sorted(glob.glob(os.path.join(args.schemas, "*.fbs")))
        subprocess.run([args.flatc, "--python", "-o", gen, "-I", args.schemas, *schemas], check=True)
        print(f"flatc --python: {len(schemas)} schemas -> {gen}")
        sys.path.insert(0, gen)
        producer = Producer("ordersync")

        # The generated reader agrees with the generated writer (sanity of the toolchain).
        env_mod = producer.mod["Envelope"]
        frame = producer.encode("ShipmentDispatched")
        env = env_mod.Envelope.GetRootAs(frame, 0)
        check.expect(env_mod.Envelope.EnvelopeBufferHasIdentifier(frame, 0) and env.EventId() == b"evt-0001",
                     "python reader decodes the python-encoded envelope")

        cases = build_cases(producer)
        frames_dir = os.path.join(tmp, "frames")
        os.makedirs(frames_dir)
        files = []
        for i, (name, data, _) in enumerate(cases):
            path = os.path.join(frames_dir, f"{i:02d}_{name}.bin")
            with open(path, "wb") as f:
                f.write(data)
            files.append(path)

        # 1. JSON mode, every case in one call.
        print(f"ordersync validate --json: {len(files)} frames")
        rc, out, err = run([args.ordersync, "validate", "--json", *files])
        try:
            verdicts = json.loads(out)
        except ValueError as e:
            check.expect(False, f"--json output parses as JSON ({e}); rc={rc} stdout={out!r} stderr={err!r}")
            verdicts = []
        if check.expect(len(verdicts) == len(cases), f"one verdict per file ({len(verdicts)}/{len(cases)})"):
            for (name, data, want), path, v in zip(cases, files, verdicts):
                got = v.get("reason")
                good = (v.get("file") == path and got == want and v.get("ok") is (want == "ok")
                        and isinstance(v.get("message"), str) and v["message"] != "")
                check.expect(good, f"{name} ({len(data)} B): want {want}, got {got}" + ("" if good else f" {v}"))
        check.expect(rc == 1, f"exit code 1 when some frames are rejected (got {rc})")

        # 2. Text mode on the valid frames only: exit 0, "<path>\tok" per file.
        valid_files = [path for (_, _, want), path in zip(cases, files) if want == "ok"]
        rc, out, err = run([args.ordersync, "validate", *valid_files])
        check.expect(rc == 0, f"text mode, {len(valid_files)} valid frames: exit 0 (got {rc}, stderr {err!r})")
        check.expect(out.splitlines() == [f"{path}\tok" for path in valid_files], "text mode prints '<path>\\tok'")

        # 3. Text mode on a rejected frame: "<path>\t<reason>\t<description>".
        bad = files[[name for name, _, _ in cases].index("missing_event_id")]
        rc, out, _ = run([args.ordersync, "validate", bad])
        fields = out.rstrip("\n").split("\t")
        check.expect(rc == 1 and len(fields) == 3 and fields[:2] == [bad, "missing_field:event_id"] and fields[2],
                     f"text mode prints '<path>\\t<reason>\\t<description>' (got {out!r}, rc {rc})")

        # 4. --max-message-bytes lowers the frame limit (trailing bytes after a FlatBuffer
        # are ignored, so the padded frame is valid at the default limit).
        padded = files[[name for name, _, _ in cases].index("valid_padded_to_2000_bytes")]
        rc, out, err = run([args.ordersync, "validate", "--json", "--max-message-bytes", "1024", padded])
        try:
            got = [v.get("reason") for v in json.loads(out)]
        except ValueError:
            got = (out, err)
        check.expect(rc == 1 and got == ["oversized_message"],
                     f"--max-message-bytes 1024 on a 2000-byte frame: oversized_message (got {got}, rc {rc})")

        # 5. An unreadable file is reported and wins the exit code.
        missing = os.path.join(tmp, "does_not_exist.bin")
        rc, out, _ = run([args.ordersync, "validate", "--json", valid_files[0], missing])
        try:
            got = [(v.get("file"), v.get("ok"), v.get("reason")) for v in json.loads(out)]
        except ValueError:
            got = out
        check.expect(rc == 2 and got == [(valid_files[0], True, "ok"), (missing, False, "io_error")],
                     f"missing file: io_error and exit 2 (got {got}, rc {rc})")

    print(f"{check.checks - check.failures}/{check.checks} checks passed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
