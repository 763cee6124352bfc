#!/usr/bin/env python3
"""Boot-time bench (issue 18): how much later can staff log in on a seat with seatlock?

Boots seat VMs under QEMU/TCG (tests/vm's image and vmlib) alternately: plain Debian and one or
more images with seatlock, N rounds, and reports per image the medians of
  shell   guest uptime when root's autologin shell on ttyS0 starts (the issue's figure)
  host    host wall time from QEMU start to that shell (includes firmware and kernel loading)
  cpu     CPU time QEMU used until then: the emulated work, much less sensitive than the wall
          times to other load on the host (TCG guests run slower, not longer, when the host is busy)
  usess   systemd-user-sessions.service active (guest monotonic)
  netlock / seatlockd  how long each unit was activating
and the difference to plain Debian, plus `systemd-analyze critical-chain
systemd-user-sessions.service` and the nf modules loaded, from the last round. Where the CPU
went: the guest's user/system/irq/idle split until the shell (its /proc/stat, printed by the
autologin profile) and every unit's CPU to the end of the boot (cgroup accounting); the units
that differ from plain Debian by 0.1 s or more are listed.

Each image first gets one unmeasured boot on its own disk overlay, which installs the autologin
(and a patch tree, if any) and lets seatlockd write its state (netlock.nft), as on a seat that
has booted before; the measured boots reuse that overlay (steady state, not first boot).
Started by bench/boot/run.sh.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VM = os.path.join(HERE, "..", "..", "tests", "vm")
sys.path.insert(0, VM)

from driver import write_site_dir  # noqa: E402
from hostside import Netns, ensure_pki  # noqa: E402
from vmlib import Vm, VmError  # noqa: E402

MARK = "SL-BOOT-SHELL"
AUTOLOGIN = r"""
set -e
d=/etc/systemd/system/serial-getty@ttyS0.service.d
mkdir -p $d
cat > $d/autologin.conf <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 - $TERM
EOF
cat > /root/.bash_profile <<'EOF'
echo "SL-BOOT-SHELL $(cut -d' ' -f1 /proc/uptime) $(head -1 /proc/stat)"
EOF
"""
UNIT_TIMES = """
for u in systemd-user-sessions.service seatlock-netlock.service seatlockd.service \
         systemd-modules-load.service network-pre.target; do
  printf '%s ' $u; systemctl show -P InactiveExitTimestampMonotonic $u | tr '\\n' ' '
  systemctl show -P ActiveEnterTimestampMonotonic $u
done
"""
UNITS_CPU = r"""
systemctl show -p Id -p CPUUsageNSec -- $(systemctl list-units --all --plain --no-legend \
  --type=service,scope,socket,mount,slice | awk '{print $1}')
