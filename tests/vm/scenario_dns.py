"""Scenario 13 (issue 16): a domain allowlist on a real seat, with the DNS guard in seatlockd.

The host side gets a DNS server for the test zone (dnsmasq on the namespace's 127.0.0.1:53, the
guest's 10.0.2.2:53 through QEMU user networking, every query logged) and a second HTTP server,
"the CRM by name", on 198.51.100.20:8081 (TEST-NET-2, put on the namespace's loopback like the
"internet" address): a public address, because the packaged default policy allows the private
ranges (10.0.0.0/8 holds 10.0.2.2) on every port, so only a name can open it. IT deploys one
more policy file on the running seat, as it would: `network.dns` names the host's DNS server and `network.allow`
names `crm.vm.test` (port 8081), then `seatlockctl reload`. The seat's own resolver setting is
slirp's DNS (10.0.2.3), which the seat never gets to talk to: every query is the guard's.

Checks, as a normal user:
* the guard resolves the allowlisted name itself as soon as it starts (the host's DNS server sees
  crm.vm.test before any client asks), so 198.51.100.20:8081 is reachable before a client's lookup;
* `crm.vm.test` resolves (getent, glibc) and curl by name reaches the CRM at once;
* `other.vm.test` (203.0.113.10 in the zone, the "internet" server) does not resolve, curl by
  name fails, and with the address forced (curl --resolve) it is not reachable either;
* the host's DNS server saw crm.vm.test and never other.vm.test (refused names stay on the seat);
* `net.dns_denied` naming other.vm.test and the user arrives at the collector.
The policy file is removed again and the seat's resolv.conf restored afterwards.
"""
import os
import subprocess
import sys
import time

from hostside import INTERNET_ADDR
from scenarios import Fail, check

DNS_PORT = 53
CRM_BY_NAME_PORT = 8081
CRM_BY_NAME_ADDR = "198.51.100.20"
ALLOWED = "crm.vm.test"
REFUSED = "other.vm.test"
POLICY_FILE = "/etc/seatlock/policy.d/60-vm-dns.json"
POLICY = (
    '{"network": {"dns": ["10.0.2.2"],\n'
    f' "allow": [{{"to": ["{ALLOWED}"], "ports": [{CRM_BY_NAME_PORT}], "proto": "tcp",'
    ' "comment": "the CRM by name (VM scenario 13)"}]}}\n')


