#!/usr/bin/env python3
"""VM suite driver: image -> namespace + servers + collector -> boot -> scenarios -> summary.

Usually started by tests/vm/run.sh, which finds the .deb and the collector binary.
Prints "PASS <n> <name>" / "FAIL <n> <name>: why" per scenario and "N passed, M failed".
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from hostside import Collector, Netns, ensure_fleet_key, ensure_pki, start_web_servers  # noqa: E402
from scenarios import SCENARIOS, Fail, Suite, seat_policy, site_policy  # noqa: E402
from vmlib import Vm, VmError  # noqa: E402


TRANSCRIPT = []  # every line said, also written to <run dir>/transcript.txt


def say(msg):
    print(msg, flush=True)
    TRANSCRIPT.append(msg)


def write_site_dir(workdir, pki, fleet_keys=()):
    """/etc/seatlock additions as IT would deploy them: a site policy file, the seat's file (seat
    id, pinned fleet key) and the seat's TLS files."""
    site = os.path.join(workdir, "site")
    shutil.rmtree(site, ignore_errors=True)
    os.makedirs(os.path.join(site, "policy.d"))
    os.makedirs(os.path.join(site, "tls"), mode=0o700)
    with open(os.path.join(site, "policy.d", "50-vm-site.json"), "w") as f:
        f.write("// VM suite site policy (tests/vm/scenarios.py site_policy)\n")
        json.dump(site_policy(), f, indent=2)
        f.write("\n")
    # The seat's own file, as policy/examples/90-seat.json shows: the only place the seat id is
    # set (seatlockd runs with the packaged unit's flags, no --seat-id; the hostname differs).
    with open(os.path.join(site, "policy.d", "90-seat.json"), "w") as f:
        f.write("// VM suite seat file (tests/vm/scenarios.py seat_policy)\n")
        json.dump(seat_policy(fleet_keys), f, indent=2)
        f.write("\n")
    for name in ("ca.pem", "seat.pem", "seat.key"):
        shutil.copy(os.path.join(pki, name), os.path.join(site, "tls", name))
    os.chmod(os.path.join(site, "tls", "seat.key"), 0o600)
    return site


