#!/usr/bin/env python3
"""Runs the real `seatlockctl policy check` / `policy show` on policy files.

  run_corpus.py --ctl CTL --corpus DIR bad [CASE]
      every CASE.json (or directory CASE/) under DIR/bad (or just the one named) must exit 1 and
      print exactly DIR/bad/CASE.expected on stderr (nothing on stdout).
  run_corpus.py --ctl CTL --corpus DIR --policy POLICYDIR good
      the shipped default and the examples must pass, alone and merged, and `policy show`
      must print a SHA-256 that equals sha256(canonical JSON) of the document it prints.

Checks run "as of" a fixed time (--at) so the result does not change with the calendar.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

AT = "2026-11-28T12:00:00Z"


def run(ctl, args, cwd=None):
    p = subprocess.run([ctl] + args, cwd=cwd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def bad_case(ctl, corpus, case):
    """Returns None when CASE gives exit 1 and exactly its expected message, else why not."""
    bad = os.path.join(corpus, "bad")
    target = case + ".json" if os.path.exists(os.path.join(bad, case + ".json")) else case
    if not os.path.exists(os.path.join(bad, target)):
        return f"no {case}.json or {case}/ in {bad}"
    with open(os.path.join(bad, case + ".expected"), encoding="utf-8") as f:
        expected = f.read()
    if not expected.strip():
        return f"{case}.expected is empty"
    rc, out, err = run(ctl, ["policy", "check", "--at", AT, target], cwd=bad)
    print(f"$ seatlockctl policy check {target}   # exit {rc}\n{err}{out}", end="")
    if rc != 1:
        return f"{case}: expected exit 1, got {rc}"
    if out:
        return f"{case}: expected nothing on stdout, got {out!r}"
    if err != expected:
        return f"{case}: stderr differs from {case}.expected:\n--- expected\n{expected}--- got\n{err}"
    return None


def bad_cases(ctl, corpus, only):
    bad = os.path.join(corpus, "bad")
    cases = sorted(os.path.splitext(e)[0] for e in os.listdir(bad) if e.endswith(".expected"))
    inputs = {os.path.splitext(e)[0] for e in os.listdir(bad) if not e.endswith(".expected")}
    failures = [f"{c} has no .expected file" for c in sorted(inputs - set(cases))]
    for case in ([only] if only else cases):
        why = bad_case(ctl, corpus, case)
        if why:
            failures.append(why)
    if failures:
        fail("\n".join(failures))
    print(f"ok: {1 if only else len(cases)} malformed policies rejected with their exact messages")


def canonical(doc):
    # Same rules as seatlock's canonical_bytes: sorted keys, no white space, UTF-8 as is.
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def good(ctl, policy):
    default = os.path.join(policy, "default")
    examples = sorted(glob.glob(os.path.join(policy, "examples", "*.json")))
    if len(examples) < 3:
        fail("expected at least three example files")
    summary = re.compile(r"^policy OK: (\d+) files?, sha256 ([0-9a-f]{12})\.\.\., usb (enforce|audit), "
                         r"network (enforce|audit), firmware (enforce|audit), (\d+) exceptions?( \(next expiry (\S+)\))?\n$")

    rc, out, err = run(ctl, ["policy", "check", "--at", AT, default])
    print(f"$ seatlockctl policy check policy/default\n{out}{err}", end="")
    m = summary.match(out)
    if rc != 0 or err or not m:
        fail("the shipped default must pass with a one-line summary")
    if m.groups()[:1] + m.groups()[2:6] != ("1", "enforce", "enforce", "audit", "0"):
        fail("the shipped default must be: 1 file, usb enforce, network enforce, firmware audit, 0 exceptions")

    for ex in examples:
        rc, out, err = run(ctl, ["policy", "check", "--at", AT, default, ex])
        if rc != 0 or err or not summary.match(out):
            fail(f"default + {ex} must pass: {out}{err}")

    rc, out, err = run(ctl, ["policy", "check", "--at", AT, default] + examples)
    print(f"$ seatlockctl policy check policy/default policy/examples/*\n{out}{err}", end="")
    m = summary.match(out)
    if rc != 0 or err or not m:
        fail("default + all examples must pass")
    if int(m.group(1)) != 1 + len(examples):
        fail("the summary must count every file")

    rc, show, err = run(ctl, ["policy", "show", default] + examples)
    rc2, show_json, err2 = run(ctl, ["--json", "policy", "show", default] + examples)
    if rc != 0 or rc2 != 0:
        fail(f"policy show failed: {err}{err2}")
    doc = json.loads(show_json)
    printed = show.rstrip("\n").splitlines()[-1]
    digest = hashlib.sha256(canonical(doc)).hexdigest()
    if printed != "sha256: " + digest:
        fail(f"policy show prints {printed!r}, the document hashes to {digest}")
    if not digest.startswith(m.group(2)):
        fail("policy check and policy show disagree on the hash")
    if json.loads(show[: show.rindex("sha256:")]) != doc:
        fail("policy show and policy show --json print different documents")
    for section in ("usb", "network", "firmware", "report"):
        if section not in doc:
            fail(f"effective policy lacks the {section} section")
    print(f"policy show: sha256 {digest} verified over {len(canonical(doc))} canonical bytes\nok")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--policy")
    ap.add_argument("mode", choices=["bad", "good"])
    ap.add_argument("case", nargs="?")
    a = ap.parse_args()
    if a.mode == "bad":
        bad_cases(a.ctl, a.corpus, a.case)
    else:
        good(a.ctl, a.policy)


if __name__ == "__main__":
    main()
