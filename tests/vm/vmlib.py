"""Drives one seat VM under QEMU (TCG): boot, QMP, and the command channel to the guest agent.

Python 3 standard library only. The guest side of the command channel is guest/seatlock-vm-agent.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import time


class VmError(Exception):
    pass


class Qmp:
    """Minimal QMP client over a unix socket: one command at a time, events collected aside."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self._read_msg()  # greeting
        self.execute("qmp_capabilities")

    def _read_msg(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise VmError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, **arguments):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read_msg()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise VmError(f"QMP {command} failed: {reply['error'].get('desc')}")
            return reply.get("return")

    def close(self):
        self.sock.close()


class Agent:
    """Line protocol to guest/seatlock-vm-agent over a virtio-serial chardev socket."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.buf = b""
        self.next_id = 1

    def connect(self, deadline):
        while self.sock is None:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.path)
                self.sock = s
            except OSError:
                if time.monotonic() > deadline:
                    raise VmError("agent socket never appeared")
                time.sleep(0.2)

    def _send(self, script, timeout):
        rid = self.next_id
        self.next_id += 1
        payload = base64.b64encode(script.encode()).decode()
        self.sock.sendall(f"{rid} {int(timeout)} {payload}\n".encode())
        return rid

    def _wait(self, rid, deadline):
        """Waits for the reply to request `rid` (or to any id in the set `rid`)."""
        wanted = {str(r) for r in rid} if isinstance(rid, (set, list)) else {str(rid)}
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                parts = line.decode(errors="replace").split(" ", 2)
                if len(parts) >= 2 and parts[0] in wanted:
                    out = base64.b64decode(parts[2]).decode(errors="replace") if len(parts) == 3 else ""
                    return int(parts[1]), out
                # Stale reply (e.g. a ping queued before a reboot): ignore.
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(min(remaining, 1.0))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise VmError("agent channel closed")
            self.buf += chunk

    def run(self, script, timeout=60):
        """Runs a bash script in the guest; returns (exit code, output)."""
        rid = self._send(script, timeout)
        res = self._wait(rid, time.monotonic() + timeout + 15)
        if res is None:
            raise VmError(f"no answer from the guest within {timeout + 15}s for: {script[:80]}")
        return res

    def wait_ready(self, timeout):
        """Pings until the guest agent answers (after boot or reboot)."""
        deadline = time.monotonic() + timeout
        self.connect(deadline)
        # A loaded TCG guest may take seconds per command: any ping's answer counts, and pings
        # are re-sent only now and then (a queued one is answered once the agent runs).
        pings = set()
        while time.monotonic() < deadline:
            pings.add(self._send("echo ready", 30))
            res = self._wait(pings, min(deadline, time.monotonic() + 15))
            if res and res[1].strip() == "ready":
                return
        raise VmError(f"guest agent not ready within {timeout}s")


class UefiTpm:
    """Optional boot mode for a Vm: UEFI firmware (Debian's OVMF, Secure Boot capable build, SMM)
    with a per-test copy of a VARS file, and a TPM 2.0 emulated by swtpm, so the guest's firmware
    measures its boot into real PCRs and hands the kernel a real UEFI event log.

    OVMF still boots the image's kernel from fw_cfg (-kernel): under Secure Boot it verifies and
    measures it like any EFI application, so the kernel is re-signed with Debian's snakeoil key
    (the db of OVMF_VARS_4M.snakeoil.fd trusts it; Debian ships that key for testing). The TPM's
    state survives a QEMU restart (stop_tpm + start_tpm keep the state directory)."""

    CODE = "/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd"
    VARS_SECURE_BOOT = "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"  # snakeoil PK/KEK/db, SB on
    VARS_NO_SECURE_BOOT = "/usr/share/OVMF/OVMF_VARS_4M.fd"  # no keys enrolled: SB off
    SNAKEOIL_KEY = "/usr/share/ovmf/PkKek-1-snakeoil.key"  # passphrase "snakeoil"
    SNAKEOIL_CERT = "/usr/share/ovmf/PkKek-1-snakeoil.pem"

    def __init__(self, run_dir, kernel):
        self.dir = run_dir
        os.makedirs(self.dir, exist_ok=True)
        self.tpm_state = os.path.join(self.dir, "swtpm-state")
        self.tpm_sock = os.path.join(self.dir, "swtpm.sock")
        self.vars = os.path.join(self.dir, "OVMF_VARS.fd")
        self.kernel = os.path.join(self.dir, "vmlinuz.snakeoil.efi")
        self.tpm = None
        self._sign_kernel(kernel)
        self._manufacture_tpm()

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _sign_kernel(self, kernel):
        key = self._path("snakeoil.key")
        subprocess.run(["openssl", "pkey", "-in", self.SNAKEOIL_KEY, "-passin", "pass:snakeoil",
                        "-out", key], check=True, capture_output=True)
        os.chmod(key, 0o600)
        unsigned = self._path("vmlinuz.unsigned")
        shutil.copy(kernel, unsigned)
        subprocess.run(["sbattach", "--remove", unsigned], capture_output=True)  # Debian's signature
        res = subprocess.run(["sbsign", "--key", key, "--cert", self.SNAKEOIL_CERT, "--output",
                              self.kernel, unsigned], capture_output=True, text=True)
        os.unlink(unsigned)
        os.unlink(key)  # a public test key, but no reason to leave a decrypted copy with the logs
        if res.returncode != 0:
            raise VmError(f"sbsign of the guest kernel failed: {res.stderr.strip()}")

    def _manufacture_tpm(self):
        """A fresh TPM with its endorsement key created (as a vendor ships it), SHA-256 bank."""
        os.makedirs(self.tpm_state, exist_ok=True)
        res = subprocess.run(["swtpm_setup", "--tpm2", "--tpmstate", self.tpm_state, "--createek",
                              "--pcr-banks", "sha256", "--overwrite", "--logfile",
                              self._path("swtpm_setup.log")], capture_output=True, text=True)
        if res.returncode != 0:
            raise VmError(f"swtpm_setup failed: {res.stdout}{res.stderr}"
                          f"{open(self._path('swtpm_setup.log')).read()[-1500:]}")

    def use_vars(self, template):
        """The VARS flash the next boot starts from: a fresh copy of `template`."""
        shutil.copy(template, self.vars)
        os.chmod(self.vars, 0o600)

    def start_tpm(self):
        if self.tpm and self.tpm.poll() is None:
            return
        if os.path.exists(self.tpm_sock):
            os.unlink(self.tpm_sock)
        self.tpm = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--tpmstate", f"dir={self.tpm_state}",
             "--ctrl", f"type=unixio,path={self.tpm_sock}",
             "--log", f"file={self._path('swtpm.log')},level=1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.tpm_sock):
            if self.tpm.poll() is not None or time.monotonic() > deadline:
                raise VmError("swtpm did not start: " + open(self._path("swtpm.log")).read()[-1500:])
            time.sleep(0.1)

    def stop_tpm(self):
        if self.tpm and self.tpm.poll() is None:
            self.tpm.terminate()
            try:
                self.tpm.wait(10)
            except subprocess.TimeoutExpired:
                self.tpm.kill()
                self.tpm.wait()
        self.tpm = None

    def qemu_args(self):
        """Machine, firmware flash and TPM arguments (the Secure Boot OVMF build needs SMM)."""
        if not os.path.exists(self.vars):
            self.use_vars(self.VARS_SECURE_BOOT)
        return [
            "-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on",
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={self.CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={self.vars}",
            "-chardev", f"socket,id=chrtpm,path={self.tpm_sock}",
            "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0",
        ]


class Vm:
    """One QEMU process: a qcow2 overlay over the cached image, xhci, user networking.
    With `uefi` (a UefiTpm) it boots through OVMF with a swtpm TPM instead of plain -kernel."""

    def __init__(self, image_dir, run_dir, cmdline_extra="", netns=None, memory=1024, share_dir=None,
                 uefi=None):
        self.uefi = uefi
        self.image_dir = image_dir
        self.share_dir = share_dir  # read-only 9p share (mount tag "share"): the .debs for upgrades
        self.run_dir = run_dir
        self.cmdline_extra = cmdline_extra
        self.netns = netns
        self.memory = memory
        self.proc = None
        self.qmp = None
        self.agent = None
        self.usb_ids = set()

    def _path(self, name):
        return os.path.join(self.run_dir, name)

    def start(self, keep_disk=False):
        """Starts QEMU on a fresh overlay, or (keep_disk) on the previous run's overlay: a power
        cycle that keeps what the guest wrote."""
        os.makedirs(self.run_dir, exist_ok=True)
        overlay = self._path("disk.qcow2")
        if os.path.exists(overlay) and not keep_disk:
            os.unlink(overlay)
        if not os.path.exists(overlay):
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                            os.path.join(self.image_dir, "disk.ext4"), overlay], check=True)
        cmdline = "root=/dev/vda rw console=ttyS0 quiet loglevel=4 " + self.cmdline_extra
        argv = [
            "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-smp", "2", "-m", str(self.memory),
            "-no-user-config", "-nodefaults",
            # A display only so QMP input-send-event can address the USB keyboard bound to it.
            "-display", "none", "-device", "bochs-display,id=video0,romfile=",
            "-kernel", self.uefi.kernel if self.uefi else os.path.join(self.image_dir, "vmlinuz"),
            "-initrd", os.path.join(self.image_dir, "initrd.img"),
            "-append", cmdline.strip(),
            "-drive", f"file={overlay},format=qcow2,if=virtio,cache=unsafe",
            "-device", "qemu-xhci,id=xhci,p2=15,p3=15",
            "-netdev", "user,id=n0,net=10.0.2.0/24",
            "-device", "virtio-net-pci,netdev=n0,romfile=",
            "-chardev", f"socket,id=qmp,path={self._path('qmp.sock')},server=on,wait=off",
            "-mon", "chardev=qmp,mode=control",
            "-chardev", f"socket,id=agent,path={self._path('agent.sock')},server=on,wait=off",
            "-device", "virtio-serial-pci",
            "-device", "virtserialport,chardev=agent,name=org.seatlock.vmagent",
            "-serial", f"file:{self._path('console.log')}",
            "-device", "virtio-rng-pci",
        ]
        if self.uefi:
            self.uefi.start_tpm()
            argv += self.uefi.qemu_args()
        if self.share_dir:
            argv += ["-virtfs", f"local,path={self.share_dir},mount_tag=share,security_model=none,readonly=on"]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        for s in ("qmp.sock", "agent.sock"):
            if os.path.exists(self._path(s)):
                os.unlink(self._path(s))
        self.qemu_log = open(self._path("qemu.log"), "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not os.path.exists(self._path("qmp.sock")):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise VmError("QEMU did not start: " + open(self._path("qemu.log")).read()[-2000:])
            time.sleep(0.1)
        self.qmp = Qmp(self._path("qmp.sock"))
        self.agent = Agent(self._path("agent.sock"))

    def wait_booted(self, timeout=240):
        self.agent.wait_ready(timeout)

    def run(self, script, timeout=60):
        return self.agent.run(script, timeout)

    def ok(self, script, timeout=60):
        """Runs a script that must succeed; returns its output."""
        rc, out = self.run(script, timeout)
        if rc != 0:
            raise VmError(f"guest command failed ({rc}): {script[:100]}\n{out[-1500:]}")
        return out

    # ---- USB hot-plug over QMP ----------------------------------------------------------------
    def plug_stick(self, dev_id, image, serial):
        self.qmp.execute("blockdev-add", **{"driver": "raw", "node-name": f"{dev_id}-blk",
                                            "file": {"driver": "file", "filename": image}})
        self.plug(dev_id, "usb-storage", drive=f"{dev_id}-blk", serial=serial, removable=True)

    def plug(self, dev_id, driver, **props):
        self.qmp.execute("device_add", driver=driver, id=dev_id, bus="xhci.0", **props)
        self.usb_ids.add(dev_id)

    def unplug(self, dev_id, timeout=20):
        self.qmp.execute("device_del", id=dev_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(e.get("event") == "DEVICE_DELETED" and e.get("data", {}).get("device") == dev_id
                       for e in self.qmp.events):
                self.qmp.execute("query-status")  # pumps pending events
                time.sleep(0.2)
                continue
            break
        self.usb_ids.discard(dev_id)
        try:
            self.qmp.execute("blockdev-del", **{"node-name": f"{dev_id}-blk"})
        except VmError:
            pass  # not a stick

    def reboot(self):
        """Guest-initiated reboot; the agent reconnects when the new boot reaches it."""
        self.agent._send("systemctl reboot", 5)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.qmp.execute("quit")
            except Exception:
                self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