def build_image(args, site):
    argv = [os.path.join(HERE, "build_image.sh"), "--workdir", args.workdir]
    if args.deb:
        argv += ["--deb", args.deb, "--policy-dir", site]
    t0 = time.monotonic()
    res = subprocess.run(argv, stdout=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise SystemExit(f"image build failed (exit {res.returncode})")
    say(f"image ready in {time.monotonic() - t0:.0f}s: {res.stdout.strip()}")
    return res.stdout.strip()


def main():
    # SIGTERM (CTest timeout, Ctrl-C from a wrapper) still runs the cleanup below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--deb", help="directory with seatlock_*.deb (omit: plain Debian boot check only)")
    ap.add_argument("--collector", help="seatlock-collector binary for the host side")
    ap.add_argument("--only", help="comma-separated scenario numbers")
    ap.add_argument("--keep", action="store_true", help="keep the run directory (logs, disk overlay)")
    ap.add_argument("--cmdline", default="usbcore.authorized_default=0",
                    help="extra kernel parameters (default: what `seatlockctl setup boot` adds)")
    ap.add_argument("--scenarios-on-plain", action="store_true",
                    help="harness self-check: run the scenarios on plain Debian (most must FAIL there)")
    args = ap.parse_args()
    args.workdir = os.path.abspath(args.workdir)
    run_dir = os.path.join(args.workdir, f"run-{time.strftime('%Y%m%dT%H%M%S')}")
    os.makedirs(run_dir)
    say(f"run directory: {run_dir}")

    pki = ensure_pki(os.path.join(args.workdir, "pki"))
    fleet_keys = [ensure_fleet_key(pki, args.collector)] if args.deb and args.collector else []
    image = build_image(args, write_site_dir(args.workdir, pki, fleet_keys))
    guestlib = open(os.path.join(HERE, "guestlib.sh")).read()
    passed = failed = 0
    procs = []
    with Netns() as ns:
        vm = Vm(image, run_dir, cmdline_extra=args.cmdline if args.deb else "", netns=ns.name,
                share_dir=args.deb)
        collector = None
        try:
            procs = start_web_servers(ns, run_dir, HERE)
            if args.deb or args.scenarios_on_plain:
                collector = Collector(args.collector, ns, run_dir, pki)
                collector.start()
            t0 = time.monotonic()
            vm.start()
            vm.wait_booted(timeout=600)
            t_agent = time.monotonic() - t0
            state = vm.run("systemctl is-system-running --wait", timeout=300)[1].strip()
            say(f"booted: guest agent answered after {t_agent:.0f}s, boot finished ({state}) after "
                f"{time.monotonic() - t0:.0f}s; {vm.ok('systemd-analyze time | head -1').strip()}")
            if state != "running":  # name what failed at boot, with its journal
                failed_units = vm.ok("systemctl --failed --plain --no-legend | awk '{print $1}'").split()
                for unit in failed_units:
                    say(f"boot: {unit} failed:\n  " + vm.ok(f"journalctl -b -u {unit} --no-pager -o cat | tail -15")
                        .strip().replace("\n", "\n  "))
            if not args.deb and not args.scenarios_on_plain:
                say("plain image: " + vm.ok("uname -r; ip -4 -br addr show scope global").replace("\n", " "))
                rc, out = vm.run("curl -sS -m 10 http://10.0.2.2:8080/")
                say(f"guest -> host CRM server: rc={rc} {out.strip()}")
                passed, failed = (1, 0) if out.strip() == "CRM-OK" else (0, 1)
            else:
                rc, out = (0, "not installed (harness self-check)") if not args.deb else vm.run("for i in $(seq 120); do systemctl is-active -q seatlockd && break; sleep 1; done;"
                                 " systemctl is-active seatlockd; seatlockctl status 2>&1 | head -20", timeout=150)
                say("seatlockd: " + out.strip().replace("\n", "\n  "))
                suite = Suite(vm, collector, run_dir, guestlib)
                only = {int(x) for x in args.only.split(",")} if args.only else None
                for n, name, fn in SCENARIOS:
                    if only and n not in only:
                        continue
                    t1 = time.monotonic()
                    try:
                        note = fn(suite)
                        passed += 1
                        say(f"PASS {n} {name} ({time.monotonic() - t1:.0f}s): {note}")
                    except (Fail, VmError) as e:
                        failed += 1
                        say(f"FAIL {n} {name}: {e}")
                        for dev in list(vm.usb_ids):  # leave the bus clean for the next scenario
                            try:
                                vm.unplug(dev)
                            except VmError:
                                pass
                        if collector and collector.proc is None:
                            collector.start()
                    except Exception:
                        failed += 1
                        say(f"FAIL {n} {name}: harness error\n{traceback.format_exc()}")
                rc, out = vm.run("journalctl -b -u seatlockd -u seatlock-netlock --no-pager | tail -60")
                with open(os.path.join(run_dir, "seatlockd-journal.txt"), "w") as f:
                    f.write(out)
        except (VmError, RuntimeError) as e:
            say(f"FAIL 0 harness: {e}")
            failed += 1
        finally:
            vm.stop()
            if collector:
                collector.stop()
            for p in procs:
                p.terminate()
    say(f"logs: {run_dir} (transcript.txt, console.log, collector.log, seatlockd-journal.txt)")
    if not args.keep:
        for name in os.listdir(run_dir):
            if name.endswith((".img", ".qcow2")):
                os.unlink(os.path.join(run_dir, name))
    say(f"{passed} passed, {failed} failed")
    with open(os.path.join(run_dir, "transcript.txt"), "w") as f:
        f.write("\n".join(TRANSCRIPT) + "\n")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
