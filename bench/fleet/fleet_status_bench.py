#!/usr/bin/env python3
"""`seatlock-collector fleet status` on a fleet of N seats (default 10,000): a published tree
(all/, 50 groups, a few hundred seat directories with grants and closures) and a SQLite store
with every seat's events (heartbeats, two fleet acknowledgements, violations today and earlier,
closures), written straight into the collector's schema. Prints how long the command takes.
Not part of the test run.

usage: fleet_status_bench.py BUILD_DIR [--seats N] [--events-per-seat N] [--keep DIR]
"""
import argparse, json, os, random, shutil, sqlite3, time, uuid

from fleet_bench_common import collector_binary, put as put_json, run as run_collector, work_dir

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("--seats", type=int, default=10000)
p.add_argument("--events-per-seat", type=int, default=30)
p.add_argument("--keep")
a = p.parse_args()
collector = collector_binary(a.build)
work = work_dir(a.keep, "fleet-status-bench-")
tree, bundles, db = (os.path.join(work, n) for n in ("tree", "bundles", "collector.db"))
seats = ["cc-%05d" % i for i in range(a.seats)]


def run(*args, out=None):
    return run_collector(collector, *args, out=out)


def put(rel, doc):
    put_json(os.path.join(tree, rel), doc)


# The tree: 50 groups of 100 seats, 300 seats with a USB grant, one group closed.
shutil.rmtree(tree, ignore_errors=True)
put("groups.json", {"seats": seats,
                    "groups": [{"name": "floor-%02d" % g, "match": ["cc-%03d??" % g]}
                               for g in range(min(50, (a.seats + 99) // 100))]})
put("all/10-base.json", {"usb": {"mode": "enforce"}, "network": {"mode": "enforce"}})
put("groups/floor-03/95-net-closed.json",
    {"network": {"closed": {"ticket": "INC-1", "by": "bench", "since": "2026-12-01T00:00:00Z"}}})
for i in range(0, min(a.seats, 300)):
    put("seats/%s/85-grant-usb-CHG-%d.json" % (seats[i * (a.seats // 300 or 1)], i),
        {"usb": {"exceptions": [{"vid": "0781", "pid": "5581", "serial": "S%d" % i,
                                 "until": "2030-01-01T00:00:00Z", "ticket": "CHG-%d" % i}]}})
key = os.path.join(work, "fleet.key")
if not os.path.exists(key):
    run("fleet", "keygen", "--out", key)
shutil.rmtree(bundles, ignore_errors=True)
t_pub, r = run("fleet", "publish", "--tree", tree, "--key", key, "--bundles", bundles)
version = int(open(os.path.join(bundles, "current")).read())

# The store: create it with the collector, then fill its tables directly (fast, same schema).
if os.path.exists(db):
    os.remove(db)
run("enroll", "--db", db, "--seat", "bench-init")
now = int(time.time() * 1000)
con = sqlite3.connect(db)
rows, seat_rows = [], []
rnd = random.Random(7)
for s in seats:
    events = []

    def ev(kind, severity, t, details):
        events.append((kind, severity, t, details, len(events) + 1))
    hb = now - rnd.randint(0, 4) * 60000
    if rnd.random() < 0.01:
        hb -= 2 * 86400000  # 1 % silent
    ev("agent.heartbeat", "info", hb - 300000, {})
    ev("agent.heartbeat", "info", hb, {})
    acked = version if rnd.random() > 0.05 else version - 1  # 5 % behind (acked 0 = none)
    over = ["/usb/mode"] if rnd.random() < 0.01 else []
    ev("policy.applied", "info", now - 7200000, {"fleet": {"version": max(acked - 1, 1)}})
    ev("policy.applied", "info", now - 3600000,
       {"reason": "fleet bundle %d" % acked, "sources": ["00-default.json", "fleet/all/10-base.json"],
        "fleet": {"version": acked, "expires": "2030-01-01T00:00:00.000Z", "local_overrides": over}})
    for i in range(max(a.events_per_seat - 4, 0)):
        old = i % 3 == 0
        ev("usb.blocked" if i % 2 else "net.egress_denied", "high" if i % 4 else "info",
           now - (3 * 86400000 if old else rnd.randint(1, 23) * 3600000),
           {"vid": "0951", "pid": "1666", "port": "1-2", "n": i})
    last = 0
    for kind, severity, t, details, q in events:
        line = json.dumps({"details": details, "hostname": s + ".lan", "id": str(uuid.uuid4()),
                           "kind": kind, "mode": "enforce", "outcome": "reported",
                           "policy": {"rule": "", "sha256": "a" * 64}, "prev": "0" * 64,
                           "seat": {"id": s}, "seq": q, "severity": severity,
                           "time": t}, separators=(",", ":"), sort_keys=True)
        rows.append((str(uuid.uuid4()), s, q, t, kind, severity, "", "h%d" % q, "p", line, now))
        last = q
    seat_rows.append((s, "", now - 86400000, now, last, "h", hb, "agent.heartbeat", hb, hb - 300000))
con.executemany("INSERT INTO events(id, seat_id, seq, time_ms, kind, severity, user_name, "
                "chain_hash, prev, line, received_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
con.executemany("INSERT INTO seats(seat_id, pubkey, first_seen_ms, last_received_ms, last_seq, "
                "last_hash, last_event_ms, last_event_kind, last_heartbeat_ms, "
                "prev_heartbeat_ms) VALUES (?,?,?,?,?,?,?,?,?,?)", seat_rows)
con.commit()
con.close()
size = os.path.getsize(db)

with open(os.devnull, "w") as null:
    t_json, _ = run("fleet", "status", "--db", db, "--bundles", bundles, "--json", out=null)
    t_table, _ = run("fleet", "status", "--db", db, "--bundles", bundles, out=null)
    t_group, _ = run("fleet", "status", "--db", db, "--bundles", bundles, "--tree", tree,
                     "--group", "floor-03", "--json", out=null)
print("seats %d, events %d (%.0f MiB SQLite), publish %.1f s" %
      (a.seats, len(rows), size / 2**20, t_pub))
print("fleet status --json: %.2f s; table: %.2f s; --group floor-03 --json: %.2f s" %
      (t_json, t_table, t_group))
if not a.keep:
    shutil.rmtree(work)
