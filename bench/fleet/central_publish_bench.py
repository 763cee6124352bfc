#!/usr/bin/env python3
"""Publishing a fleet of N seats (default 10,000) and "internet off" for a 1,000-seat group from
the center: times `seatlock-collector fleet publish` and `net close --group` / `net open --group`
(check of the would-be tree, write, publish of every seat's bundle, record in the collector
chain). The tree is realistic: all/ (3 files), 10 site groups of N/10 seats (glob match), 40
floor groups, 4 team groups with explicit lists, and 300 seat directories (some with grants).
Not part of the test run; run it with `nice` on a shared machine.

usage: central_publish_bench.py BUILD_DIR [--seats N] [--runs 3] [--keep DIR]
"""
import argparse, os, shutil

from fleet_bench_common import collector_binary, put as put_json, run as run_collector, work_dir

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("--seats", type=int, default=10000)
p.add_argument("--runs", type=int, default=3)
p.add_argument("--keep")
a = p.parse_args()
collector = collector_binary(a.build)
work = work_dir(a.keep, "fleet-central-bench-")
tree, key, bundles, db = (os.path.join(work, n)
                          for n in ("tree", "fleet.key", "bundles", "collector.db"))
per_site = a.seats // 10
seats = ["s%02d-f%d-%04d" % (s, (i * 4) // per_site, i) for s in range(10)
         for i in range(per_site)]


def put(path, doc):
    put_json(path, doc, indent=2)


def run(*args):
    t, r = run_collector(collector, *args)
    return t, r.stdout


shutil.rmtree(tree, ignore_errors=True)
groups = [{"name": "site-%02d" % s, "match": ["s%02d-*" % s]} for s in range(10)]
groups += [{"name": "floor-%02d-%d" % (s, f), "match": ["s%02d-f%d-*" % (s, f)]}
           for s in range(10) for f in range(4)]
groups += [{"name": "team-%d" % t, "seats": seats[t * 97:t * 97 + 60]} for t in range(4)]
put(tree + "/groups.json", {"seats": seats, "groups": groups})
put(tree + "/all/10-base.json", {"usb": {"mode": "enforce"}, "network": {
    "mode": "enforce", "dns": ["10.0.0.53"], "ntp": ["10.0.0.123"],
    "allow": [{"to": "10.20.0.0/16", "ports": [443], "essential": True},
              {"to": "10.30.0.0/16", "ports": [443]}]}})
put(tree + "/all/20-firmware.json", {"firmware": {"mode": "audit"}})
put(tree + "/all/30-report.json", {"network": {"denied_log": {"window": "1m", "rate": 50}}})
for g in groups:
    n = g["name"]
    put(tree + "/groups/%s/20-%s.json" % (n, n),
        {"network": {"allow": [{"to": "10.%d.%d.0/24" % (len(n), hash(n) % 250), "ports": [8443],
                                "comment": n}]}})
for i, s in enumerate(seats[::len(seats) // 300][:300]):
    doc = {"network": {"addresses": {"eth0": "10.99.%d.%d/16" % (i // 250, i % 250 + 1)}}}
    if i % 5 == 0:
        doc["usb"] = {"exceptions": [{"vid": "0951", "pid": "1666", "serial": "S%04d" % i,
                                      "until": "2099-01-01T00:00:00Z", "ticket": "T-%d" % i}]}
    put(tree + "/seats/%s/90-seat.json" % s, doc)
if not os.path.exists(key):
    run("fleet", "keygen", "--out", key)

paths = ["--tree", tree, "--key", key, "--bundles", bundles]
group = "site-03"
print("fleet: %d seats, %d groups, %d seat directories; work dir %s"
      % (len(seats), len(groups), 300, work))
for r in range(a.runs):
    t_pub, out = run("fleet", "publish", *paths)
    t_close, _ = run("net", "close", "--group", group, "--ticket", "BENCH-%d" % r, "--by", "bench",
                     "--db", db, *paths)
    t_open, _ = run("net", "open", "--group", group, "--ticket", "BENCH-%d" % r, "--by", "bench",
                    "--db", db, *paths)
    print("run %d: fleet publish %.2f s (%s); net close --group %s (%d seats) %.2f s; "
          "net open %.2f s" % (r + 1, t_pub, out.strip().split(" (")[-1].rstrip(")"), group,
                               per_site, t_close, t_open))
if not a.keep:
    shutil.rmtree(work)
