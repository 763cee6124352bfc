#!/usr/bin/env python3
"""Assembles the seed inputs of every fuzz target into OUT/<target>/ at run time, from the test
fixtures already in the tree (policies, firmware captures) plus the hand seeds under
bench/fuzz/seeds/<target>/ and a few generated ones (signed-chain event lines, gzip bodies), so
nothing large is copied into git.  Usage: make_corpus.py OUT"""
import gzip
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent.parent
SHARED = SRC.parent / "shared" / "fixtures"
SEP = b"\n--\n"


def canonical(obj):
    # The same bytes as nlohmann's dump of a std::map-backed object (docs/events.md).
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def events(seat="seat-01", n=3):
    out, prev = [], "0" * 64
    kinds = [("agent.started", "info", "reported"), ("usb.blocked", "high", "blocked"),
             ("net.denied", "medium", "blocked")]
    for i in range(n):
        kind, sev, outcome = kinds[i % len(kinds)]
        e = {"schema": "seatlock.event/1", "id": "0190f3c2-7a1b-7cde-8f01-23456789ab%02x" % i,
             "seq": i + 1, "time": "2026-11-28T14:03:1%d.123Z" % i,
             "seat": {"id": seat, "hostname": "cc-floor2-%02d" % i}, "kind": kind,
             "severity": sev, "outcome": outcome, "details": {"vid": "0951", "n": [1, 2.5, None]},
             "prev": prev}
        if i == 1:
            e["user"] = {"name": "agent7", "uid": 1007}
            e["mode"] = "enforce"
            e["policy"] = {"sha256": "ab" * 32, "rule": "usb.classes"}
        line = canonical(e)
        prev = hashlib.sha256(line).hexdigest()
        out.append(line)
    return out


def write(d, name, data):
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def main(out):
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    for hand in (HERE / "seeds").iterdir():
        shutil.copytree(hand, out / hand.name, dirs_exist_ok=True)

    lines = events()
    for i, line in enumerate(lines):
        write(out / "fuzz_event", "event-%d.json" % i, line)
    write(out / "fuzz_event", "time.txt", b"2026-02-29T23:59:60.5+05:30")
    batch = b"\n".join(lines) + b"\n"
    write(out / "fuzz_ingest_batch", "signed-batch", b"\x01" + batch)
    write(out / "fuzz_ingest_batch", "unsigned-batch", b"\x00" + batch)
    write(out / "fuzz_ingest_batch", "crlf-batch", b"\x01" + batch.replace(b"\n", b"\r\n"))
    write(out / "fuzz_control_request", "echo-event",
          b'{"cmd":"echo","args":' + lines[1] + b"}\n")

    policies = sorted((SRC / "policy").rglob("*.json"))
    policies = [p for p in policies if "schema" not in p.name]
    policies += sorted((SRC / "tests" / "policy" / "corpus").rglob("*.json"))
    for p in policies:
        write(out / "fuzz_policy", p.parent.name + "-" + p.name, p.read_bytes())
    examples = [p.read_bytes() for p in sorted((SRC / "policy" / "examples").glob("*.json"))]
    if examples:
        write(out / "fuzz_policy", "merged-examples", SEP.join(examples))

    for limit in (b"\x00\x01", b"\xff\xff", b"\x40\x00"):
        for p in policies[:4] + [HERE / "make_corpus.py"]:
            write(out / "fuzz_gzip", "%s-%s.gz" % (limit.hex(), p.name),
                  limit + gzip.compress(p.read_bytes()))

    # Firmware: three settings of each captured machine as the target's pieces.
    roots = [SRC / "tests" / "firmware" / "fixtures", SHARED / "firmware-attributes"]
    n = 0
    for root in roots:
        for attrs in sorted(root.glob("*/*/attributes")) if root.is_dir() else []:
            settings = [d for d in sorted(attrs.iterdir()) if (d / "current_value").is_file()]
            for start in range(0, min(len(settings), 30), 3):
                pieces = []
                for d in settings[start:start + 3]:
                    pieces += [d.name.encode()] + [
                        (d / f).read_bytes() if (d / f).is_file() else b""
                        for f in ("current_value", "possible_values", "type")]
                pieces += [b"Admin", b"bios-admin", b"1\n", b"password", b"\x07\x00\x00\x00\x01",
                           b"\x07\x00\x00\x00\x00", b"1.2.3\n", b"Precision\n", b"{}"]
                control = bytes([(n & 3) | 0x0c | (0x30 if n % 2 else 0)])
                write(out / "fuzz_firmware", "%s-%d" % (attrs.parent.parent.name, start),
                      control + SEP.join(pieces))
                n += 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
