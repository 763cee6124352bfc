"""A real seatlock console for the browser tests: throw-away PKI (openssl CLI), a SQLite store
filled through the real ingest path (seatlock_console_fill posting to /v1/events with enrollment
tokens), accounts made with `seatlock-collector user add`, a fleet tree with one group, and
`seatlock-collector serve --console-listen 127.0.0.1:0`."""

import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

COLLECTOR = os.environ.get("SEATLOCK_COLLECTOR", "")
FILL = os.environ.get("SEATLOCK_CONSOLE_FILL", "")

# Seats of the fleet tree; cc-0201/cc-0202 form group floor-2; cc-0301 goes silent 3 days ago.
SEATS = ["cc-0101", "cc-0102", "cc-0201", "cc-0202", "cc-0301"]
PASSWORDS = {
    "audit.wang": ("auditor", "correct horse 1"),
    "it.admin": ("admin", "correct horse 2"),
    "audit.locked": ("auditor", "correct horse 3"),
}


def run(args, stdin=None, check=True):
    r = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}")
    return r


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Console:
    def __init__(self, events=3000, days=14):
        if not COLLECTOR or not FILL:
            raise RuntimeError("SEATLOCK_COLLECTOR and SEATLOCK_CONSOLE_FILL must name the built tools")
        self.dir = tempfile.mkdtemp(prefix="seatlock-console-")
        self.db = os.path.join(self.dir, "collector.db")
        self._pki()
        self._fleet()
        tokens = {}
        for seat in SEATS:
            out = run([COLLECTOR, "enroll", "--db", self.db, "--seat", seat]).stdout
            tokens[seat] = out.splitlines()[0].strip()
        for name, (role, password) in PASSWORDS.items():
            run([COLLECTOR, "user", "add", name, "--role", role, "--password-stdin", "--db", self.db],
                stdin=password + "\n")
        self._serve()
        args = [FILL, "--url", f"https://127.0.0.1:{self.port}/v1/events", "--ca", self.ca,
                "--events", str(events), "--days", str(days)]
        for seat, token in tokens.items():
            args += ["--seat", f"{seat}={token}"]
        out = run(args).stdout
        self.stored = int(out.split()[-1])

    def _pki(self):
        d = self.dir
        self.ca, self.cert, self.key = f"{d}/ca.pem", f"{d}/server.pem", f"{d}/server.key"
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{d}/ca.key", "-out", self.ca, "-days", "2", "-subj", "/CN=console-test-ca"])
        write(f"{d}/server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", self.key, "-out", f"{d}/server.csr", "-subj", "/CN=collector.test"])
        run(["openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", self.ca, "-CAkey", f"{d}/ca.key",
             "-CAcreateserial", "-out", self.cert, "-days", "2", "-extfile", f"{d}/server.ext"])

    def _fleet(self):
        d = self.dir
        self.tree, self.fleet_key, self.bundles = f"{d}/tree", f"{d}/fleet.key", f"{d}/bundles"
        self.fleet_config = f"{d}/fleet.json"
        write(f"{self.tree}/groups.json", json.dumps(
            {"seats": SEATS, "groups": [{"name": "floor-2", "match": ["cc-02*"]},
                                        {"name": "floor-3", "match": ["cc-03*"]}]}))
        write(f"{self.tree}/all/10-base.json", json.dumps(
            {"network": {"mode": "enforce", "dns": ["10.0.0.53"],
                         "allow": [{"to": "10.20.0.0/16", "ports": [443], "essential": True}]}}))
        run([COLLECTOR, "fleet", "keygen", "--out", self.fleet_key])
        write(self.fleet_config, json.dumps({"tree": self.tree, "key": self.fleet_key,
                                             "bundles": self.bundles, "store": "sqlite:" + self.db}))

    def _serve(self):
        self.proc = subprocess.Popen(
            [COLLECTOR, "serve", "--listen", "127.0.0.1:0", "--console-listen", "127.0.0.1:0",
             "--db", self.db, "--cert", self.cert, "--key", self.key, "--ca", self.ca,
             "--fleet-config", self.fleet_config, "--bundles", self.bundles],
            stdout=subprocess.PIPE, text=True)
        # "listening 127.0.0.1:PORT", then "console listening 127.0.0.1:PORT".
        first = self.proc.stdout.readline().strip()
        second = self.proc.stdout.readline().strip()
        if not first.startswith("listening ") or not second.startswith("console listening "):
            self.close()
            raise RuntimeError(f"collector did not start with a console: {first!r} {second!r}")
        self.port = int(first.rsplit(":", 1)[1])
        self.console_port = int(second.rsplit(":", 1)[1])
        self.base = f"https://127.0.0.1:{self.console_port}"

    def cli(self, *args, check=True):
        return run([COLLECTOR, *args], check=check)

    def close(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    # A script's view of the API (urllib with the test CA), e.g. to use a browser's session
    # cookie outside the browser. Returns (status, parsed JSON or None).
    def request(self, method, path, body=None, headers=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, None


def wait_for(predicate, timeout=20, what="condition"):
    """Polls predicate() until it returns something truthy (returned) or fails after timeout.
    An element that the page replaced or has not drawn yet counts as "not yet": pages redraw
    their tables when an answer arrives."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (StaleElementReferenceException, NoSuchElementException) as e:
            last = f"{type(e).__name__}"
            time.sleep(0.1)
            continue
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