class DnsScenario:
    def __init__(self, suite):
        self.suite = suite
        self.netns = suite.collector.netns
        self.dir = os.path.join(suite.run_dir, "dns")
        os.makedirs(self.dir, exist_ok=True)
        self.query_log = os.path.join(self.dir, "dnsmasq-queries.log")
        self.procs = []

    def g(self, script, timeout=120):
        return self.suite.g(script, timeout)

    def start_host_servers(self):
        """dnsmasq (the site resolver) and the CRM by name, on the namespace's loopback only."""
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(["ip", "-n", self.netns.name, "addr", "replace", f"{CRM_BY_NAME_ADDR}/32", "dev", "lo"],
                       check=True)
        self.procs.append(self.netns.popen(
            ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
             "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1", f"--port={DNS_PORT}",
             "--user=root", f"--pid-file={self.dir}/dnsmasq.pid", "--log-queries",
             f"--log-facility={self.query_log}", "--local-ttl=30",
             f"--host-record={ALLOWED},{CRM_BY_NAME_ADDR}", f"--host-record={REFUSED},{INTERNET_ADDR}"],
            os.path.join(self.dir, "dnsmasq.out")))
        self.procs.append(self.netns.popen(
            [sys.executable, os.path.join(here, "http_echo.py"), CRM_BY_NAME_ADDR, str(CRM_BY_NAME_PORT),
             "CRM-BY-NAME-OK"], os.path.join(self.dir, "crm-by-name.log")))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            res = self.netns_sh(f"dig +short +time=1 +tries=1 @127.0.0.1 -p {DNS_PORT} {ALLOWED}")
            if CRM_BY_NAME_ADDR in res:
                return
            time.sleep(0.3)
        raise Fail("the host-side DNS server (dnsmasq) did not answer: "
                   + open(os.path.join(self.dir, "dnsmasq.out")).read()[-800:])

    def netns_sh(self, command):
        return subprocess.run(["ip", "netns", "exec", self.netns.name, "sh", "-c", command],
                              capture_output=True, text=True).stdout

    def stop_host_servers(self):
        for p in self.procs:
            p.terminate()
            p.wait(10)

    def resolver_saw(self, name):
        return os.path.exists(self.query_log) and name in open(self.query_log).read()

    def run(self):
        self.start_host_servers()
        try:
            return self.checks()
        finally:
            self.g(f"rm -f {POLICY_FILE}; seatlockctl reload; "
                   "[ -e /etc/resolv.conf.vm13 ] && mv -f /etc/resolv.conf.vm13 /etc/resolv.conf; true")
            self.stop_host_servers()

    def checks(self):
        t0 = time.monotonic()
        rc, out = self.g(f"""
            id agent1 >/dev/null 2>&1 || useradd -m agent1
            cp -a /etc/resolv.conf /etc/resolv.conf.vm13 2>/dev/null || true
            echo 'nameserver 10.0.2.3' > /etc/resolv.conf
            cat > {POLICY_FILE} <<'EOF'
{POLICY}EOF
            seatlockctl reload || exit 1
            for i in $(seq 60); do seatlockctl status | grep -qE '^ *dns +running' && break; sleep 1; done
            seatlockctl status | grep -E '^ *dns '""", timeout=180)
        check(rc == 0 and "running" in out, f"the DNS guard did not start after the reload: {out.strip()}")
        guard_status = " ".join(out.split())
        # Names on the allowlist are resolved when the guard starts, so the first use is fast.
        deadline = time.monotonic() + 30
        while not self.resolver_saw(ALLOWED) and time.monotonic() < deadline:
            time.sleep(1)
        check(self.resolver_saw(ALLOWED),
              f"the guard did not resolve {ALLOWED} at start: the host's DNS server never saw it")
        rc, out = self.g(f"""
            as() {{ setpriv --reuid=agent1 --regid=agent1 --init-groups "$@"; }}
            echo "before-lookup: $(as curl -sS -m 8 http://{CRM_BY_NAME_ADDR}:{CRM_BY_NAME_PORT}/ 2>&1)"
            echo "resolve-allowed: $(as getent ahostsv4 {ALLOWED} | head -1) rc=${{PIPESTATUS[0]}}"
            echo "crm-by-name: $(as curl -sS -m 8 http://{ALLOWED}:{CRM_BY_NAME_PORT}/ 2>&1)"
            as getent ahostsv4 {REFUSED} >/dev/null; echo "resolve-refused: rc=$?"
            echo "curl-refused-name: $(as curl -sS -m 8 http://{REFUSED}/ 2>&1)"
            echo "curl-refused-forced: $(as curl -sS -m 8 --resolve {REFUSED}:80:{INTERNET_ADDR} http://{REFUSED}/ 2>&1)"
            """, timeout=240)
        check(rc == 0, f"the DNS probes did not run: {out}")
        lines = {ln.split(":", 1)[0]: ln.split(":", 1)[1].strip() for ln in out.splitlines() if ":" in ln}
        summary = " | ".join(ln.strip() for ln in out.strip().splitlines())
        check(lines.get("before-lookup") == "CRM-BY-NAME-OK",
              f"the CRM's address, resolved by the guard at start, was not reachable: {summary}")
        check(lines.get("resolve-allowed", "").startswith(CRM_BY_NAME_ADDR + " "),
              f"{ALLOWED} did not resolve through the guard: {summary}")
        check(lines.get("crm-by-name") == "CRM-BY-NAME-OK", f"curl by name did not reach the CRM: {summary}")
        check(lines.get("resolve-refused") == "rc=2", f"{REFUSED} resolved (getent should say not found): {summary}")
        check("Could not resolve host" in lines.get("curl-refused-name", ""),
              f"curl by the refused name did not fail to resolve: {summary}")
        check("INTERNET-REACHED" not in out, f"the refused name's address was reachable: {summary}")
        check(self.resolver_saw(ALLOWED), f"the host's DNS server never saw {ALLOWED} (who answered it?)")
        check(not self.resolver_saw(REFUSED), f"{REFUSED} reached the host's DNS server: the guard forwarded it")
        denied = self.suite.collector.wait_for(
            "net.dns_denied", lambda e: e["details"].get("name") == REFUSED, 150)
        check(denied, f"net.dns_denied for {REFUSED} did not reach the collector within 150s")
        d = denied[0]["details"]
        check(d.get("user") == "agent1", f"net.dns_denied names {d.get('user')!r}, not the asker agent1: {d}")
        return (f"{guard_status}; {summary}; resolver log: {ALLOWED} only; net.dns_denied {REFUSED}"
                f" user {d.get('user')} count {d.get('count')} ({time.monotonic() - t0:.0f}s)")


def s13_dns_allowlist(suite):
    return DnsScenario(suite).run()
