"""Scenario 14 (issue 14): fleet control from the collector host, on a real seat.

The seat is installed as IT deploys a managed seat: 90-seat.json pins the fleet's public key
(`report.fleet_keys`, made with `seatlock-collector fleet keygen`; hostside.ensure_fleet_key), and
the host's collector is a real `seatlock-collector serve --bundles DIR` (hostside.Collector). This
scenario is IT's side: a fleet tree on the host (the seat in group `floor-3`; `all/10-site.json`
marks the CRM essential and allows a site web service), published with `fleet publish`, then the
central actions of docs/fleet.md, each through the real CLI against the serving collector's
database and bundle directory:

1. `net close --group floor-3`: the seat's egress stops (the web service, and the private
   ranges the shipped default allows: an intranet server on 10.0.2.2), while the essential CRM
   stays reachable and the management path still carries the seat's events: `net.closed`
   (ticket) and `policy.applied` acknowledging the closure's bundle version reach the collector;
   `fleet status` shows the seat closed and acknowledged; `fleet.net_closed` is in the
   collector's chain. `net open` -> egress back, `net.opened` at the collector.
2. `grant usb --seat --serial S --read-only --until 90s`: once the bundle is in force, stick S
   gets a block device that is read-only: an ext4 file system on it mounts and reads, a write
   fails (EROFS; a direct write to the device is refused), while another stick of the same
   model stays without a block device (`usb.blocked`). `usb.exception_used` at the collector.
3. At `until` the seat's own timer removes the grant: the stick's block device goes away
   (usb-storage unbound), `usb.exception_expired` reaches the collector, and the stick plugged
   again gets no block device.
As a normal user (agent1), like scenario 5. A closure left by a failure is opened again.
"""
import datetime
import json
import os
import re
import subprocess
import sys
import time

from hostside import CRM_PORT, SEAT_ID, sh
from scenarios import QEMU_STORAGE_ID, Fail, check, mentions

GROUP = "floor-3"
WEB_ADDR, WEB_PORT = "198.51.100.30", 80  # a site web service the fleet allows, not essential
INTRANET_PORT = 8082  # on 10.0.2.2: reachable only through the shipped default's 10.0.0.0/8
GRANTED, OTHER = "SLVM-F14-GRANTED", "SLVM-F14-OTHER"
GRANT_FOR = "90s"
CLOSE_TICKET, OPEN_TICKET, USB_TICKET = "VM-14-CLOSE", "VM-14-OPEN", "VM-14-USB"
ACTOR = "it-admin"
STICK_TEXT = "SEATLOCK-F14-GRANTED-STICK"

GROUPS = {"seats": [SEAT_ID], "groups": [{"name": GROUP, "match": ["seat-vm-*"]}]}
SITE = {"network": {"allow": [
    {"to": "10.0.2.2/32", "ports": [CRM_PORT], "proto": "tcp", "essential": True,
     "comment": "the CRM: stays reachable while the internet is closed"},
    {"to": f"{WEB_ADDR}/32", "ports": [WEB_PORT], "proto": "tcp", "comment": "site web service"}]}}

# Probes in the guest, as the agent at the seat. `-m 4`: a dropped SYN is a timeout, not a hang.
AS_AGENT = """
id agent1 >/dev/null 2>&1 || useradd -m agent1
as() { setpriv --reuid=agent1 --regid=agent1 --init-groups "$@"; }
"""
TARGETS = {"crm": f"http://10.0.2.2:{CRM_PORT}/", "web": f"http://{WEB_ADDR}:{WEB_PORT}/",
           "intranet": f"http://10.0.2.2:{INTRANET_PORT}/"}
ANSWERS = {"crm": "CRM-OK", "web": "WEB-OK", "intranet": "INTRANET-OK"}


