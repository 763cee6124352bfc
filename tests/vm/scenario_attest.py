"""Scenario 12 (issue 17): TPM firmware attestation of a seat booted through UEFI.

A second seat, booted by OVMF with Secure Boot enforced and a swtpm TPM 2.0, so its firmware
measures the boot and the kernel gets a real UEFI event log. Its image is the suite's image
built with its own /etc/seatlock (build_image.sh --policy-dir: cached like the main image): the
site policy plus `firmware.attestation`, its own seat id and client certificate, as IT would
deploy a seat with a TPM. The suite's main VM is paused meanwhile (2 cores).

1. First boot, Secure Boot on: seatlockd enrolls (credential activation against the swtpm EK),
   its first quote is `drift` (no baseline yet); IT records the baseline (`attest baseline`
   with a ticket); the next round is `verified`, and so is the round after a power cycle.
2. Power cycle with the Secure-Boot-off VARS (no keys enrolled): the round seatlockd runs at
   start is `drift`, naming Secure Boot and the PK/KEK/db that differ.
3. A seat that lies: root bind-mounts `SecureBoot=1`/`SetupMode=0` efivars and the first boot's event log
   over the real ones and restarts seatlockd. The seat's own check now says Secure Boot passes,
   but the quote is over the real PCRs: the collector's verdict is `failed` (the log does not
   replay to the quoted PCRs). With the real log and only the efivars faked, the collector
   fails it too: the snapshot contradicts the proven Secure Boot state.
"""
import json
import os
import shutil
import subprocess
import time

from hostside import sh
from scenarios import Fail, check, site_policy
from vmlib import UefiTpm, Vm

TPM_SEAT_ID = "seat-vm-tpm-01"
EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
SECURE_BOOT_VAR = f"/sys/firmware/efi/efivars/SecureBoot-{EFI_GLOBAL}"
SETUP_MODE_VAR = f"/sys/firmware/efi/efivars/SetupMode-{EFI_GLOBAL}"
EVENT_LOG = "/sys/kernel/security/tpm0/binary_bios_measurements"
BASELINE_TICKET = "VM-IMG-17"


def tpm_seat_pki(pki):
    """The TPM seat's client certificate (CN = its seat id), made once per work directory."""
    key, pem = os.path.join(pki, "tpm-seat.key"), os.path.join(pki, "tpm-seat.pem")
    if not os.path.exists(pem):
        csr, ext = os.path.join(pki, "tpm-seat.csr"), os.path.join(pki, "tpm-seat.ext")
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", key, "-out", csr, "-subj", f"/CN={TPM_SEAT_ID}")
        with open(ext, "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        sh("openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(pki, "ca.pem"), "-CAkey",
           os.path.join(pki, "ca.key"), "-CAcreateserial", "-out", pem + ".tmp", "-days", "3650",
           "-extfile", ext)
        os.rename(pem + ".tmp", pem)
    return key, pem


def write_tpm_site(workdir, pki):
    """/etc/seatlock of the TPM seat: the suite's site policy with attestation on, its seat id."""
    key, pem = tpm_seat_pki(pki)
    site = os.path.join(workdir, "site-tpm")
    shutil.rmtree(site, ignore_errors=True)
    os.makedirs(os.path.join(site, "policy.d"))
    os.makedirs(os.path.join(site, "tls"), mode=0o700)
    policy = site_policy()
    # A long interval: the rounds of this scenario are the one at start and the requested ones.
    policy["firmware"] = {"attestation": {"tpm": "device:/dev/tpmrm0", "interval": "6h"}}
    with open(os.path.join(site, "policy.d", "50-vm-site.json"), "w") as f:
        f.write("// VM suite site policy for the TPM seat (tests/vm/scenario_attest.py)\n")
        json.dump(policy, f, indent=2)
    with open(os.path.join(site, "policy.d", "90-seat.json"), "w") as f:
        json.dump({"report": {"seat_id": TPM_SEAT_ID}}, f, indent=2)
    shutil.copy(os.path.join(pki, "ca.pem"), os.path.join(site, "tls", "ca.pem"))
    shutil.copy(pem, os.path.join(site, "tls", "seat.pem"))
    shutil.copy(key, os.path.join(site, "tls", "seat.key"))
    os.chmod(os.path.join(site, "tls", "seat.key"), 0o600)
    return site


