"""The end-to-end scenarios of issue 8, run against a booted seat VM.

Each scenario raises Fail with the reason, or returns a short note. Checks read the guest's
sysfs and kernel log (what a user would see) and the collector's database (what an auditor sees).
"""
import hashlib
import json
import os
import threading
import time

from hostside import CRM_PORT, GUEST_HOSTNAME, INTERNET_ADDR, SEAT_ID

APPROVED_SERIAL = "SLVM-APPROVED-1"  # the exception in site_policy()
QEMU_STORAGE_ID = ("46f4", "0001")   # QEMU's usb-storage vendor/product id
STICK_BYTES = 16 << 20


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


def site_policy():
    """The site file IT would deploy for this seat: the CRM, one approved stick, the collector."""
    return {
        "usb": {"exceptions": [{
            "vid": QEMU_STORAGE_ID[0], "pid": QEMU_STORAGE_ID[1], "serial": APPROVED_SERIAL,
            "until": "2030-01-01T00:00:00Z", "ticket": "VM-1", "read_only": True,
            "comment": "the one approved stick of the VM suite"}]},
        "network": {
            "allow": [{"to": "10.0.2.2/32", "ports": [CRM_PORT], "proto": "tcp", "comment": "CRM"}],
            "denied_log": {"window": "10s"}},
        "report": {
            "collector": "https://10.0.2.2:8443",
            "ca": "/etc/seatlock/tls/ca.pem", "cert": "/etc/seatlock/tls/seat.pem",
            "key": "/etc/seatlock/tls/seat.key", "heartbeat": "1m"},
    }


def seat_policy(fleet_keys=()):
    """The seat's own file (90-seat.json): its seat id, which differs from its hostname, and the
    fleet key(s) it pins at install (docs/fleet.md "Trust model"; scenario 14 publishes to it)."""
    report = {"seat_id": SEAT_ID}
    if fleet_keys:
        report["fleet_keys"] = list(fleet_keys)
    return {"report": report}


def mentions(event, text):
    return text in json.dumps(event.get("details", {}))


