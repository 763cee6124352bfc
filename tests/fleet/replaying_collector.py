#!/usr/bin/env python3
"""A collector that hands a seat whatever signed bundle the test drops in, for the refusals a
real collector never produces on its own: another seat's bundle, an older one (rollback), the
one in force again (replay). What a compromised collector host or a man in the middle could do.

usage: replaying_collector.py CERT KEY DIR
GET /v1/policy: answers 200 with the lowest-numbered DIR/serve-<n>.json (then renamed
  served-<n>.json), else waits up to a second and answers 204.
POST /v1/events: stores nothing, answers 200 and appends every event line to DIR/events.ndjson.
Prints "listening 127.0.0.1:PORT" first.
"""
import gzip, http.server, json, os, ssl, sys, threading, time

cert, key, root = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()


def next_bundle():
    with lock:
        names = sorted((f for f in os.listdir(root) if f.startswith("serve-")),
                       key=lambda f: int(f[6:].split(".")[0]))
        if not names:
            return None
        path = os.path.join(root, names[0])
        with open(path, "rb") as f:
            body = f.read()
        os.rename(path, os.path.join(root, "served-" + names[0][6:]))
        return body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if not self.path.startswith("/v1/policy"):
            return self.reply(404)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            body = next_bundle()
            if body is not None:
                return self.reply(200, body)
            time.sleep(0.05)
        self.reply(204)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        lines = [json.loads(l) for l in body.decode().splitlines() if l]
        with lock, open(os.path.join(root, "events.ndjson"), "a") as f:
            for l in lines:
                f.write(json.dumps(l) + "\n")
        last = lines[-1]["seq"] if lines else 0
        self.reply(200, json.dumps({"stored": len(lines), "duplicates": 0,
                                    "last_seq": last}).encode())

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("listening 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