def build_tpm_image(workdir, deb_dir, site):
    here = os.path.dirname(os.path.abspath(__file__))
    res = subprocess.run([os.path.join(here, "build_image.sh"), "--workdir", workdir, "--deb", deb_dir,
                          "--policy-dir", site], stdout=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise Fail(f"the TPM seat's image did not build (exit {res.returncode})")
    return res.stdout.strip()


class AttestScenario:
    def __init__(self, suite):
        self.suite = suite
        self.collector = suite.collector
        self.dir = os.path.join(suite.run_dir, "uefi-tpm")
        self.vm = None
        self.uefi = None
        self.notes = []

    # ---- the collector, as the auditor reads it ----------------------------------------------
    def attest_cli(self, *args):
        return sh(self.collector.binary, "attest", *args, "--db", self.collector.db, "--seat",
                  TPM_SEAT_ID, check=False)

    def verdicts(self):
        """The collector's own verdicts for the TPM seat, newest first (`attest show --json`)."""
        res = self.attest_cli("show", "--json", "--limit", "1000")
        if res.returncode != 0:
            return []
        return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]

    def wait_verdict(self, seen, timeout=420):
        """Waits for a verdict newer than the `seen` ones; returns it. seatlockd attests at start;
        should that round not reach the collector (say the network was still coming up: it
        records firmware.unattested), IT's `seatlockctl firmware attest` asks for another."""
        deadline = time.monotonic() + timeout
        nudge = time.monotonic() + 120
        while time.monotonic() < deadline:
            v = self.verdicts()
            if len(v) > seen:
                return v[0]
            if time.monotonic() > nudge:
                self.guest("seatlockctl firmware attest --no-wait >/dev/null 2>&1; true")
                nudge = time.monotonic() + 120
            time.sleep(2)
        raise Fail(f"no new firmware.attested verdict for {TPM_SEAT_ID} at the collector within {timeout}s;"
                   f" seatlockd: {self.guest('seatlockctl status 2>&1 | grep -A1 attestation')[1].strip()}")

    def guest(self, script, timeout=120):
        return self.vm.run(script, timeout)

    def boot(self, vars_template, keep_disk):
        if vars_template:
            self.uefi.use_vars(vars_template)
        t0 = time.monotonic()
        self.vm.start(keep_disk=keep_disk)
        self.vm.wait_booted(timeout=900)
        rc, out = self.guest("for i in $(seq 240); do systemctl is-active -q seatlockd && break; sleep 1; done;"
                             f" echo sb=$(od -An -tu1 -j4 -N1 {SECURE_BOOT_VAR} | tr -d ' ');"
                             f" echo log=$(wc -c < {EVENT_LOG}); systemctl is-active seatlockd", timeout=300)
        check(rc == 0 and out.split()[-1:] == ["active"], f"seatlockd did not start on the UEFI seat: {out.strip()}")
        self.notes.append(f"boot {time.monotonic() - t0:.0f}s")
        return out

    def power_cycle(self, vars_template):
        """Off (after a sync: the overlay is cache=unsafe) and on again on the same disk and TPM;
        vars_template None keeps the VARS flash as the firmware left it."""
        self.guest("sync")
        self.save_journal()
        self.vm.stop()
        self.uefi.stop_tpm()
        return self.boot(vars_template, keep_disk=True)

    def request_round(self, seen):
        self.guest("seatlockctl firmware attest --no-wait >/dev/null 2>&1; true")
        return self.wait_verdict(seen)

    def save_journal(self):
        try:
            out = self.guest("journalctl -b -u seatlockd --no-pager | tail -80; seatlockctl status", timeout=60)[1]
            with open(os.path.join(self.dir, "seatlockd-journal.txt"), "a") as f:
                f.write(out)
        except Exception:  # the guest may be down: the scenario's own error is the one to show
            pass

    # ---- the scenario ---------------------------------------------------------------------------
    def run(self):
        workdir = os.path.dirname(self.suite.run_dir)
        check(self.suite.vm.share_dir, "needs the seatlock .deb (run with --deb)")
        missing = [t for t in ("swtpm", "swtpm_setup", "sbsign", "sbattach") if not shutil.which(t)]
        missing += [f for f in (UefiTpm.CODE, UefiTpm.VARS_SECURE_BOOT, UefiTpm.VARS_NO_SECURE_BOOT,
                                UefiTpm.SNAKEOIL_KEY) if not os.path.exists(f)]
        check(not missing, f"missing {', '.join(missing)} (install scripts/deps.d/vm.txt)")
        image = build_tpm_image(workdir, self.suite.vm.share_dir, write_tpm_site(workdir, self.collector.pki))
        self.uefi = UefiTpm(self.dir, os.path.join(image, "vmlinuz"))
        self.vm = Vm(image, self.dir, cmdline_extra="usbcore.authorized_default=0", netns=self.suite.vm.netns,
                     uefi=self.uefi)
        self.suite.vm.qmp.execute("stop")  # the main seat waits: two TCG guests on 2 cores is too slow
        try:
            return self.steps()
        finally:
            self.save_journal()
            self.vm.stop()
            self.uefi.stop_tpm()
            self.suite.vm.qmp.execute("cont")

    def steps(self):
        t0 = time.monotonic()
        # 1. Secure Boot enforced: enrollment, first quote (no baseline), baseline, verified.
        out = self.boot(UefiTpm.VARS_SECURE_BOOT, keep_disk=False)
        check("sb=1" in out, f"the guest did not boot with Secure Boot on: {out.strip()}")
        check("log=0" not in out and "log=" in out, f"no UEFI event log in the guest: {out.strip()}")
        first = self.wait_verdict(0)
        check(first["result"] == "drift" and any("no boot baseline" in d for d in first["differences"]),
              f"first verdict should be drift (no baseline): {first}")
        measured = first.get("measured", {})
        check(measured.get("secure_boot") == "on" and {"PK", "KEK", "db"} <= set(measured.get("secure_boot_db", {})),
              f"the event log should prove Secure Boot on with PK/KEK/db: {measured}")
        show = self.attest_cli("show").stdout
        check("AK pinned" in show, f"no AK pinned for {TPM_SEAT_ID}: {show}")
        res = self.attest_cli("baseline", "--ticket", BASELINE_TICKET)
        check(res.returncode == 0 and '"secure_boot": "on"' in res.stdout,
              f"attest baseline failed or lacks Secure Boot on: {res.stdout}{res.stderr}")
        # The compliant boot's event log, kept on the seat's disk for step 3's liar.
        self.guest(f"cp {EVENT_LOG} /var/lib/good-boot-eventlog.bin && sync")
        verified = self.request_round(len(self.verdicts()))
        check(verified["result"] == "verified", f"after the baseline the seat should be verified: {verified}")
        self.notes.append(f"verified (verify {verified.get('verify_cpu_ms', 0):.2f} ms CPU,"
                          f" seat quote {verified.get('seat_quote_ms', '?')} ms,"
                          f" {len(measured.get('firmware', []))} firmware measurements)")

        # 1b. Powered off and on again with the same VARS: the baseline still holds. (A power
        # cycle, not `systemctl reboot`: under OVMF + SMM on TCG that hung once here, a soft
        # lockup right after "reboot: Restarting system".)
        seen = len(self.verdicts())
        self.power_cycle(vars_template=None)
        again = self.wait_verdict(seen)
        check(again["result"] == "verified", f"after a power cycle the seat should still be verified: {again}")

        # 2. Power cycle with Secure Boot off (VARS without keys): drift at the collector.
        seen = len(self.verdicts())
        out = self.power_cycle(UefiTpm.VARS_NO_SECURE_BOOT)
        check("sb=1" not in out, f"the guest booted with Secure Boot on: {out.strip()}")
        drift = self.wait_verdict(seen)
        diffs = drift["differences"]
        check(drift["result"] == "drift" and "secure_boot: baseline on, measured off" in diffs,
              f"Secure Boot off should be drift naming secure_boot: {drift}")
        check(any(d.startswith("secure_boot_db PK") for d in diffs), f"the drift should name the PK: {diffs}")

        # 3. The seat lies: SecureBoot=1 and the compliant boot's event log, over the real ones;
        # seatlockd restarted (its mount namespace copies these) attests at start.
        seen = len(self.verdicts())
        rc, out = self.guest(f"""
            printf '\\x06\\x00\\x00\\x00\\x01' > /run/fake-secureboot
            printf '\\x06\\x00\\x00\\x00\\x00' > /run/fake-setupmode
            mount --bind /run/fake-secureboot {SECURE_BOOT_VAR}
            mount --bind /run/fake-setupmode {SETUP_MODE_VAR}
            mount --bind /var/lib/good-boot-eventlog.bin {EVENT_LOG}
            systemctl restart seatlockd
            for i in $(seq 120); do systemctl is-active -q seatlockd && break; sleep 1; done
            seatlockctl firmware status 2>&1 | grep -i secure_boot""", timeout=240)
        check(rc == 0 and "pass" in out, f"the lie is not in place (the seat should say Secure Boot passes): {out}")
        liar = self.wait_verdict(seen)
        reasons = " ".join(liar.get("reasons", []))
        check(liar["result"] == "failed" and "does not replay to the quoted PCR" in reasons,
              f"the lying seat should fail at the collector: {liar}")
        self.notes.append(f"liar ({' '.join(out.split())}) caught: {reasons}")

        # 3b. The same lie with the real event log: the quote and log hold, the snapshot does not.
        seen = len(self.verdicts())
        self.guest(f"umount {EVENT_LOG} && systemctl restart seatlockd", timeout=240)
        liar2 = self.wait_verdict(seen)
        reasons2 = " ".join(liar2.get("reasons", []))
        check(liar2["result"] == "failed" and "the seat reports Secure Boot on" in reasons2,
              f"a snapshot contradicting the proven log should fail: {liar2}")

        # What the auditor sees: the collector's own record, and the seat's copies in the event store.
        show = self.attest_cli("show", "--limit", "50").stdout
        for text in ("firmware.attested  verified", "firmware.attested  drift", "firmware.attested  failed",
                     "differs: secure_boot: baseline on, measured off", "reason: event log does not replay",
                     "reason: the seat's firmware snapshot contradicts its quoted boot",
                     "reported by the seat (not proven)"):
            check(text in show, f"`attest show` lacks '{text}':\n{show}")
        copies = self.collector.wait_for("firmware.attestation_verdict",
                                         lambda e: e["seat"]["id"] == TPM_SEAT_ID and
                                         e["details"].get("result") == "failed", 180)
        check(copies, "the lying seat's own copy of its failed verdict (firmware.attestation_verdict) never arrived")
        kinds = {e["details"].get("result") for e in self.collector.events("firmware.attestation_verdict")
                 if e["seat"]["id"] == TPM_SEAT_ID}
        check({"verified", "drift", "failed"} <= kinds, f"seat's verdict copies at the collector: {kinds}")
        self.notes.append(f"query: firmware.attestation_verdict {sorted(kinds)}; total {time.monotonic() - t0:.0f}s")
        return "; ".join(self.notes)


def s12_tpm_attestation(suite):
    return AttestScenario(suite).run()