"""


def say(msg):
    print(msg, flush=True)


def sh(argv):
    return subprocess.run(argv, check=True, text=True, capture_output=True).stdout.strip()


def build_image(spec, workdir, bench_dir, images):
    """label=deb:DIR | label=image:DIR | label=patch:BASE:TREE -> (label, image dir)."""
    label, _, rest = spec.partition("=")
    kind, _, arg = rest.partition(":")
    if kind == "image":
        return label, os.path.abspath(arg)
    if kind == "deb":
        site = write_site_dir(bench_dir, ensure_pki(os.path.join(workdir, "pki")))
        out = sh([os.path.join(VM, "build_image.sh"), "--workdir", workdir, "--deb", arg,
                  "--policy-dir", site])
        return label, out
    if kind == "patch":  # copied in by the preparing boot, over a read-only 9p share
        base, _, tree = arg.partition(":")
        return label, (images[base], os.path.abspath(tree))
    raise SystemExit(f"boot_bench: bad image spec {spec!r}")


def power_off(vm, timeout=180):
    try:
        vm.agent._send("systemctl poweroff", 5)
        vm.proc.wait(timeout)
    except Exception:
        pass
    vm.stop()


def cpu_seconds(pid):
    """utime + stime of a process (QEMU: all vCPU threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def guest_cpu_split(stat):
    """The guest's /proc/stat cpu line (all vCPUs) in seconds: where its time went until then."""
    if len(stat) < 8 or stat[0] != "cpu":
        return None
    user, nice, system, idle, iowait, irq, softirq = (int(v) / 100 for v in stat[1:8])
    return {"user": user + nice, "system": system, "irq": irq + softirq, "idle": idle,
            "iowait": iowait}


class Panicked(VmError):
    pass


def wait_marker(path, deadline):
    """(guest uptime, guest CPU split) when the autologin shell started."""
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                text = f.read().decode(errors="replace")
            for line in text.splitlines():
                if line.startswith(MARK + " "):
                    return float(line.split()[1]), guest_cpu_split(line.split()[2:])
            if "Kernel panic" in text:
                raise Panicked(text[text.index("Kernel panic"):][:200])
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise VmError("no autologin shell within the time limit")


def prep_boot(vm, label, patched):
    for attempt in range(3):
        vm.start()
        try:
            vm.wait_booted(timeout=600)
            break
        except VmError:
            with open(vm._path("console.log"), "rb") as f:
                if b"Kernel panic" not in f.read() or attempt == 2:
                    raise
            say(f"[{label}] kernel panic in the preparing boot, booting again")
            vm.stop()
    vm.ok(AUTOLOGIN)
    if patched:
        # tar, not cp -a: the image has a merged /usr, and a tree's lib/ must go through the /lib
        # symlink instead of failing on it.
        vm.ok("mkdir -p /mnt/share && mount -t 9p -o trans=virtio,version=9p2000.L,ro share /mnt/share"
              " && tar -C /mnt/share --owner=0 --group=0 -cf - . | tar -C / --keep-directory-symlink -xf -"
              " && umount /mnt/share && systemctl daemon-reload")
    vm.run("systemctl is-system-running --wait", timeout=300)
    if vm.run("test -e /usr/sbin/seatlockd")[0] == 0:
        vm.ok("for i in $(seq 120); do test -s /var/lib/seatlock/netlock.nft && exit 0; sleep 1; done;"
              " echo no netlock.nft; exit 1", timeout=150)
    say(f"[{label}] prepared: " + vm.ok("systemd-analyze time | head -1").strip())
    power_off(vm)


def measured_boot(vm, label, attempts=3):
    """One boot; a kernel that panics before init (TCG on a starved host can fail the IO-APIC
    timer check) is booted again, and the retry is said."""
    for attempt in range(attempts):
        try:
            return boot_once(vm)
        except Panicked as e:
            say(f"[{label}] kernel panic, booting again: {e}")
            vm.stop()
    raise VmError(f"{label}: the kernel panicked {attempts} times")


def boot_once(vm):
    t0 = time.monotonic()
    vm.start(keep_disk=True)
    shell, split = wait_marker(vm._path("console.log"), t0 + 600)
    host = time.monotonic() - t0
    cpu = cpu_seconds(vm.proc.pid)
    vm.wait_booted(timeout=600)
    vm.run("systemctl is-system-running --wait", timeout=300)
    times = {}
    for line in vm.ok(UNIT_TIMES).splitlines():
        parts = line.split()
        if len(parts) == 3:
            start, active = int(parts[1] or 0), int(parts[2] or 0)
            times[parts[0]] = (start / 1e6, active / 1e6)
    r = {"shell": shell, "host": host, "cpu": cpu, "usess": times["systemd-user-sessions.service"][1],
         "guest": split}
    for unit, key in (("seatlock-netlock.service", "netlock"), ("seatlockd.service", "seatlockd"),
                      ("systemd-modules-load.service", "modload")):
        s, a = times.get(unit, (0, 0))
        r[key] = a - s if s and a else None
    # Every unit's CPU (cgroup accounting, to the end of boot): where an image's excess goes,
    # and the load-independent part of each seatlock unit's cost.
    r["units_cpu"] = {}
    for block in vm.ok(UNITS_CPU, timeout=120).split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        ns = props.get("CPUUsageNSec", "")
        if "Id" in props and ns.isdigit() and int(ns) > 0:
            r["units_cpu"][props["Id"]] = int(ns) / 1e9
    for unit, key in (("seatlock-netlock.service", "netlock_cpu"), ("seatlockd.service", "seatlockd_cpu")):
        r[key] = r["units_cpu"].get(unit)
    r["chain"] = vm.ok("systemd-analyze critical-chain systemd-user-sessions.service 2>&1 | tail -n +3")
    r["mods"] = vm.ok("lsmod | awk 'NR>1 && /^(nf|nft|x_|ip6?t|xt)/ {print $1}' | sort | tr '\\n' ' '")
    r["journal"] = vm.ok("journalctl -b -o short-monotonic --no-pager -u seatlock-netlock -u seatlockd"
                         " | head -20")
    power_off(vm)
    return r


def run_rounds(vms, order, runs, results):
    for n in range(runs):
        for label in (order if n % 2 == 0 else order[::-1]):  # alternate, and swap the order
            r = measured_boot(vms[label], label)
            results[label].append(r)
            say(f"[{label}] round {n + 1}: shell {r['shell']:.2f} s (host {r['host']:.2f} s), "
                f"QEMU CPU {r['cpu']:.2f} s, user-sessions {r['usess']:.2f} s, netlock {fmt(r['netlock'])} s, "
                f"seatlockd {fmt(r['seatlockd'])} s, unit CPU netlock {fmt(r['netlock_cpu'])} s / "
                f"seatlockd {fmt(r['seatlockd_cpu'])} s, modules-load {fmt(r['modload'])} s; "
                f"load {os.getloadavg()[0]:.1f}")


def report_cpu_split(results):
    """Where each image's guest CPU went, against plain Debian: the guest's own split until the
    shell, and the units whose CPU (to the end of boot) differs by 0.1 s or more."""
    def split_med(rs, key):
        return med([r["guest"][key] for r in rs if r.get("guest")])

    def unit_med(rs, unit):
        return med([r.get("units_cpu", {}).get(unit, 0.0) for r in rs])

    plain = results["plain"]
    say("\nguest CPU until the shell (medians, s; both vCPUs):")
    say("| image | user | system | irq | busy | vs plain | idle |")
    say("|---|---|---|---|---|---|---|")
    busy0 = None
    for label, rs in results.items():
        parts = {k: split_med(rs, k) for k in ("user", "system", "irq", "idle")}
        if None in parts.values():
            continue
        busy = parts["user"] + parts["system"] + parts["irq"]
        busy0 = busy if label == "plain" else busy0
        say(f"| {label} | {parts['user']:.2f} | {parts['system']:.2f} | {parts['irq']:.2f} |"
            f" {busy:.2f} | {'' if busy0 is None or label == 'plain' else f'{busy - busy0:+.2f}'} |"
            f" {parts['idle']:.2f} |")
    units = sorted({u for rs in results.values() for r in rs for u in r.get("units_cpu", {})})
    for label, rs in results.items():
        if label == "plain":
            continue
        diffs = [(unit_med(rs, u) - unit_med(plain, u), u) for u in units]
        diffs = sorted((d for d in diffs if abs(d[0]) >= 0.1), reverse=True)
        # A slice's CPU is the total of its units (also those that have exited): listed apart,
        # so that nothing is counted twice.
        for what, picked in (("unit", [d for d in diffs if not d[1].endswith(".slice")]),
                             ("slice (totals)", [d for d in diffs if d[1].endswith(".slice")])):
            say(f"[{label}] {what} CPU to the end of boot vs plain (medians): " +
                (", ".join(f"{u} {d:+.2f} s" for d, u in picked) or "none differs by 0.1 s"))


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v):
    return "-" if v is None else f"{v:.2f}"


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stops QEMU, drops the netns
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="/var/tmp/seatlock-vm")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", help="write every boot's figures here")
    ap.add_argument("images", nargs="+", help="label=deb:DIR | label=image:DIR | label=patch:BASE:TREE")
    args = ap.parse_args()
    workdir = os.path.abspath(args.workdir)
    bench_dir = os.path.join(workdir, "bench-boot")
    os.makedirs(bench_dir, exist_ok=True)
    images = {"plain": sh([os.path.join(VM, "build_image.sh"), "--workdir", workdir])}
    for spec in args.images:
        label, path = build_image(spec, workdir, bench_dir, images)
        images[label] = path
    for label, path in images.items():
        say(f"image {label}: {path}")
    run_dir = os.path.join(bench_dir, f"run-{time.strftime('%Y%m%dT%H%M%S')}")
    results = {label: [] for label in images}
    load_before = os.getloadavg()
    with Netns() as ns:
        vms = {}
        for label, path in images.items():
            image, tree = path if isinstance(path, tuple) else (path, None)
            # no_timer_check: a loaded host makes TCG fail the kernel's IO-APIC timer check
            # (panic at 0.05 s); the same for every image.
            extra = "no_timer_check" + ("" if label == "plain" else " usbcore.authorized_default=0")
            vms[label] = Vm(image, os.path.join(run_dir, label), netns=ns.name, share_dir=tree,
                            cmdline_extra=extra)
        try:
            for label, vm in vms.items():
                prep_boot(vm, label, isinstance(images[label], tuple))
            run_rounds(vms, list(images), args.runs, results)
        finally:
            for vm in vms.values():
                vm.stop()
    load_after = os.getloadavg()
    base = {k: med([r[k] for r in results["plain"]]) for k in ("shell", "host", "cpu", "usess")}
    say(f"\nmedians of {args.runs} alternated boots (TCG, 2 vCPUs); load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after")
    say("| image | autologin shell (guest) | vs plain | QEMU CPU to shell | vs plain | host wall |"
        " user-sessions | netlock | seatlockd | netlock CPU | seatlockd CPU (to the end of boot) |")
    say("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, rs in results.items():
        m = {k: med([r.get(k) for r in rs])
             for k in ("shell", "host", "cpu", "usess", "netlock", "seatlockd", "netlock_cpu", "seatlockd_cpu")}
        say(f"| {label} | {fmt(m['shell'])} s | {m['shell'] - base['shell']:+.2f} s | {fmt(m['cpu'])} s |"
            f" {m['cpu'] - base['cpu']:+.2f} s | {fmt(m['host'])} s | {fmt(m['usess'])} s |"
            f" {fmt(m['netlock'])} s | {fmt(m['seatlockd'])} s | {fmt(m['netlock_cpu'])} s |"
            f" {fmt(m['seatlockd_cpu'])} s |")
    report_cpu_split(results)
    for label, rs in results.items():
        say(f"\n[{label}] nf modules: {rs[-1]['mods']}\n[{label}] critical chain "
            f"(last round):\n{rs[-1]['chain']}")
        if rs[-1]["journal"].strip():
            say(f"[{label}] journal:\n{rs[-1]['journal']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"images": images, "results": results, "load": [load_before, load_after]}, f,
                      indent=1)
    say(f"logs: {run_dir}")


if __name__ == "__main__":
    main()
