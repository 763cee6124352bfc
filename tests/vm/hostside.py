"""The host side of the VM suite: a private network namespace with the "CRM", an "internet"
server and seatlock-collector, plus the test PKI.

Everything listens inside a network namespace this harness creates (sl-vm-<pid>); QEMU runs
there too, so the guest's user networking (10.0.2.2 -> the namespace's loopback) can reach
nothing but these servers. The "internet" address 203.0.113.10 (TEST-NET-3) is put on the
namespace's loopback: if the seat's egress policy failed, the guest would reach our own server,
never a real host.
"""
import json
import os
import subprocess
import sys
import time

SEAT_ID = "seat-vm-01"
GUEST_HOSTNAME = "cc-floor3-pc17"  # set in guest/customize.sh; differs from SEAT_ID on purpose
CRM_PORT = 8080
INTERNET_ADDR = "203.0.113.10"
COLLECTOR_PORT = 8443


def sh(*argv, check=True, **kw):
    return subprocess.run(list(argv), check=check, text=True, capture_output=True, **kw)


class Netns:
    def __init__(self):
        self.name = f"sl-vm-{os.getpid()}"

    def __enter__(self):
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.name, "link", "set", "lo", "up")
        sh("ip", "-n", self.name, "addr", "add", f"{INTERNET_ADDR}/32", "dev", "lo")
        return self

    def __exit__(self, *exc):
        sh("ip", "netns", "del", self.name, check=False)

    def popen(self, argv, log_path):
        log = open(log_path, "a")
        return subprocess.Popen(["ip", "netns", "exec", self.name] + argv, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)


def ensure_pki(pki_dir):
    """CA, collector server certificate (for 10.0.2.2) and the seat's client certificate.
    Made once per work directory so the image cache key stays stable across runs."""
    if os.path.exists(os.path.join(pki_dir, "seat.key")):
        return pki_dir
    os.makedirs(pki_dir, exist_ok=True)
    p = lambda n: os.path.join(pki_dir, n)  # noqa: E731
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "3650", "-subj", "/CN=seatlock VM test CA")
    for name, subj, ext in (("server", "/CN=10.0.2.2", "subjectAltName=IP:10.0.2.2,IP:127.0.0.1"),
                            ("seat", f"/CN={SEAT_ID}", "extendedKeyUsage=clientAuth")):
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", p(f"{name}.key"), "-out", p(f"{name}.csr"), "-subj", subj)
        with open(p(f"{name}.ext"), "w") as f:
            f.write(ext + "\n")
        sh("openssl", "x509", "-req", "-in", p(f"{name}.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
           "-CAcreateserial", "-out", p(f"{name}.pem"), "-days", "3650", "-extfile", p(f"{name}.ext"))
    return pki_dir


def ensure_fleet_key(pki_dir, collector_binary):
    """The fleet's Ed25519 signing key, made with `seatlock-collector fleet keygen` as IT would,
    once per work directory (like the PKI: the seat pins its public key in 90-seat.json, which
    is part of the image cache key). Returns the public key line seats pin."""
    key = os.path.join(pki_dir, "fleet.key")
    if not os.path.exists(key + ".pub"):
        sh(collector_binary, "fleet", "keygen", "--out", key)
    return open(key + ".pub").read().split("\n")[0].strip()


class Collector:
    """seatlock-collector serve in the namespace, and queries against its database.

    It serves fleet bundles from `bundles` (`serve --bundles`, as a packaged collector does):
    empty until a scenario publishes a fleet tree (scenario_fleet.py), so seats poll and get
    nothing (204) meanwhile."""

    def __init__(self, binary, netns, run_dir, pki_dir):
        self.binary = binary
        self.netns = netns
        self.db = os.path.join(run_dir, "collector.db")
        self.log = os.path.join(run_dir, "collector.log")
        self.bundles = os.path.join(run_dir, "fleet-bundles")
        self.pki = pki_dir
        self.proc = None

    def start(self):
        pki = lambda n: os.path.join(self.pki, n)  # noqa: E731
        os.makedirs(self.bundles, exist_ok=True)
        self.proc = self.netns.popen(
            [self.binary, "serve", "--db", self.db, "--cert", pki("server.pem"), "--key", pki("server.key"),
             "--ca", pki("ca.pem"), "--listen", f"127.0.0.1:{COLLECTOR_PORT}", "--require-client-cert",
             "--bundles", self.bundles],
            self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("collector exited: " + open(self.log).read()[-1500:])
            probe = sh("ip", "netns", "exec", self.netns.name, "bash", "-c",
                       f"exec 3<>/dev/tcp/127.0.0.1/{COLLECTOR_PORT}", check=False)
            if probe.returncode == 0:
                return
            time.sleep(0.3)
        raise RuntimeError("collector did not start listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def events(self, kind=None):
        if not os.path.exists(self.db):
            return []
        argv = [self.binary, "query", "--db", self.db, "--json"]
        if kind:
            argv += ["--kind", kind]
        res = sh(*argv, check=False)
        if res.returncode != 0:
            print(f"  (collector query failed: {res.stderr.strip()[:300]})", file=sys.stderr)
            return []
        return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]

    def seats(self):
        """`seatlock-collector seats --json`: what the auditor's silent-seat check shows."""
        if not os.path.exists(self.db):
            return []
        res = sh(self.binary, "seats", "--db", self.db, "--json", check=False)
        return json.loads(res.stdout) if res.returncode == 0 and res.stdout.strip() else []

    def wait_for(self, kind, match, timeout, count=1):
        """Events of `kind` for which match(event) holds; waits until at least `count` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events(kind) if match(e)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(2)


def start_web_servers(netns, run_dir, here):
    """The CRM on 127.0.0.1:8080 (the guest's 10.0.2.2:8080) and the internet-like server."""
    server = os.path.join(here, "http_echo.py")
    crm = netns.popen([sys.executable, server, "127.0.0.1", str(CRM_PORT), "CRM-OK"],
                      os.path.join(run_dir, "crm.log"))
    net = netns.popen([sys.executable, server, INTERNET_ADDR, "80", "INTERNET-REACHED"],
                      os.path.join(run_dir, "internet.log"))
    time.sleep(0.5)
    for p in (crm, net):
        if p.poll() is not None:
            raise RuntimeError("a test web server failed to start (see crm.log / internet.log)")
    return [crm, net]