def rfc3339_to_epoch(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class FleetScenario:
    def __init__(self, suite):
        self.suite = suite
        self.collector = suite.collector
        self.netns = suite.collector.netns
        self.dir = os.path.join(suite.run_dir, "fleet")
        self.tree = os.path.join(self.dir, "tree")
        self.key = os.path.join(self.collector.pki, "fleet.key")
        self.procs = []
        self.closed = False
        self.notes = []

    def g(self, script, timeout=120):
        return self.suite.g(script, timeout)

    # ---- IT on the collector host -------------------------------------------------------------
    def cli(self, *args, paths=("tree", "key", "bundles", "db")):
        """seatlock-collector with the tree, key, bundle and store paths of the serving collector."""
        where = {"tree": self.tree, "key": self.key, "bundles": self.collector.bundles, "db": self.collector.db}
        res = sh(self.collector.binary, *args, *[x for p in paths for x in (f"--{p}", where[p])], check=False)
        out = (res.stdout + res.stderr).strip()
        check(res.returncode == 0, f"`seatlock-collector {' '.join(args)}` failed ({res.returncode}): {out}")
        return out

    def action(self, *args):
        """A central action; returns (version published, its output)."""
        out = self.cli(*args, "--by", ACTOR)
        m = re.search(r"version (\d+)", out)
        check(m, f"`{' '.join(args)}` named no version: {out}")
        return int(m.group(1)), out

    def write_tree(self):
        for rel, doc in (("groups.json", GROUPS), ("all/10-site.json", SITE)):
            path = os.path.join(self.tree, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")

    def fleet_status_row(self):
        res = sh(self.collector.binary, "fleet", "status", "--db", self.collector.db, "--bundles",
                 self.collector.bundles, "--group", GROUP, "--tree", self.tree, "--json", check=False)
        check(res.returncode == 0, f"fleet status failed: {res.stdout}{res.stderr}")
        rows = [s for s in json.loads(res.stdout)["seats"] if s["seat"] == SEAT_ID]
        check(rows, f"fleet status --group {GROUP} does not list {SEAT_ID}: {res.stdout[:600]}")
        return rows[0]

    # ---- host-side services -------------------------------------------------------------------
    def start_services(self):
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(["ip", "-n", self.netns.name, "addr", "replace", f"{WEB_ADDR}/32", "dev", "lo"],
                       check=True)
        for addr, port, answer, log in ((WEB_ADDR, WEB_PORT, "WEB-OK", "web.log"),
                                        ("127.0.0.1", INTRANET_PORT, "INTRANET-OK", "intranet.log")):
            self.procs.append(self.netns.popen([sys.executable, os.path.join(here, "http_echo.py"), addr,
                                                str(port), answer], os.path.join(self.dir, log)))
        time.sleep(0.5)
        check(all(p.poll() is None for p in self.procs), "a host-side web server did not start")

    def stop_services(self):
        for p in self.procs:
            p.terminate()
            p.wait(10)

    # ---- the seat -----------------------------------------------------------------------------
    def probe(self):
        """{target: what the agent's curl got}, all three targets."""
        script = AS_AGENT + "".join(f'echo "{name}: $(as curl -sS -m 4 {url} 2>&1 | head -c 160)"\n'
                                    for name, url in TARGETS.items())
        rc, out = self.g(script, timeout=120)
        check(rc == 0, f"the egress probes did not run: {out}")
        return {ln.split(":", 1)[0]: ln.split(":", 1)[1].strip() for ln in out.splitlines() if ": " in ln}

    def wait_web(self, reachable, timeout=60):
        """Probes the web service every ~0.5 s until it is (not) reachable; False on timeout."""
        want = "0" if reachable else "1"
        rc, out = self.g(AS_AGENT + f"""
            t=$SECONDS
            while (( SECONDS - t < {timeout} )); do
              as curl -s -m 2 -o /dev/null {TARGETS["web"]}; r=$?
              [[ $(( r != 0 )) == {want} ]] && {{ echo "after $(( SECONDS - t ))s"; exit 0; }}
              sleep 0.5
            done
            exit 1""", timeout=timeout + 60)
        return rc == 0

    def fleet_version_on_seat(self):
        out = self.g("seatlockctl status | grep -E '^fleet:'")[1]
        m = re.search(r"bundle (\d+),", out)
        return int(m.group(1)) if m else 0, out.strip()

    def wait_bundle(self, version, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            v, line = self.fleet_version_on_seat()
            if v >= version or time.monotonic() > deadline:
                break
            time.sleep(1)
        check(v == version, f"bundle {version} was not in force on the seat within {timeout}s: {line}")
        return line

    def acked(self, version, timeout=120):
        def is_ack(e):
            return e["seat"]["id"] == SEAT_ID and (e["details"].get("fleet") or {}).get("version") == version
        found = self.collector.wait_for("policy.applied", is_ack, timeout)
        check(found, f"policy.applied acknowledging bundle {version} did not reach the collector in {timeout}s")
        return found[0]

    def run(self):
        os.makedirs(self.dir, exist_ok=True)
        self.start_services()
        try:
            self.enroll()
            self.close_and_open()
            self.usb_grant()
            return "; ".join(self.notes)
        finally:
            try:
                if self.closed:  # a failure left the floor closed: open it for the scenarios after
                    self.cli("net", "open", "--group", GROUP, "--ticket", "VM-14-CLEANUP", "--by", ACTOR)
            except Fail as e:  # the scenario's own failure is the one to report
                print(f"  (scenario 14 cleanup: {e})", file=sys.stderr)
            self.stop_services()

    # ---- 0: IT publishes the tree the seat is enrolled in ----------------------------------------
    def enroll(self):
        self.write_tree()
        self.cli("fleet", "check", paths=("tree",))
        out = self.cli("fleet", "publish", paths=("tree", "key", "bundles"))
        m = re.search(r"published version (\d+)", out)
        check(m, f"fleet publish named no version: {out}")
        version = int(m.group(1))
        self.wait_bundle(version)
        self.acked(version)
        before = self.probe()
        check(all(before.get(n) == ANSWERS[n] for n in TARGETS),
              f"before any closure, CRM, web and intranet should all answer: {before}")
        self.notes.append(f"fleet publish v{version}: in force on the seat and acked; crm, web, intranet answer")

    # ---- 1: internet off for the floor, and on again ------------------------------------------
    def close_and_open(self):
        t0 = time.monotonic()
        v_close, out = self.action("net", "close", "--group", GROUP, "--ticket", CLOSE_TICKET)
        self.closed = True
        t_cmd = time.monotonic() - t0
        check(self.wait_web(reachable=False), f"the web service stayed reachable after `net close`: {out}")
        t_stop = time.monotonic() - t0
        closed = self.probe()
        check(closed.get("crm") == ANSWERS["crm"], f"the essential CRM is not reachable while closed: {closed}")
        check(closed.get("web") != ANSWERS["web"] and closed.get("intranet") != ANSWERS["intranet"],
              f"egress beyond the essential CRM while closed: {closed}")
        status = self.g("seatlockctl net status | grep -E '^(network|closed by):'")[1]
        check(CLOSE_TICKET in status and "CLOSED" in status, f"seatlockctl net status: {status.strip()}")
        # The management path: the seat's events still reach the collector while closed.
        ev = self.suite.wait_event("net.closed", CLOSE_TICKET, timeout=120)[0]
        check(ev["details"].get("reason") == "policy", f"net.closed reason: {ev['details']}")
        self.acked(v_close)
        row = self.fleet_status_row()
        check(row["internet"] == "closed" and (row["acknowledged"] or {}).get("version") == v_close,
              f"fleet status should show {SEAT_ID} closed and acknowledging {v_close}: {row}")
        audit = self.collector.wait_for("fleet.net_closed", lambda e: mentions(e, CLOSE_TICKET), 30)
        check(audit and SEAT_ID in audit[0]["details"].get("seats", []),
              f"fleet.net_closed naming {SEAT_ID} is not in the collector's chain: {audit}")
        self.notes.append(f"net close v{v_close}: command {t_cmd:.1f}s, web stopped within {t_stop:.1f}s of it;"
                          f" closed: crm={closed.get('crm')} web={closed.get('web')[:45]}"
                          f" intranet={closed.get('intranet')[:45]}; net.closed + policy.applied v{v_close} at"
                          f" the collector; fleet status internet={row['internet']} flags={row['flags']}")

        t0 = time.monotonic()
        v_open, out = self.action("net", "open", "--group", GROUP, "--ticket", OPEN_TICKET)
        self.closed = False
        check(self.wait_web(reachable=True), f"the web service did not come back after `net open`: {out}")
        t_back = time.monotonic() - t0
        reopened = self.probe()
        check(all(reopened.get(n) == ANSWERS[n] for n in TARGETS), f"after `net open`: {reopened}")
        self.suite.wait_event("net.opened", CLOSE_TICKET, timeout=120)
        self.acked(v_open)
        self.notes.append(f"net open v{v_open}: egress back within {t_back:.1f}s, net.opened at the collector")

    # ---- 2 and 3: a central read-only USB grant and its expiry ---------------------------------
    def ext4_stick(self, name):
        """A stick image holding an ext4 file system with one file (no journal to replay)."""
        content = os.path.join(self.dir, f"{name}-content")
        os.makedirs(content, exist_ok=True)
        with open(os.path.join(content, "hello.txt"), "w") as f:
            f.write(STICK_TEXT + "\n")
        path = os.path.join(self.suite.run_dir, f"{name}.img")
        sh("mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-d", content, path, "16M")
        return path

    def usb_grant(self):
        granted_img, other_img = self.ext4_stick("f14g"), self.suite.stick("f14o")
        v_grant, out = self.action("grant", "usb", "--seat", SEAT_ID, "--vid", QEMU_STORAGE_ID[0],
                                   "--pid", QEMU_STORAGE_ID[1], "--serial", GRANTED, "--read-only",
                                   "--until", GRANT_FOR, "--ticket", USB_TICKET)
        m = re.search(r"until (\S+):", out)
        check(m, f"grant usb named no end: {out}")
        until = rfc3339_to_epoch(m.group(1))
        self.wait_bundle(v_grant)
        left = until - time.time()  # the grant must still run while the stick is tried
        check(left > 30, f"the grant reached the seat only {left:.0f}s before it ends: too late to test")
        self.suite.vm.plug_stick("f14g", granted_img, GRANTED)
        rc, out = self.g(f"""
            dev=$(wait_usb {GRANTED} 40) || exit 1
            for i in $(seq 150); do b=$(block_of $dev); [[ -n "$b" ]] && break; sleep 0.2; done
            [[ -n "$b" ]] || {{ echo "no block device"; ifaces $dev; exit 1; }}
            for i in $(seq 75); do [[ $(val /sys/block/$b/ro) == 1 ]] && break; sleep 0.2; done
            echo "block=$b ro=$(val /sys/block/$b/ro) getro=$(blockdev --getro /dev/$b)"
            mkdir -p /mnt/f14
            mount -o ro /dev/$b /mnt/f14 2>&1 && echo "mount: ok $(findmnt -no OPTIONS /mnt/f14 | cut -d, -f1)"
            echo "read: $(cat /mnt/f14/hello.txt 2>&1)"
            echo "write: $(touch /mnt/f14/new.txt 2>&1 && echo WRITE-SUCCEEDED)"
            echo "remount-rw: $(mount -o remount,rw /mnt/f14 2>&1 && echo REMOUNT-SUCCEEDED)"
            umount /mnt/f14
            if dd if=/dev/zero of=/dev/$b bs=4k count=1 oflag=direct conv=notrunc 2>/tmp/f14-dd.err; then
              echo "raw-write: WRITE-SUCCEEDED"; else echo "raw-write: refused: $(head -1 /tmp/f14-dd.err)"; fi
            """, timeout=240)
        summary = " | ".join(ln.strip() for ln in out.strip().splitlines())
        check(rc == 0, f"the granted stick got no block device: {summary}")
        lines = {ln.split(":", 1)[0].strip(): ln.split(":", 1)[1].strip() for ln in out.splitlines() if ":" in ln}
        check("ro=1 getro=1" in out, f"the granted stick is not read-only: {summary}")
        check(lines.get("mount", "").startswith("ok ro"), f"the granted stick did not mount (read-only): {summary}")
        check(lines.get("read") == STICK_TEXT, f"the file on the granted stick did not read back: {summary}")
        check("Read-only file system" in lines.get("write", ""), f"a write did not fail with EROFS: {summary}")
        check("SUCCEEDED" not in out, f"a write to the granted stick succeeded: {summary}")
        # The other stick after the granted one is in: the kernel log from here on must not attach it.
        mark = self.suite.kmsg_mark()
        self.suite.vm.plug_stick("f14o", other_img, OTHER)
        self.suite.assert_storage_never_usable(OTHER, mark, settle=2)
        self.suite.wait_event("usb.exception_used", GRANTED)
        self.suite.wait_event("usb.blocked", OTHER)
        self.notes.append(f"grant usb v{v_grant} read-only until {m.group(1)} (in force {left:.0f}s before): {summary};"
                          f" {OTHER} no block device, usb.blocked")

        # Expiry: the seat's own timer, not the collector, removes the grant.
        wait = int(until - time.time()) + 60
        rc, out = self.g(f"""
            dev=$(usb_dev {GRANTED}) || exit 1
            end=$(( SECONDS + {wait} ))
            while [[ -n "$(block_of $dev)" ]]; do
              (( SECONDS > end )) && {{ echo "still: $(block_of $dev)"; exit 1; }}
              sleep 0.5
            done
            echo "gone_at=$(date +%s.%N)"; ifaces $dev""", timeout=wait + 60)
        check(rc == 0, f"the granted stick kept its block device {time.time() - until:.0f}s past"
                       f" the grant's end: {out.strip()}")
        gone = float(out.split("gone_at=")[1].split()[0])
        check(gone >= until - 2, f"the block device went away {until - gone:.0f}s before the grant ended")
        check("driver=usb-storage" not in out, f"usb-storage still bound after expiry: {out.strip()}")
        expired = self.suite.wait_event("usb.exception_expired", GRANTED, timeout=120)[0]
        check(expired.get("outcome") == "blocked" and expired["details"].get("devices"),
              f"usb.exception_expired does not name the plugged stick it blocked: {expired}")
        self.suite.vm.unplug("f14g")
        self.suite.vm.unplug("f14o")
        mark = self.suite.kmsg_mark()
        self.suite.vm.plug_stick("f14g2", granted_img, GRANTED)
        self.suite.assert_storage_never_usable(GRANTED, mark, settle=2)
        self.suite.vm.unplug("f14g2")
        self.notes.append(f"expiry: block device gone {gone - until:+.1f}s after `until` (guest clock),"
                          f" {' '.join(out.split()[1:])};"
                          f" usb.exception_expired ({expired['outcome']}, the stick named);"
                          " plugged again: no block device")


def s14_fleet_control(suite):
    return FleetScenario(suite).run()