class Suite:
    def __init__(self, vm, collector, run_dir, guestlib):
        self.vm = vm
        self.collector = collector
        self.run_dir = run_dir
        self.lib = guestlib

    # ---- helpers ------------------------------------------------------------------------------
    def g(self, script, timeout=60):
        return self.vm.run(self.lib + "\n" + script, timeout)

    def stick(self, name):
        path = os.path.join(self.run_dir, f"{name}.img")
        with open(path, "wb") as f:
            f.write(b"SEATLOCK-VM-STICK " + name.encode() + b"\n")
            f.truncate(STICK_BYTES)
        return path

    def kmsg_mark(self):
        return int(self.g("dmesg | wc -l")[1].strip())

    def assert_storage_never_usable(self, serial, mark, settle=6):
        """The stick enumerates but no block device appears and usb-storage never binds."""
        rc, out = self.g(f"dev=$(wait_usb {serial} 40) || exit 1; sleep {settle}; echo dev=$dev;"
                         f" echo blocks=$(block_of $dev); ifaces $dev;"
                         f" kmsg_since {mark} | grep -E 'Attached SCSI|Mass Storage device detected' || true",
                         timeout=240)
        check(rc == 0, f"stick {serial} never enumerated in the guest: {out.strip()}")
        check("blocks=\n" in out or out.split("blocks=")[1].split("\n")[0].strip() == "",
              f"a block device appeared for {serial}: {out.strip()}")
        check("driver=usb-storage" not in out and "driver=uas" not in out,
              f"usb-storage bound to {serial}: {out.strip()}")
        check("Attached SCSI" not in out and "Mass Storage device detected" not in out,
              f"the kernel attached {serial} at some point: {out.strip()}")
        return out

    def wait_event(self, kind, text, timeout=120, count=1):
        found = self.collector.wait_for(kind, lambda e: mentions(e, text), timeout, count)
        check(len(found) >= count, f"{kind} mentioning {text} did not reach the collector within {timeout}s"
              f" (has {len(found)}, kinds seen: {sorted({e['kind'] for e in self.collector.events()})})")
        return found

    # ---- scenarios ----------------------------------------------------------------------------
    def s11_identity_from_policy_file(self):
        """IT's configuration: seat id only in 90-seat.json, a hostname that differs, the packaged
        unit (no --seat-id). Every event of this boot, agent.started first, reaches the auditor
        under the seat id; the seat is listed and not silent; nothing is stuck or set aside."""
        rc, out = self.g("hostname; systemctl show -p ExecStart --value seatlockd.service;"
                         " seatlockctl status | grep -E '^ *seat:'")
        check(rc == 0 and GUEST_HOSTNAME in out and SEAT_ID in out,
              f"the guest should be {GUEST_HOSTNAME} with seat id {SEAT_ID}: {out.strip()}")
        check("--seat-id" not in out, f"the packaged unit must not pass --seat-id: {out.strip()}")
        boot_id = self.g("cat /proc/sys/kernel/random/boot_id")[1].strip()
        started = self.collector.wait_for("agent.started", lambda e: True, 120)
        check(started, "agent.started never reached the collector (the seat delivers nothing)")
        check(all(e["seat"]["id"] == SEAT_ID for e in started),
              f"agent.started stored under {[e['seat']['id'] for e in started]}, not {SEAT_ID}")
        everything = self.collector.events()
        hosts = {e["seat"]["id"] for e in everything}
        check(hosts == {SEAT_ID}, f"events stored under other seat ids: {sorted(hosts)}")
        first = min(everything, key=lambda e: e["seq"])
        check(first["kind"] == "agent.started" and first["seat"]["hostname"] == GUEST_HOSTNAME,
              f"the seat's first event at the collector is {first['kind']} from {first['seat']}")
        rc, spool = self.g("seatlockctl events --json | grep -o '\"status\":\"[a-z_-]*\"' | sort | uniq -c")
        check(rc == 0 and "delivered" in spool, f"seatlockctl events shows no delivered rows: {spool.strip()}")
        check("quarantined" not in spool and "set" not in spool, f"rows stuck on the seat: {spool.strip()}")
        seats = self.collector.seats()
        row = [s for s in seats if s.get("seat") == SEAT_ID]
        check(row and not row[0]["silent"] and row[0]["last_seq"] >= first["seq"],
              f"seatlock-collector seats does not list {SEAT_ID} as reporting: {seats}")
        return (f"hostname {GUEST_HOSTNAME}, seat id {SEAT_ID} from 90-seat.json (boot {boot_id[:8]}):"
                f" {len(everything)} events at the collector, first {first['kind']} seq {first['seq']}")

    def s1_storage_blocked(self):
        serial = "SLVM-S1-BLOCKED"
        mark = self.kmsg_mark()
        self.vm.plug_stick("s1", self.stick("s1"), serial)
        self.assert_storage_never_usable(serial, mark)
        ev = self.wait_event("usb.blocked", serial)
        self.vm.unplug("s1")
        return f"no block device; usb.blocked id {ev[0]['id']}"

    def s2_hid_audio_work(self):
        self.vm.plug("kbd1", "usb-kbd", serial="SLVM-KBD", display="video0")
        self.vm.plug("aud1", "usb-audio", serial="SLVM-AUDIO")
        rc, out = self.g("""
            for s in SLVM-KBD SLVM-AUDIO; do wait_usb $s 40 >/dev/null || exit 1; done
            for i in $(seq 150); do
              k=$(ifaces $(usb_dev SLVM-KBD)); a=$(ifaces $(usb_dev SLVM-AUDIO))
              [[ "$k" == *driver=usbhid* && "$a" == *driver=snd-usb-audio* && "$a" != *driver=-* ]] && break
              sleep 0.2
            done
            echo "$k"; echo "$a"
            ev=$(ls -d /sys/bus/usb/devices/$(usb_dev SLVM-KBD):1.0/*/input/input*/event* 2>/dev/null | head -1)
            echo "evdev=${ev##*/}"; ls /dev/snd/ | tr '\n' ' '; echo""", timeout=240)
        check(rc == 0, f"keyboard/audio did not enumerate: {out.strip()}")
        check("driver=usbhid" in out, f"usb-kbd not bound to usbhid:\n{out.strip()}")
        check("driver=snd-usb-audio" in out, f"usb-audio not bound to snd-usb-audio:\n{out.strip()}")
        check("evdev=event" in out and "pcmC" in out, f"no input device or no PCM device:\n{out.strip()}")
        # Type on the USB keyboard over QMP while the guest reads its evdev node: one key press
        # is three 24-byte input events (scan code, key, sync). The reader runs while the keys
        # are sent (a reader left behind in the background does not survive the agent's script).
        evdev = out.split("evdev=")[1].split()[0]
        result = {}
        reader = threading.Thread(target=lambda: result.update(
            r=self.g(f"timeout 20 head -c 48 /dev/input/{evdev} | wc -c", timeout=40)))
        reader.start()
        key = lambda down: {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": "a"}}}  # noqa
        time.sleep(3)
        for _ in range(5):
            if not reader.is_alive():
                break
            self.vm.qmp.execute("input-send-event", device="video0", events=[key(True), key(False)])
            time.sleep(1)
        reader.join()
        got = result.get("r", (1, ""))[1].strip()
        check(got == "48", f"key presses sent to the USB keyboard did not reach its evdev node ({got} bytes)")
        self.vm.unplug("kbd1")
        self.vm.unplug("aud1")
        return "usbhid + snd-usb-audio bound; a key typed on the USB keyboard read from its evdev; PCM present"

    def s3_approved_read_only(self):
        path = self.stick("s3")
        before = hashlib.sha256(open(path, "rb").read()).hexdigest()
        self.vm.plug_stick("s3", path, APPROVED_SERIAL)
        rc, out = self.g(f"""
            dev=$(wait_usb {APPROVED_SERIAL} 40) || exit 1
            for i in $(seq 150); do b=$(block_of $dev); [[ -n "$b" ]] && break; sleep 0.2; done
            [[ -n "$b" ]] || {{ echo "no block device"; ifaces $dev; exit 1; }}
            sleep 2
            echo "block=$b ro=$(cat /sys/block/$b/ro) getro=$(blockdev --getro /dev/$b)"
            head -c 18 /dev/$b; echo
            if dd if=/dev/zero of=/dev/$b bs=4k count=1 oflag=direct conv=notrunc 2>/tmp/dd.err; then
              echo WRITE-SUCCEEDED; else echo "write refused: $(tail -1 /tmp/dd.err)"; fi""", timeout=240)
        check(rc == 0, f"the approved stick got no block device: {out.strip()}")
        check("ro=1 getro=1" in out, f"the approved stick is not read-only: {out.strip()}")
        check("SEATLOCK-VM-STICK" in out, f"the approved stick cannot be read: {out.strip()}")
        check("WRITE-SUCCEEDED" not in out, f"a write to the approved stick succeeded: {out.strip()}")
        self.wait_event("usb.exception_used", APPROVED_SERIAL)
        self.vm.unplug("s3")
        after = hashlib.sha256(open(path, "rb").read()).hexdigest()
        check(before == after, "the stick's contents changed on the host side")
        return out.strip().splitlines()[0] + "; " + out.strip().splitlines()[-1]

    def s4_usb_net_blocked(self):
        self.vm.qmp.execute("netdev_add", type="user", id="usbnet0", restrict=True)
        before = self.g("ls /sys/class/net | tr '\\n' ' '")[1].strip()
        self.vm.plug("net1", "usb-net", netdev="usbnet0", serial="SLVM-USBNET")
        rc, out = self.g("dev=$(wait_usb SLVM-USBNET 40) || exit 1; sleep 6; echo dev=$dev;"
                         " echo netifs=$(netifs_of $dev); ls /sys/class/net | tr '\\n' ' '; echo; ifaces $dev",
                         timeout=240)
        check(rc == 0, f"usb-net never enumerated: {out.strip()}")
        check("netifs=\n" in out, f"a network interface appeared for the USB adapter: {out.strip()}")
        check(" driver=rndis" not in out and "driver=cdc" not in out, f"a USB network driver bound: {out}")
        self.wait_event("usb.blocked", "SLVM-USBNET")
        self.vm.unplug("net1")
        self.vm.qmp.execute("netdev_del", id="usbnet0")
        return f"interfaces before: {before}; after: {out.splitlines()[2].strip()}"

    def s5_egress(self):
        rc, out = self.g(f"""
            id agent1 >/dev/null 2>&1 || useradd -m agent1
            as() {{ setpriv --reuid=agent1 --regid=agent1 --init-groups "$@"; }}
            echo "crm: $(as curl -sS -m 10 http://10.0.2.2:{CRM_PORT}/ 2>&1)"
            echo "internet: $(as curl -sS -m 10 http://{INTERNET_ADDR}/ 2>&1)"
            echo "internet-as-root: $(curl -sS -m 10 http://{INTERNET_ADDR}/ 2>&1)"
            """, timeout=240)
        check(rc == 0, f"egress probe failed to run: {out}")
        check("crm: CRM-OK" in out, f"the CRM is not reachable: {out.strip()}")
        check("INTERNET-REACHED" not in out, f"the internet-like destination is reachable: {out.strip()}")
        self.wait_event("net.egress_denied", INTERNET_ADDR, timeout=150)
        return " | ".join(line.strip() for line in out.strip().splitlines())

    def s6_kill_daemon(self):
        serial = "SLVM-S6-AFTERKILL"
        restarts0 = self.g("systemctl show -p NRestarts --value seatlockd")[1].strip()
        # The USB enforcer is its own unit (seatlock-usbd.service): seatlockd's death and restart
        # must leave it running, the same process throughout.
        usbd0 = self.g("systemctl show -p MainPID --value seatlock-usbd")[1].strip()
        check(usbd0 not in ("", "0"), f"seatlock-usbd is not running: MainPID {usbd0!r}")
        mark = self.kmsg_mark()
        rc, out = self.g("systemctl kill -s KILL seatlockd && echo killed")
        check(rc == 0, f"could not kill seatlockd: {out}")
        self.vm.plug_stick("s6", self.stick("s6"), serial)
        self.assert_storage_never_usable(serial, mark, settle=8)
        rc, out = self.g(f"for i in $(seq 60); do [[ $(systemctl show -p NRestarts --value seatlockd) -gt {restarts0}"
                         " && $(systemctl is-active seatlockd) == active ]] && exit 0; sleep 1; done;"
                         " systemctl status seatlockd --no-pager; exit 1", timeout=240)
        check(rc == 0, f"seatlockd was not restarted automatically: {out.strip()[-600:]}")
        ev = self.wait_event("usb.blocked", serial)
        self.vm.unplug("s6")
        usbd1 = self.g("systemctl show -p MainPID --value seatlock-usbd")[1].strip()
        check(usbd1 == usbd0, f"seatlock-usbd did not outlive seatlockd's restart: pid {usbd0} -> {usbd1}")
        return f"no block device while down; restarted; usbd pid {usbd0} kept; usb.blocked id {ev[0]['id']}"

    def s9_udev_layer_alone(self):
        """seatlockd stopped by IT: the udev layer alone decides (under usbcore.authorized_default=0
        it must also admit the held-back devices): the keyboard binds, the stick does not."""
        serial = "SLVM-S9-NODAEMON"
        mark = self.kmsg_mark()
        rc, out = self.g("systemctl stop seatlockd && systemctl is-active seatlockd; true")
        check("inactive" in out, f"seatlockd did not stop: {out.strip()}")
        try:
            self.vm.plug("kbd9", "usb-kbd", serial="SLVM-KBD9")
            self.vm.plug_stick("s9", self.stick("s9"), serial)
            rc, out = self.g("""
                dev=$(wait_usb SLVM-KBD9 40) || exit 1
                for i in $(seq 100); do [[ "$(ifaces $dev)" == *driver=usbhid* ]] && break; sleep 0.2; done
                echo "kbd: authorized=$(cat /sys/bus/usb/devices/$dev/authorized) $(ifaces $dev)"
                echo "daemon: $(systemctl is-active seatlockd)" """, timeout=120)
            check(rc == 0 and "driver=usbhid" in out, f"the keyboard did not bind without seatlockd: {out.strip()}")
            check("daemon: inactive" in out, f"seatlockd was running after all: {out.strip()}")
            stick = self.assert_storage_never_usable(serial, mark, settle=4)
        finally:
            self.g("systemctl start seatlockd", timeout=120)
        self.wait_event("usb.blocked", serial)
        self.vm.unplug("kbd9")
        self.vm.unplug("s9")
        return f"{out.strip().splitlines()[0]}; stick: {stick.strip().splitlines()[0]}; usb.blocked once seatlockd was back"

    def s10_upgrade_no_window(self):
        """IT reinstalls/upgrades the package with apt on a live seat: seatlockd restarts, and at no
        moment of the upgrade is a stick usable or the internet-like destination reachable."""
        serial = "SLVM-S10-UPGRADE"
        pid0 = self.g("systemctl show -p MainPID --value seatlockd")[1].strip()
        mark = self.kmsg_mark()
        result = {}
        upgrade = threading.Thread(target=lambda: result.update(r=self.g(f"""
            mkdir -p /mnt/share && (mountpoint -q /mnt/share || mount -t 9p -o trans=virtio,version=9p2000.L,ro share /mnt/share) || exit 3
            deb=$(ls /mnt/share/seatlock_*.deb | head -1); [[ -n "$deb" ]] || exit 4
            ( while :; do
                curl -s -m 0.5 -o /dev/null http://{INTERNET_ADDR}/ && echo "EGRESS-OPEN at $(date +%T.%N)"
                sleep 0.2
              done ) > /tmp/egress-probe.log 2>&1 &
            probe=$!
            cp "$deb" /tmp/ && DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall "/tmp/${{deb##*/}}" > /tmp/upgrade.log 2>&1
            rc=$?
            sleep 3; kill $probe; wait $probe 2>/dev/null
            echo "apt rc=$rc"; grep -E '^(Preparing|Unpacking|Setting up)' /tmp/upgrade.log
            echo "probes: $(grep -c EGRESS-OPEN /tmp/egress-probe.log) reachable"; head -3 /tmp/egress-probe.log
            for i in $(seq 60); do systemctl is-active -q seatlockd && break; sleep 1; done
            echo "seatlockd: $(systemctl is-active seatlockd) pid $(systemctl show -p MainPID --value seatlockd)"
            """, timeout=420)))
        upgrade.start()
        time.sleep(4)  # apt is unpacking or restarting the service by now: plug the stick into that
        self.vm.plug_stick("s10", self.stick("s10"), serial)
        upgrade.join()
        rc, out = result.get("r", (1, "no result"))
        check(rc == 0 and "apt rc=0" in out, f"the upgrade did not run: {out.strip()[-800:]}")
        check("probes: 0 reachable" in out, f"egress was open during the upgrade: {out.strip()}")
        pid1 = out.split("seatlockd: active pid ")[-1].split()[0] if "seatlockd: active pid " in out else ""
        check(pid1 and pid1 != pid0, f"seatlockd was not restarted by the upgrade ({pid0} -> {pid1}): {out}")
        self.assert_storage_never_usable(serial, mark, settle=2)
        self.wait_event("usb.blocked", serial)
        self.vm.unplug("s10")
        return f"apt --reinstall ok, seatlockd pid {pid0} -> {pid1}, egress probes during upgrade: 0 reachable, stick never usable"

    def s7_collector_outage(self):
        serials = [f"SLVM-S7-{i}" for i in (1, 2, 3)]
        self.collector.stop()
        for i, serial in enumerate(serials):
            mark = self.kmsg_mark()
            self.vm.plug_stick(f"s7{i}", self.stick(f"s7{i}"), serial)
            self.assert_storage_never_usable(serial, mark, settle=2)
            self.vm.unplug(f"s7{i}")
        time.sleep(10)  # the seat tries (and fails) to deliver meanwhile
        self.collector.start()
        deadline = time.monotonic() + 360
        counts = {}
        while time.monotonic() < deadline:
            events = self.collector.events("usb.blocked")
            counts = {s: sum(1 for e in events if mentions(e, s)) for s in serials}
            if all(counts.values()):
                break
            time.sleep(3)
        check(all(counts.values()), f"not all violations arrived after the outage: {counts}")
        time.sleep(5)  # let any duplicate show up
        events = self.collector.events()
        counts = {s: sum(1 for e in events if e["kind"] == "usb.blocked" and mentions(e, s)) for s in serials}
        check(all(c == 1 for c in counts.values()), f"violations not stored exactly once: {counts}")
        ids = [e["id"] for e in events]
        check(len(ids) == len(set(ids)), "duplicate event ids at the collector")
        return f"per-serial counts {counts}"

    def s8_reboot_with_stick(self):
        serial = "SLVM-S8-BOOT"
        self.vm.plug_stick("s8", self.stick("s8"), serial)
        self.assert_storage_never_usable(serial, self.kmsg_mark(), settle=2)
        boot0 = self.g("cat /proc/sys/kernel/random/boot_id")[1].strip()
        self.vm.reboot()
        t0 = time.monotonic()
        while True:
            self.vm.wait_booted(timeout=600)
            boot1 = self.g("cat /proc/sys/kernel/random/boot_id")[1].strip()
            if boot1 != boot0:
                break
            check(time.monotonic() - t0 < 600, "the guest did not reboot")
            time.sleep(2)
        out = self.assert_storage_never_usable(serial, 0, settle=1)
        # The guest agent answers early in boot: the unit timestamps are read once boot is over.
        self.g("systemctl is-system-running --wait", timeout=300)
        rc, order = self.g("""
            for u in seatlock-netlock systemd-networkd seatlock-usbd seatlockd systemd-user-sessions; do
              echo "$u start=$(systemctl show -p ExecMainStartTimestampMonotonic --value $u.service)" \
                   "active=$(systemctl show -p ActiveEnterTimestampMonotonic --value $u.service)" \
                   "result=$(systemctl show -p Result --value $u.service)"
            done
            nft list tables""")
        vals = {}
        for line in order.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[1].startswith("start="):
                vals[parts[0]] = (int(parts[1][6:] or 0), int(parts[2][7:] or 0), parts[3][7:])
        check(set(vals) == {"seatlock-netlock", "systemd-networkd", "seatlock-usbd", "seatlockd",
                            "systemd-user-sessions"}, f"unit states: {order}")
        net_active = vals["seatlock-netlock"][1]
        check(vals["seatlock-netlock"][2] == "success" and net_active > 0,
              f"the fail-closed table unit did not succeed: {order.strip()}")
        check(net_active <= vals["seatlockd"][0], f"seatlockd started before the firewall was closed: {order}")
        check(net_active <= vals["systemd-networkd"][0], f"the network came up before the firewall: {order}")
        # Nobody can log in before the USB lockdown (usbd's READY=1), the table and seatlockd's
        # READY=1 are in force: the units' order as packaged (docs/boot.md).
        login = vals["systemd-user-sessions"][0]
        usb_active, agent_active = vals["seatlock-usbd"][1], vals["seatlockd"][1]
        check(0 < usb_active <= login and net_active <= login and 0 < agent_active <= login,
              f"log-in was possible before the lockdown was in force: {order}")
        after_boot = len(self.collector.wait_for("usb.blocked", lambda e: mentions(e, serial), 60, count=2)) - 1
        return (f"usb.blocked after boot: {max(after_boot, 0)}; "
                f"fallback table active at {net_active / 1e6:.2f}s, networkd {vals['systemd-networkd'][0] / 1e6:.2f}s,"
                f" usbd ready {usb_active / 1e6:.2f}s, log-in from {login / 1e6:.2f}s,"
                f" seatlockd {vals['seatlockd'][0] / 1e6:.2f}s; {out.split(chr(10))[0]}")


SCENARIOS = [
    # First, while the first boot's events are the only ones: they must all be under the seat id.
    (11, "seat id from 90-seat.json, hostname differs: the auditor sees the seat", Suite.s11_identity_from_policy_file),
    (1, "usb-storage stick blocked and reported", Suite.s1_storage_blocked),
    (2, "usb-kbd and usb-audio bound and working", Suite.s2_hid_audio_work),
    (3, "approved stick read-only, exception reported", Suite.s3_approved_read_only),
    (4, "usb-net gets no interface, reported", Suite.s4_usb_net_blocked),
    (5, "CRM reachable, internet denied and reported", Suite.s5_egress),
    (6, "seatlockd SIGKILLed: stick still blocked, event after restart", Suite.s6_kill_daemon),
    (7, "collector outage: three violations arrive once", Suite.s7_collector_outage),
    (8, "reboot with a stick plugged: never usable, firewall first", Suite.s8_reboot_with_stick),
    (9, "seatlockd stopped: udev alone binds the keyboard, not the stick", Suite.s9_udev_layer_alone),
    (10, "apt upgrade on a live seat: restarted, no USB or egress window", Suite.s10_upgrade_no_window),
    (13, "domain allowlist: an allowed name resolves and connects, another neither",
     lambda suite: s13_dns_allowlist(suite)),
    (14, "fleet: the center closes the seat's group and opens it; a read-only USB grant, then its expiry",
     lambda suite: s14_fleet_control(suite)),
    # Its own seat VM (UEFI + Secure Boot + swtpm); the main VM is paused meanwhile.
    (12, "TPM attestation through UEFI: verified, Secure Boot off is drift, a lying seat fails",
     lambda suite: s12_tpm_attestation(suite)),
]


def s12_tpm_attestation(suite):
    from scenario_attest import s12_tpm_attestation as run  # imports this module: loaded late
    return run(suite)


def s13_dns_allowlist(suite):
    from scenario_dns import s13_dns_allowlist as run  # imports this module: loaded late
    return run(suite)


def s14_fleet_control(suite):
    from scenario_fleet import s14_fleet_control as run  # imports this module: loaded late
    return run(suite)
