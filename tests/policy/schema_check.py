#!/usr/bin/env python3
"""Keeps policy/seatlock-policy.schema.json in step with the C++ validator.

- The schema is a valid draft 2020-12 schema.
- The shipped default and every example validate.
- Every malformed corpus case is rejected by the schema too (or is not JSON at all), except
  the cases listed in corpus/schema_exempt.txt, which need more than a schema can say (expiry,
  conflicts between entries, host bits of a CIDR, ...). Those must pass the schema, so the
  list stays honest.
"""
import argparse
import glob
import json
import os
import sys

import jsonschema


def strip_comments(text):
    """Removes // and /* */ comments outside strings (seatlock accepts them, json does not)."""
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] not in "\r\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def problems(validator, path):
    """None when the file is valid JSON that the schema accepts, else a short reason."""
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return f"not JSON: {e}"
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if not errors:
        return None
    e = errors[0]
    return "/" + "/".join(str(p) for p in e.path) + ": " + e.message[:120]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--policy", required=True)
    a = ap.parse_args()
    with open(os.path.join(a.policy, "seatlock-policy.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    shipped = [os.path.join(a.policy, "default", "00-default.json")] + sorted(
        glob.glob(os.path.join(a.policy, "examples", "*.json")))
    for path in shipped:
        p = problems(validator, path)
        print(f"{os.path.relpath(path, a.policy)}: {'valid' if p is None else p}")
        if p is not None:
            failures.append(f"{path} must validate: {p}")

    exempt = {}
    with open(os.path.join(a.corpus, "schema_exempt.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                case, _, reason = line.partition(" ")
                exempt[case] = reason.strip()
    bad = os.path.join(a.corpus, "bad")
    cases = sorted(os.path.splitext(e)[0] for e in os.listdir(bad) if e.endswith(".expected"))
    for case in cases:
        single = os.path.join(bad, case + ".json")
        files = [single] if os.path.exists(single) else sorted(glob.glob(os.path.join(bad, case, "*.json")))
        found = [(os.path.relpath(p, bad), problems(validator, p)) for p in files]
        rejected = [(p, why) for p, why in found if why is not None]
        if case in exempt:
            print(f"{case}: not schema-detectable ({exempt[case]})")
            if rejected:
                failures.append(f"{case} is listed as not schema-detectable but the schema rejects {rejected[0]}")
        else:
            print(f"{case}: schema rejects {rejected[0][0]}: {rejected[0][1]}" if rejected else f"{case}: schema accepts it")
            if not rejected:
                failures.append(f"{case}: the schema accepts a policy the validator rejects")
    for name in exempt:
        if name not in cases:
            failures.append(f"schema_exempt.txt names {name}, which is not in the corpus")
    if failures:
        print("\nFAIL:\n" + "\n".join(failures))
        sys.exit(1)
    print(f"ok: {len(shipped)} shipped files valid, {len(cases) - len(exempt)} corpus cases rejected by the schema, "
          f"{len(exempt)} need the C++ validator")


if __name__ == "__main__":
    main()
